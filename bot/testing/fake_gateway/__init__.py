"""A simulated MindProxy task gateway: a real HTTP server following the task API's spec.

The tests and the benchmark use it in place of the real gateway, and `python -m bot simulate` runs it
for an operator who wants to try the bot in a real Discord server before having an API key.
"""

from bot.testing.fake_gateway.faults import Fault, FaultAction, Hold
from bot.testing.fake_gateway.records import RecordedRequest
from bot.testing.fake_gateway.script import FakeTask, Script, Step
from bot.testing.fake_gateway.server import CreateRequest, FakeGateway

__all__ = [
    "CreateRequest",
    "FakeGateway",
    "FakeTask",
    "Fault",
    "FaultAction",
    "Hold",
    "RecordedRequest",
    "Script",
    "Step",
]

"""`UserFacingError`: a refusal the user caused and should read, raised anywhere in a command's flow.

The one command error handler (`BotCommandTree.on_error`) answers it privately with its message and
logs it at INFO: it is an expected outcome, not a bug. Everything else is a bug: logged with its
traceback, and the user gets a generic apology.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """`message` is shown to the user as is (ephemeral); `log_detail` goes to the log only."""

    def __init__(self, message: str, *, log_detail: str | None = None) -> None:
        super().__init__(log_detail or message)
        self.message = message
        self.log_detail = log_detail or message

"""`python -m bot simulate`: a simulated MindProxy gateway on this machine, to try the bot without a key.

Start it, then run the bot with `MINDPROXY_BASE_URL=http://127.0.0.1:8080` (any `TT_API_KEY` is
accepted). Every task is queued, then processing with progress, then succeeds with a placeholder image
(or video) that the simulator serves itself; a prompt containing `--fail` fails instead, so the failure
message can be seen too. The benchmark runs the same command with `--port 0 --stats`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # imported when the simulator runs: `python -m bot` stays light for other commands
    from bot.testing.fake_gateway import CreateRequest, FakeGateway, Script

FAIL_FLAG = "--fail"
PROGRESS = ("25%", "50%", "75%")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any key)")
    parser.add_argument("--min-duration", type=float, default=6.0, help="shortest task, seconds")
    parser.add_argument("--max-duration", type=float, default=12.0, help="longest task, seconds")
    parser.add_argument("--max-rps", type=float, default=None, help="answer 429 above this request rate")
    parser.add_argument("--seed", type=int, default=None, help="seed of the task durations")
    parser.add_argument("--stats", action="store_true", help="print request statistics (JSON) on exit")


def simulated_script(
    gateway: FakeGateway, min_duration: float, max_duration: float, seed: int | None
) -> Callable[[CreateRequest], Script]:
    """Each new task: a random duration in the range, progress, and a placeholder result (or `--fail`)."""
    from bot.engine.api.models import TaskType
    from bot.testing.fake_gateway import Script

    rng = random.Random(seed)  # noqa: S311  # durations only; nothing secret

    def script(create: CreateRequest) -> Script:
        after = rng.uniform(min_duration, max_duration)
        if FAIL_FLAG in create.prompt:
            return Script.failure(
                after=after / 2,
                code="simulated_failure",
                message="simulated failure (the prompt asked for it)",
            )
        name = uuid.uuid4().hex
        if create.task_type is TaskType.VIDEO:
            assets = {
                "video_url": gateway.asset_url(f"{name}.mp4"),
                "thumbnail_url": gateway.asset_url(f"{name}.png"),
                "seed": rng.randrange(1, 2**31),
            }
        else:
            assets = {"image_url": gateway.asset_url(f"{name}.png"), "seed": rng.randrange(1, 2**31)}
        return Script.success(after=after, assets=assets, progress=PROGRESS)

    return script


async def run_simulator(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    if not 0 < args.min_duration <= args.max_duration:
        print("simulate: need 0 < --min-duration <= --max-duration", file=sys.stderr)  # noqa: T201
        return 2
    from bot.testing.fake_gateway import FakeGateway

    gateway = FakeGateway(api_key=args.api_key, max_rps=args.max_rps, host=args.host, port=args.port)
    gateway.default_script = simulated_script(gateway, args.min_duration, args.max_duration, args.seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await gateway.start()
    except OSError as error:
        print(f"simulate: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)  # noqa: T201
        return 1
    try:
        # The first line is read by the benchmark to find the port; keep its shape.
        print(f"simulated MindProxy gateway listening on {gateway.base_url}", file=out, flush=True)
        print(
            f"run the bot with MINDPROXY_BASE_URL={gateway.base_url} (any TT_API_KEY); "
            f"put {FAIL_FLAG} in a prompt to see a failure; Ctrl+C stops",
            file=out,
            flush=True,
        )
        await stop.wait()
    finally:
        await gateway.stop()
    if args.stats:
        print(json.dumps(gateway.stats(include_tasks=False)), file=out, flush=True)
    return 0

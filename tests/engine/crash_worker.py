"""A bot-less engine process for the crash/restart tests (test_crash_recovery.py kills it with SIGKILL).

    python -m tests.engine.crash_worker --db PATH --base-url URL --api-key KEY --reports FILE
        [--submit N --prefix P]

Opens the SQLite store at PATH, runs a `TaskEngine` against the gateway at URL whose notifier appends
one JSON line per report to FILE (fsynced before it returns, so a report the engine considers
delivered is on disk), optionally submits and confirms N tasks, prints `READY` and runs until SIGTERM
(a graceful stop) or SIGKILL (the crash under test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from pathlib import Path

from bot.engine.api.client import TaskApiClient
from bot.engine.api.models import TaskType
from bot.engine.config import EngineConfig
from bot.engine.notifier import TaskUpdate
from bot.engine.store.interface import NewTask
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.engine.task_engine import TaskEngine

CONFIG = EngineConfig(
    poll_interval=0.05,
    max_in_flight=16,
    task_max_age=60.0,
    progress_interval=0.1,
    max_backoff=0.3,
    confirm_grace=30.0,
    notify_retry=0.05,
    stop_timeout=2.0,
)


class FileNotifier:
    """Appends each report as one JSON line and fsyncs it before returning."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def task_updated(self, update: TaskUpdate) -> None:
        record = update.record
        line = json.dumps(
            {
                "pid": os.getpid(),
                "key": record.key,
                "kind": update.kind.value,
                "status": record.status.name if record.status is not None else None,
                "outcome": record.local_outcome.value if record.local_outcome is not None else None,
                "progress": record.progress,
                "task_id": record.task_id,
                "image_url": record.result.image_url if record.result is not None else None,
                "final": update.is_final,
            }
        )
        descriptor = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (line + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


async def run(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with (
        SqliteTaskStore(args.db) as store,
        TaskApiClient(
            base_url=args.base_url, api_key=args.api_key, timeout=2.0, max_attempts=2, backoff_base=0.01
        ) as client,
    ):
        engine = TaskEngine(client, store, config=CONFIG, notifier=FileNotifier(Path(args.reports)))
        await engine.start()
        for index in range(args.submit):
            key = f"{args.prefix}-{index}"
            await engine.submit(
                NewTask(
                    key=key,
                    task_type=TaskType.ASYNC_IMAGE,
                    model="flux-1-dev",
                    prompt=f"crash test {key}",
                    requester_id=1,
                    channel_id=2,
                )
            )
            await engine.confirm(key, message_id=index + 1)
        print("READY", flush=True)  # noqa: T201 - the parent test waits for this line
        await stop.wait()
        await engine.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--reports", required=True)
    parser.add_argument("--submit", type=int, default=0)
    parser.add_argument("--prefix", default="crash")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

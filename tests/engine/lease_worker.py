"""One engine process of the shared-database test (test_several_processes.py), on PostgreSQL.

    python -m tests.engine.lease_worker --db URL --base-url URL --api-key KEY --name NAME
        --reports FILE --leases FILE --ceiling RPS --lease-seconds S [--freeze FILE]

Runs a `TaskEngine` on the PostgreSQL store at URL, held to its share of RPS by `SharedCeiling`. Every
report goes to FILE as one JSON line; every lease the store grants this process (claims and renewals)
goes to the leases FILE as one JSON line, with the interval it covers (the engine's own clock); every
gateway request carries `X-Worker: NAME`, so the gateway's log tells who sent it. Once the file named
by --freeze exists, reports stop before they are delivered (the test kills this process outside the
documented window between a delivery and its acknowledgement). Prints READY, runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.engine.api.client import TaskApiClient
from bot.engine.api.rate_limit import RequestRateLimiter
from bot.engine.config import EngineConfig
from bot.engine.notifier import TaskUpdate
from bot.engine.shared_ceiling import SharedCeiling
from bot.engine.store.interface import TaskRecord
from bot.engine.store.postgres.store import PostgresTaskStore
from bot.engine.task_engine import TaskEngine


def append_line(path: Path, entry: dict[str, Any]) -> None:
    """One write per line: a SIGKILL never leaves half a line, and the kernel keeps what was written."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (json.dumps(entry) + "\n").encode())
    finally:
        os.close(descriptor)


class LeaseLoggingStore(PostgresTaskStore):
    """The real store; also writes down every lease it grants this process."""

    def __init__(self, url: str, log: Path, name: str) -> None:
        super().__init__(url, pool_size=4)
        self._log = log
        self._name = name

    def _granted(self, kind: str, keys: Iterable[str], start: datetime, until: datetime) -> None:
        for key in keys:
            entry = {"worker": self._name, "kind": kind, "key": key, "from": start.timestamp()}
            append_line(self._log, {**entry, "until": until.timestamp()})

    async def claim_due_for_poll(self, **kwargs: Any) -> list[TaskRecord]:
        records = await super().claim_due_for_poll(**kwargs)
        self._granted("poll", [r.key for r in records], kwargs["now"], kwargs["lease_until"])
        return records

    async def claim_task(self, key: str, **kwargs: Any) -> TaskRecord | None:
        record = await super().claim_task(key, **kwargs)
        if record is not None:
            self._granted("poll", [key], kwargs["now"], kwargs["lease_until"])
        return record

    async def claim_due_for_notify(self, **kwargs: Any) -> list[TaskRecord]:
        records = await super().claim_due_for_notify(**kwargs)
        self._granted("report", [r.key for r in records], kwargs["now"], kwargs["lease_until"])
        return records

    async def claim_report(self, key: str, **kwargs: Any) -> TaskRecord | None:
        record = await super().claim_report(key, **kwargs)
        if record is not None:
            self._granted("report", [key], kwargs["now"], kwargs["lease_until"])
        return record

    async def renew_leases(self, keys: Collection[str], *, owner: str, lease_until: datetime) -> Any:
        asked_at = datetime.now(UTC)  # the engine's clock; the renewal lands after this
        renewed = await super().renew_leases(keys, owner=owner, lease_until=lease_until)
        for kind in ("poll", "report"):
            self._granted(
                kind, [key for key, renewed_kind in renewed if renewed_kind == kind], asked_at, lease_until
            )
        return renewed


class FileNotifier:
    def __init__(self, path: Path, name: str, freeze: Path | None) -> None:
        self._path = path
        self._name = name
        self._freeze = freeze

    async def task_updated(self, update: TaskUpdate) -> None:
        if self._freeze is not None and self._freeze.exists():
            await asyncio.Event().wait()  # never delivered: the test kills this process now
        record = update.record
        status = record.status.name if record.status is not None else None
        append_line(
            self._path,
            {
                "worker": self._name,
                "key": record.key,
                "kind": update.kind.value,
                "status": status,
                "final": update.is_final,
            },
        )


class TaggingTransport(httpx.AsyncHTTPTransport):
    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["X-Worker"] = self._name
        return await super().handle_async_request(request)


async def run(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    config = EngineConfig(
        poll_interval=1.0,
        max_in_flight=16,
        task_max_age=120.0,
        progress_interval=2.0,
        max_backoff=1.0,
        notify_retry=0.2,
        stop_timeout=2.0,
        lease_seconds=args.lease_seconds,
    )
    limiter = RequestRateLimiter(args.ceiling)
    freeze = Path(args.freeze) if args.freeze else None
    async with (
        LeaseLoggingStore(args.db, Path(args.leases), args.name) as store,
        TaskApiClient(
            base_url=args.base_url,
            api_key=args.api_key,
            timeout=5.0,
            max_attempts=2,
            backoff_base=0.05,
            rate_limiter=limiter,
            transport=TaggingTransport(args.name),
        ) as client,
    ):
        notifier = FileNotifier(Path(args.reports), args.name, freeze)
        engine = TaskEngine(client, store, config=config, notifier=notifier, owner=args.name)
        ceiling = SharedCeiling(
            store, limiter, ceiling=args.ceiling, owner=args.name, interval=0.2, expiry=1.5
        )
        await ceiling.start()
        await engine.start()
        print("READY", flush=True)  # noqa: T201 - the parent test waits for this line
        await stop.wait()
        await engine.stop()
        await ceiling.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--db", "--base-url", "--api-key", "--name", "--reports", "--leases"):
        parser.add_argument(name, required=True)
    parser.add_argument("--ceiling", type=float, required=True)
    parser.add_argument("--lease-seconds", type=float, required=True)
    parser.add_argument("--freeze")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

"""One of several engine processes sharing a PostgreSQL store, measured (regime 3 of the benchmark).

    python -m benchmarks.bench_shared_worker --db URL --base-url URL --api-key K --name NAME
        --tasks N --interval S --ceiling RPS --out RESULT.json [--timeout S]

The tasks are already in the database (the parent submitted and confirmed them). This process runs the
real `TaskEngine` on `PostgresTaskStore`, paced by `RequestRateLimiter` under `SharedCeiling`, until
every task of the database is finished and reported (by whichever process), then writes what it
measured: per task key the time.monotonic() of the final reports it delivered, CPU, RSS, event-loop
lag, and the statements it sent to the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.bench_worker import FinalReportRecorder, LagProbe, cpu_seconds, peak_rss_mb
from bot.engine.api.client import TaskApiClient
from bot.engine.api.rate_limit import RequestRateLimiter
from bot.engine.config import EngineConfig
from bot.engine.shared_ceiling import SharedCeiling
from bot.engine.store.postgres.store import PostgresTaskStore
from bot.engine.task_engine import TaskEngine

ALL_REPORTED = (
    "SELECT count(*) FROM tasks WHERE notify_due_at IS NULL AND NOT"
    " (local_outcome IS NULL AND (status IS NULL OR status NOT BETWEEN 4 AND 8))"
)


async def wait_all_reported(url: str, tasks: int, within: float) -> bool:
    """Until the database says every task is finished and reported (a connection of its own, so these
    checks are not counted as the engine's statements)."""
    conn = await asyncpg.connect(url)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if await conn.fetchval(ALL_REPORTED) >= tasks:
                return True
            await asyncio.sleep(0.5)
        return False
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    store = PostgresTaskStore(args.db, pool_size=args.pool_size)
    await store.open()
    limiter = RequestRateLimiter(args.ceiling)
    client = TaskApiClient(base_url=args.base_url, api_key=args.api_key, rate_limiter=limiter)
    recorder = FinalReportRecorder(args.tasks)
    config = EngineConfig(poll_interval=args.interval)
    engine = TaskEngine(client, store, config=config, notifier=recorder, owner=args.name)
    ceiling = SharedCeiling(store, limiter, ceiling=args.ceiling, owner=args.name)
    probe = LagProbe()
    await ceiling.start()
    statements_before, cpu_before, started = store.statements, cpu_seconds(), time.monotonic()
    probe.start()
    await engine.start()
    complete = await wait_all_reported(args.db, args.tasks, args.timeout)
    cpu_used, finished = cpu_seconds() - cpu_before, time.monotonic()
    statements = store.statements - statements_before
    await probe.stop()
    await engine.stop()
    await ceiling.stop()
    requests_sent = client.requests_sent
    await client.aclose()
    await store.close()
    return {
        "name": args.name,
        "complete": complete,
        "started_monotonic": started,
        "run_seconds": finished - started,
        "cpu_seconds": cpu_used,
        "peak_rss_mb": peak_rss_mb(),
        "requests_sent": requests_sent,
        "statements": statements,
        "notifier_calls": recorder.updates,
        "repeated_finals": recorder.repeated_finals,
        "final_at": recorder.final_at,
        "final_status": recorder.final_status,
        **probe.summary(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name in ("--db", "--base-url", "--api-key", "--name", "--out"):
        parser.add_argument(name, required=True)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--ceiling", type=float, required=True)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    result = asyncio.run(run(args))
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()

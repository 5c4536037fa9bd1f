"""The measured side of the benchmark, run in its own process so CPU and RSS are its alone.

    python -m benchmarks.bench_worker engine --base-url URL --api-key K --tasks N --interval S
        --ceiling RPS --db PATH --out RESULT.json [--timeout S]
    python -m benchmarks.bench_worker naive  --base-url URL --api-key K --tasks N --interval S
        --out RESULT.json [--timeout S]

`engine`: the real `TaskEngine` (SQLite store in a file, `TaskApiClient` paced at the ceiling). The tasks
are submitted and confirmed first (so they are all pending), then the engine is started and runs until
the notifier has seen every task's final update.
`naive`: the baseline the issue compares against: one coroutine per task that creates it, then
`sleep(interval)` + GET until the status is terminal, on one `httpx.AsyncClient` without a ceiling.

Both write one JSON object: per task key the time.monotonic() of the final report (the clock is
system-wide on Linux, so the parent compares it with the gateway's completion times), event-loop lag
percentiles, CPU seconds and peak RSS of this process over the measured run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_stats import percentile
from bot.engine.api.client import TaskApiClient
from bot.engine.api.models import TaskStatus, TaskType
from bot.engine.api.rate_limit import RequestRateLimiter
from bot.engine.config import EngineConfig
from bot.engine.notifier import TaskUpdate
from bot.engine.store.interface import NewTask
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.engine.task_engine import TaskEngine

LAG_PROBE_PERIOD = 0.05  # the probe: a coroutine sleeping 50 ms in a loop, measuring oversleep
MODEL = "flux-1-dev"
CREATE_CONCURRENCY = 100  # the naive baseline's creates in flight at once (see run_naive)


def task_key(index: int) -> str:
    return f"bench-{index:06d}"


def cpu_seconds() -> float:
    """User + system CPU of this process, every thread included (aiosqlite runs on its own thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds_by_thread() -> dict[str, float]:
    """CPU seconds per thread of this process (Linux /proc), e.g. the event loop versus aiosqlite's."""
    ticks = os.sysconf("SC_CLK_TCK")
    threads: dict[str, float] = {}
    for stat in Path("/proc/self/task").glob("*/stat"):
        try:
            raw = stat.read_text(encoding="utf-8")
        except OSError:
            continue  # the thread ended meanwhile
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        label = f"{name}-{stat.parent.name}"
        threads[label] = threads.get(label, 0.0) + seconds
    return threads


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class LagProbe:
    """Sleeps `LAG_PROBE_PERIOD` in a loop and records how much longer than asked each sleep took."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="lag-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(LAG_PROBE_PERIOD)
            self.lags.append(max(0.0, time.monotonic() - started - LAG_PROBE_PERIOD))

    def summary(self) -> dict[str, float]:
        return {
            "lag_p50": percentile(self.lags, 50),
            "lag_p99": percentile(self.lags, 99),
            "lag_max": max(self.lags, default=0.0),
            "lag_samples": float(len(self.lags)),
        }


class FinalReportRecorder:
    """Records when each task's final update reaches the notifier (the moment the user would see it)."""

    def __init__(self, expected: int) -> None:
        self.final_at: dict[str, float] = {}
        self.final_status: dict[str, str] = {}
        self.updates = 0
        self.repeated_finals = 0
        self._expected = expected
        self.all_done = asyncio.Event()

    def final(self, key: str, status: str) -> None:
        if key in self.final_at:
            self.repeated_finals += 1
            return
        self.final_at[key] = time.monotonic()
        self.final_status[key] = status
        if len(self.final_at) >= self._expected:
            self.all_done.set()

    async def task_updated(self, update: TaskUpdate) -> None:
        """The engine's notifier: the Discord layer would edit a message here."""
        self.updates += 1
        if update.is_final:
            record = update.record
            outcome = record.local_outcome.value if record.local_outcome else None
            self.final(record.key, outcome or (record.status.name if record.status else "?"))


async def wait_all(recorder: FinalReportRecorder, within: float) -> bool:
    try:
        async with asyncio.timeout(within):
            await recorder.all_done.wait()
    except TimeoutError:
        return False
    return True


async def run_engine(args: argparse.Namespace) -> dict[str, Any]:
    store = SqliteTaskStore(args.db)
    await store.open()
    # Statements SQLite runs for the engine (transaction control aside): the "queries per poll" figure.
    statements = [0]

    def count_statement(sql: str) -> None:
        if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements[0] += 1

    await store._connection().set_trace_callback(count_statement)
    client = TaskApiClient(
        base_url=args.base_url, api_key=args.api_key, rate_limiter=RequestRateLimiter(args.ceiling)
    )
    recorder = FinalReportRecorder(args.tasks)
    config = EngineConfig(
        poll_interval=args.interval,
        max_in_flight=args.max_in_flight,
        progress_interval=args.progress_interval,
    )
    engine = TaskEngine(client, store, config=config, notifier=recorder)
    submit_started = time.monotonic()
    for index in range(args.tasks):
        key = task_key(index)
        await engine.submit(
            NewTask(
                key=key,
                task_type=TaskType.ASYNC_IMAGE,
                model=MODEL,
                prompt=f"benchmark task {index}",
                requester_id=1 + index % 500,
                channel_id=1000 + index % 50,
                guild_id=2000,
            )
        )
        await engine.confirm(key, message_id=10_000_000 + index)
    submit_seconds = time.monotonic() - submit_started

    probe = LagProbe()
    cpu_before, started, statements_before = cpu_seconds(), time.monotonic(), statements[0]
    probe.start()
    await engine.start()
    complete = await wait_all(recorder, args.timeout)
    cpu_used, finished = cpu_seconds() - cpu_before, time.monotonic()
    statements_run = statements[0] - statements_before
    threads = cpu_seconds_by_thread()  # whole lifetime, before stop() ends aiosqlite's thread
    await probe.stop()
    await engine.stop()
    requests_sent = client.requests_sent
    await client.aclose()
    await store.close()
    return {
        "mode": "engine",
        "complete": complete,
        "cpu_seconds_by_thread": threads,
        "submit_seconds": submit_seconds,
        "started_monotonic": started,
        "run_seconds": finished - started,
        "cpu_seconds": cpu_used,
        "peak_rss_mb": peak_rss_mb(),
        "requests_sent": requests_sent,
        "statements": statements_run,
        "notifier_calls": recorder.updates,
        "repeated_finals": recorder.repeated_finals,
        "final_at": recorder.final_at,
        "final_status": recorder.final_status,
        **probe.summary(),
    }


async def run_naive(args: argparse.Namespace) -> dict[str, Any]:
    recorder = FinalReportRecorder(args.tasks)
    counts = {"requests": 0, "errors": 0}
    headers = {"Authorization": f"Bearer {args.api_key}"}

    async def one_task(http: httpx.AsyncClient, index: int) -> None:
        key = task_key(index)
        body = {
            "task_type": TaskType.ASYNC_IMAGE.api_name,
            "public_model": MODEL,
            "prompt": f"benchmark task {index}",
            "idempotency_key": key,
        }
        task_id: str | None = None
        while task_id is None:  # the naive client simply re-sends a failed create
            counts["requests"] += 1
            try:
                async with create_slots:
                    response = await http.post("/v1/tasks", json=body)
                task_id = str(response.json()["task_id"])
            except (httpx.HTTPError, ValueError, KeyError):
                counts["errors"] += 1
                await asyncio.sleep(args.interval)
        while True:
            await asyncio.sleep(args.interval)
            counts["requests"] += 1
            try:
                status = TaskStatus(int((await http.get(f"/v1/tasks/{task_id}")).json()["status"]))
            except (httpx.HTTPError, ValueError, KeyError):
                counts["errors"] += 1
                continue
            if status.is_terminal:
                recorder.final(key, status.name)
                return

    # No ceiling, so no pool limit either. Two concessions keep the baseline measuring naive polling
    # rather than httpcore's pool under a stampede: with the default pool (100 connections) 1,000
    # requests queue on it and it spends its time re-scanning that queue (CPU-bound, pool timeouts:
    # the tasks never finish); and 1,000 creates opening 1,000 connections at once stall the loop for
    # seconds and leave every poll in lockstep. So the creates go at most CREATE_CONCURRENCY at a time;
    # each task's polling coroutine starts when its create returns, and the polls are not bounded.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    create_slots = asyncio.Semaphore(CREATE_CONCURRENCY)
    probe = LagProbe()
    async with httpx.AsyncClient(
        base_url=args.base_url, headers=headers, timeout=20.0, limits=limits
    ) as http:
        cpu_before, started = cpu_seconds(), time.monotonic()
        probe.start()
        workers = [asyncio.create_task(one_task(http, index)) for index in range(args.tasks)]
        complete = await wait_all(recorder, args.timeout)
        cpu_used, finished = cpu_seconds() - cpu_before, time.monotonic()
        threads = cpu_seconds_by_thread()
        await probe.stop()
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return {
        "mode": "naive",
        "complete": complete,
        "cpu_seconds_by_thread": threads,
        "submit_seconds": 0.0,
        "started_monotonic": started,
        "run_seconds": finished - started,
        "cpu_seconds": cpu_used,
        "peak_rss_mb": peak_rss_mb(),
        "requests_sent": counts["requests"],
        "request_errors": counts["errors"],
        "notifier_calls": len(recorder.final_at),
        "repeated_finals": 0,
        "final_at": recorder.final_at,
        "final_status": recorder.final_status,
        **probe.summary(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["engine", "naive"])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--ceiling", type=float, default=500.0)
    parser.add_argument("--max-in-flight", type=int, default=EngineConfig().max_in_flight)
    parser.add_argument(
        "--progress-interval",
        type=float,
        default=EngineConfig().progress_interval,
        help="engine: seconds between events calls per task (for experiments; default: the engine's)",
    )
    parser.add_argument("--db", default="bench.sqlite3")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up waiting after this long")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    parser.add_argument("--profile", help="write cProfile stats of the whole run here (skews CPU figures)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Warnings only: per-task INFO lines would measure the log handler, not the engine.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    runner = run_engine if args.mode == "engine" else run_naive
    if args.profile:
        profiler = cProfile.Profile()
        result = profiler.runcall(asyncio.run, runner(args))
        profiler.dump_stats(args.profile)
    else:
        result = asyncio.run(runner(args))
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()

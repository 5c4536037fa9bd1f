"""Regime 3 of the benchmark: 10,000 pending tasks over three engine processes on one PostgreSQL
database with one shared ceiling (issue 12), measured as regime 2 is on SQLite with one process.

The parent makes a database of its own on the server of `BENCH_POSTGRES_URL` (default: the local one,
postgresql://postgres@127.0.0.1:5432/postgres), submits and confirms the tasks there (so they are all
pending), starts the fake gateway (enforcing the ceiling) and three `bench_shared_worker` processes,
and joins what they measured. The database is dropped at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.bench_processes import API_KEY, REPO_ROOT, ChildFailedError
from benchmarks.bench_worker import MODEL, task_key
from bot.engine.api.models import TaskType
from bot.engine.store.interface import NewTask
from bot.engine.store.postgres.store import PostgresTaskStore

SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _database_url(name: str) -> str:
    return SERVER_URL.rsplit("/", 1)[0] + f"/{name}"


async def create_database(tasks: int) -> str:
    name = f"mindproxy_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(SERVER_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = _database_url(name)
    now = datetime.now(UTC)
    async with PostgresTaskStore(url, pool_size=8) as store:

        async def submit(index: int) -> None:
            key = task_key(index)
            await store.insert(
                NewTask(
                    key=key,
                    task_type=TaskType.ASYNC_IMAGE,
                    model=MODEL,
                    prompt=f"benchmark task {index}",
                    requester_id=1 + index % 500,
                    channel_id=1000 + index % 50,
                    guild_id=2000,
                ),
                now=now,
                next_poll_at=None,
            )
            await store.confirm(key, message_id=10_000_000 + index, now=now)

        for start in range(0, tasks, 200):
            await asyncio.gather(*(submit(index) for index in range(start, min(tasks, start + 200))))
    return url


async def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(SERVER_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def run_shared_workers(
    *,
    url: str,
    base_url: str,
    tasks: int,
    interval: float,
    ceiling: float,
    processes: int,
    workdir: Path,
    timeout: float,
) -> list[dict[str, Any]]:
    """Start the workers together, wait for all of them, return what each wrote."""
    running = []
    for number in range(processes):
        name = f"engine-{number + 1}"
        out, log = workdir / f"{name}-result.json", workdir / f"{name}.log"
        argv = [
            sys.executable, "-m", "benchmarks.bench_shared_worker", "--db", url, "--base-url", base_url,
            "--api-key", API_KEY, "--name", name, "--tasks", str(tasks), "--interval", str(interval),
            "--ceiling", str(ceiling), "--timeout", str(timeout), "--out", str(out),
        ]  # fmt: skip
        handle = log.open("w", encoding="utf-8")
        running.append(
            (name, out, log, handle, subprocess.Popen(argv, cwd=REPO_ROOT, stdout=handle, stderr=handle))
        )
    results = []
    for name, out, log, handle, process in running:
        try:
            code = process.wait(timeout=timeout + 120)
        except subprocess.TimeoutExpired as error:
            process.kill()
            raise ChildFailedError(f"{name} hung; see {log}") from error
        finally:
            handle.close()
        if code != 0 or not out.exists():
            raise ChildFailedError(f"{name} failed (exit {code}); {log}:\n{log.read_text()[-2000:]}")
        results.append(json.loads(out.read_text(encoding="utf-8")))
    return results


def join_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The processes' measurements as one worker's, for `figures_from`; plus the per-process figures."""
    final_at: dict[str, float] = {}
    repeated = sum(int(r["repeated_finals"]) for r in results)
    for result in results:
        for key, moment in result["final_at"].items():
            if key in final_at:
                repeated += 1  # reported by two processes
            final_at[key] = min(float(moment), final_at.get(key, float("inf")))
    lags = [float(r["lag_p99"]) for r in results]
    return {
        "complete": all(r["complete"] for r in results),
        "final_at": final_at,
        "repeated_finals": repeated,
        "cpu_seconds": sum(float(r["cpu_seconds"]) for r in results),
        "peak_rss_mb": max(float(r["peak_rss_mb"]) for r in results),
        "run_seconds": max(float(r["run_seconds"]) for r in results),
        "submit_seconds": 0.0,
        "notifier_calls": sum(int(r["notifier_calls"]) for r in results),
        "lag_p99": max(lags),
        "lag_max": max(float(r["lag_max"]) for r in results),
        "statements": sum(int(r["statements"]) for r in results),
        "per_process": {
            r["name"]: {
                "finals": len(r["final_at"]),
                "requests": r["requests_sent"],
                "cpu_seconds": r["cpu_seconds"],
            }
            for r in results
        },
    }

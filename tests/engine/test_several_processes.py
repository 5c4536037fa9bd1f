"""Issue 12's test: three engine processes share one PostgreSQL database and one gateway ceiling; 300
tasks; one process is SIGKILLed mid-run. Every task ends with exactly one final report, the gateway
sees one create per key, no task is worked on by two processes under overlapping leases, the ceiling
holds at the gateway, and the dead process's tasks are taken over once its leases expire.

Everything is asserted from what was recorded: the workers' report files, the leases the store
granted each worker (lease_worker.py logs them with the interval each covers), the fake gateway's
request log (each request tagged with its worker) and the store's rows at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.engine.api.models import TaskStatus, TaskType
from bot.engine.store.interface import NewTask
from bot.engine.store.postgres.store import PostgresTaskStore
from bot.testing.fake_gateway.server import CreateRequest, FakeGateway, Script

pytestmark = pytest.mark.timeout(90)

REPO_ROOT = Path(__file__).resolve().parents[2]
TASKS = 300
CEILING = 150.0
LEASE_SECONDS = 3.0
WORKERS = ("w1", "w2", "w3")
VICTIM = "w2"


def lasting(request: CreateRequest) -> Script:
    """Tasks of 2 to 5 s, so the kill lands while many are running."""
    index = int(request.prompt.rsplit(" ", 1)[-1])
    return Script.success(after=2.0 + (index % 7) * 0.5, progress=["halfway"])


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def start_worker(name: str, url: str, gateway: FakeGateway, work: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.engine.lease_worker",
        *("--db", url, "--base-url", gateway.base_url, "--api-key", gateway.api_key or "", "--name", name),
        *("--reports", str(work / f"{name}.reports"), "--leases", str(work / f"{name}.leases")),
        *(
            "--ceiling",
            str(CEILING),
            "--lease-seconds",
            str(LEASE_SECONDS),
            "--freeze",
            str(work / f"{name}.freeze"),
        ),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 20)
    assert line.strip() == b"READY", line
    return process


async def until(predicate: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        assert time.monotonic() < deadline, f"not reached within {within} s: {what}"
        await asyncio.sleep(0.05)


def merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


async def test_three_processes_one_killed_share_300_tasks_exactly_once(postgres_url, tmp_path):
    async with FakeGateway(api_key="shared-key", max_rps=CEILING, default_script=lasting) as gateway:
        async with PostgresTaskStore(postgres_url) as store:
            now = datetime.now(UTC)
            for index in range(TASKS):
                task = NewTask(
                    key=f"t{index:03d}",
                    task_type=TaskType.ASYNC_IMAGE,
                    model="flux-1-dev",
                    prompt=f"shared test {index}",
                    requester_id=index,
                    channel_id=1,
                    guild_id=index << 22,
                )
                await store.insert(task, now=now, next_poll_at=None)
                await store.confirm(task.key, message_id=index + 1, now=now)
        database = await asyncpg.connect(postgres_url)
        workers: dict[str, asyncio.subprocess.Process] = {}
        try:
            for name in WORKERS:
                workers[name] = await start_worker(name, postgres_url, gateway, tmp_path)

            async def all_created_and_victim_busy() -> bool:
                created = await database.fetchval("SELECT count(*) FROM tasks WHERE task_id IS NOT NULL")
                held = await database.fetchval(
                    "SELECT count(*) FROM tasks WHERE lease_owner = $1 AND next_poll_at IS NOT NULL", VICTIM
                )
                return created == TASKS and held >= 10

            await until(all_created_and_victim_busy, 30, "every create recorded, the victim holding tasks")
            (tmp_path / f"{VICTIM}.freeze").touch()  # no report of its may be half-delivered at the kill
            await asyncio.sleep(0.3)
            killed_at = time.time()
            workers[VICTIM].send_signal(signal.SIGKILL)
            assert await asyncio.wait_for(workers[VICTIM].wait(), 5) == -signal.SIGKILL
            held_by_victim = await database.fetchval(
                "SELECT count(*) FROM tasks WHERE lease_owner = $1 AND next_poll_at IS NOT NULL", VICTIM
            )

            async def all_reported() -> bool:
                return (
                    await database.fetchval(
                        "SELECT count(*) FROM tasks WHERE next_poll_at IS NULL AND notify_due_at IS NULL"
                        " AND status = $1",
                        int(TaskStatus.SUCCEEDED),
                    )
                    == TASKS
                )

            await until(all_reported, 60, "every task finished and its final report acknowledged")
            await asyncio.sleep(0.5)  # a repeated report would show up now
        finally:
            for name, process in workers.items():
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    assert await asyncio.wait_for(process.wait(), 15) == 0, name
            leftover = await database.fetchval(
                "SELECT count(*) FROM tasks WHERE lease_owner IS NOT NULL OR report_owner IS NOT NULL"
            )
            await database.close()
        stats = gateway.stats(include_tasks=False)
        requests = list(gateway.requests)
        key_of_task = {task_id: task.idempotency_key for task_id, task in gateway.tasks.items()}

    keys = [f"t{index:03d}" for index in range(TASKS)]
    reports = [line for name in WORKERS for line in read_lines(tmp_path / f"{name}.reports")]
    # Exactly one final report per task, whichever process delivered it.
    finals = Counter(line["key"] for line in reports if line["final"])
    assert finals == Counter(dict.fromkeys(keys, 1))
    # One create per key: the kill came after every create was recorded, so none was re-sent.
    creates = Counter(r.json_body["idempotency_key"] for r in requests if r.kind == "create")
    assert creates == Counter(dict.fromkeys(keys, 1))
    assert len(key_of_task) == TASKS
    # The ceiling held at the gateway, with three processes, then two.
    assert stats["max_requests_in_any_1s_window"] <= CEILING, stats["max_requests_in_any_1s_window"]
    assert stats["requests_by_status"].get("429", 0) == 0
    assert leftover == 0  # finished rows hold no lease, and the survivors released theirs at stop

    # No row was leased to two processes at overlapping times, for polling or for reporting.
    leases: dict[tuple[str, str], dict[str, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for name in WORKERS:
        for entry in read_lines(tmp_path / f"{name}.leases"):
            leases[(entry["kind"], entry["key"])][entry["worker"]].append((entry["from"], entry["until"]))
    for (kind, key), by_worker in leases.items():
        spans = sorted(
            (start, end, worker) for worker, got in by_worker.items() for start, end in merged(got)
        )
        for (_, end, first), (start, _, second) in itertools.pairwise(spans):
            assert first == second or start >= end, (kind, key, spans)

    # Every gateway request for a task came from the process holding its poll lease at that moment
    # (the gateway's monotonic clock read as wall time; both are this machine's).
    offset = time.time() - time.monotonic()
    taken_over = set()
    for request in requests:
        if request.kind == "create":
            key = request.json_body["idempotency_key"]
        else:
            key = key_of_task[request.path.split("/")[3]]
        worker = request.headers["X-Worker"]
        at = request.received_at + offset
        held = merged(leases[("poll", key)][worker])
        assert any(start - 0.005 <= at <= end + 0.005 for start, end in held), (key, worker, at, held)
        if worker != VICTIM and at > killed_at and VICTIM in leases[("poll", key)]:
            taken_over.add(key)
    assert held_by_victim >= 10
    # The victim's unfinished tasks were taken over by the others, once its leases had expired.
    assert len(taken_over) >= held_by_victim
    assert {line["worker"] for line in reports} == set(WORKERS)  # all three worked before the kill
    print(  # noqa: T201 - the figures of this run, for `pytest -s`
        f"\n{TASKS} tasks, {len(requests)} gateway requests, peak {stats['max_requests_in_any_1s_window']}"
        f" in any 1 s (ceiling {CEILING:g}); {held_by_victim} tasks held by the killed process,"
        f" {len(taken_over)} polled by the others after the kill; finals per worker"
        f" {dict(Counter(line['worker'] for line in reports if line['final']))}"
    )

"""Crash and restart: the engine runs in a subprocess (crash_worker.py) that is SIGKILLed at the worst
moments, then restarted on the same database. Every task must end with its final status reported
exactly once across both runs, one gateway task per key, and nothing unfinished or owed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.engine.api.models import TaskStatus
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.testing.fake_gateway.server import FakeGateway, Script

pytestmark = pytest.mark.timeout(60)

REPO_ROOT = Path(__file__).resolve().parents[2]
TASKS = 3


class Worker:
    """One crash_worker process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, gateway: FakeGateway, db: Path, reports: Path, submit: int = 0) -> Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.engine.crash_worker",
            "--db",
            str(db),
            "--base-url",
            gateway.base_url,
            "--api-key",
            gateway.api_key,
            "--reports",
            str(reports),
            "--submit",
            str(submit),
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 15)
        assert line.strip() == b"READY", line
        return cls(process)

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(self.process.wait(), 5) == -signal.SIGKILL

    async def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(self.process.wait(), 10) == 0


def read_reports(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def wait_for_reports(path: Path, predicate: Any, within: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while True:
        reports = read_reports(path)
        if predicate(reports):
            return reports
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met; reports so far: {reports}")
        await asyncio.sleep(0.02)


def keys() -> list[str]:
    return [f"crash-{i}" for i in range(TASKS)]


def all_final(reports: list[dict[str, Any]]) -> bool:
    return {r["key"] for r in reports if r["final"]} >= set(keys())


async def restart_and_check(gateway: FakeGateway, db: Path, reports_path: Path) -> list[dict[str, Any]]:
    """Restart the worker on the same DB, wait for every final report, stop it and check the end state."""
    worker = await Worker.start(gateway, db, reports_path)
    try:
        reports = await wait_for_reports(reports_path, all_final)
        await asyncio.sleep(0.3)  # a duplicate report would arrive now
    finally:
        await worker.stop()
    reports = read_reports(reports_path)
    finals = Counter(r["key"] for r in reports if r["final"])
    assert finals == Counter(dict.fromkeys(keys(), 1)), reports
    for key in keys():
        statuses = [r["status"] for r in reports if r["key"] == key and r["kind"] == "status"]
        assert len(statuses) == len(set(statuses)), (key, statuses)  # no status reported twice
        assert statuses[-1] == "SUCCEEDED"
        # The result itself reached the front end, not only the final status.
        (final,) = [r for r in reports if r["key"] == key and r["final"]]
        assert final["image_url"] == f"https://cdn.fake.test/{gateway.tasks_by_key[key].task_id}.png"
    # One gateway task per key, whatever was re-sent.
    assert sorted(gateway.tasks_by_key) == keys()
    assert len(gateway.tasks) == TASKS
    async with SqliteTaskStore(db) as store:
        assert await store.count_unfinished() == 0
        far_future = datetime.now(UTC) + timedelta(days=1)
        assert await store.due_for_notify(now=far_future, limit=100, exclude=set()) == []
        for key in keys():
            row = await store.get(key)
            assert row is not None
            assert row.status is TaskStatus.SUCCEEDED
            assert row.notified_status is TaskStatus.SUCCEEDED
            assert row.task_id == gateway.tasks_by_key[key].task_id
    return reports


@pytest.fixture
async def gateway():
    async with FakeGateway(api_key="crash-test-key", models={"flux-1-dev"}) as started:
        yield started


async def test_killed_after_the_create_reached_the_gateway_but_before_its_answer(gateway, tmp_path):
    gateway.default_script = Script.success(after=0.4)
    db, reports_path = tmp_path / "tasks.sqlite3", tmp_path / "reports.jsonl"
    hold = gateway.hold("create")
    worker = await Worker.start(gateway, db, reports_path, submit=TASKS)
    await hold.wait_held(TASKS)  # the gateway made the tasks; their answers never arrive
    await worker.kill()
    hold.release()
    assert len(gateway.tasks) == TASKS
    assert read_reports(reports_path) == []

    reports = await restart_and_check(gateway, db, reports_path)
    assert len(gateway.requests_of("create")) == 2 * TASKS  # re-sent with the same keys
    assert all(r["pid"] != worker.process.pid for r in reports)


async def wait_until_acknowledged(db: Path, status: TaskStatus, within: float = 5.0) -> None:
    """Until every row's report of `status` is marked delivered (read through a separate connection)."""
    deadline = time.monotonic() + within
    while True:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            acknowledged = conn.execute(
                "SELECT COUNT(*) FROM tasks WHERE notified_status >= ?", (int(status),)
            ).fetchone()[0]
        if acknowledged >= TASKS:
            return
        assert time.monotonic() < deadline, f"{acknowledged}/{TASKS} acknowledged"
        await asyncio.sleep(0.02)


async def test_killed_mid_processing(gateway, tmp_path):
    gateway.default_script = Script.success(after=1.2, progress=["halfway"])
    db, reports_path = tmp_path / "tasks.sqlite3", tmp_path / "reports.jsonl"
    worker = await Worker.start(gateway, db, reports_path, submit=TASKS)

    def all_processing(reports: list[dict[str, Any]]) -> bool:
        return {r["key"] for r in reports if r["status"] == "PROCESSING"} >= set(keys())

    await wait_for_reports(reports_path, all_processing)
    # Kill mid-processing, not inside the instant between a report and its acknowledgement in the
    # store (the one documented window in which a report can repeat after a crash).
    await wait_until_acknowledged(db, TaskStatus.PROCESSING)
    await worker.kill()
    assert not any(r["final"] for r in read_reports(reports_path))

    reports = await restart_and_check(gateway, db, reports_path)
    assert len(gateway.requests_of("create")) == TASKS  # created once; the restart only polls
    assert {r["pid"] for r in reports} == {worker.process.pid, reports[-1]["pid"]}


async def test_killed_after_the_gateway_finished_but_before_a_poll_saw_it(gateway, tmp_path):
    gateway.default_script = Script.success(after=0.6)
    db, reports_path = tmp_path / "tasks.sqlite3", tmp_path / "reports.jsonl"
    worker = await Worker.start(gateway, db, reports_path, submit=TASKS)

    def all_created(reports: list[dict[str, Any]]) -> bool:
        return {r["key"] for r in reports if r["status"] == "CREATED"} >= set(keys())

    await wait_for_reports(reports_path, all_created)
    hold = gateway.hold("get")
    await gateway.wait_for_tasks(TASKS)
    deadline = time.monotonic() + 5
    while not all(gateway.completion_time(task_id) is not None for task_id in gateway.tasks):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    await hold.wait_held()
    await worker.kill()
    hold.release()
    assert not any(r["final"] for r in read_reports(reports_path))

    await restart_and_check(gateway, db, reports_path)

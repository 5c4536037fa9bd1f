"""SqliteTaskStore: opening, durability, crash safety, odd rows, scale."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.engine.api.models import TaskStatus, TaskType
from bot.engine.store.interface import TaskRecord
from bot.engine.store.sqlite.store import SqliteTaskStore
from tests.engine.store.sqlite.support import REPO_ROOT, T0, at, created, new_task, poll

# -- open, pragmas, lifecycle -------------------------------------------------------------------


async def test_open_creates_parent_folder_and_sets_pragmas(db_path: Path) -> None:
    assert not db_path.parent.exists()
    async with SqliteTaskStore(db_path) as store:
        conn = store._connection()
        pragmas = {}
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "user_version"):
            async with conn.execute(f"PRAGMA {name}") as cursor:
                row = await cursor.fetchone()
                assert row is not None
                pragmas[name] = row[0]
    assert db_path.exists()  # noqa: ASYNC240 - a stat in a test
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "user_version": 8,
    }


async def test_memory_store_works_and_closed_store_refuses() -> None:
    store = SqliteTaskStore(":memory:")
    await store.open()
    await store.insert(new_task(), now=T0, next_poll_at=T0)
    assert await store.count_unfinished() == 1
    with pytest.raises(RuntimeError, match="already open"):
        await store.open()
    await store.close()
    await store.close()  # twice is fine
    with pytest.raises(RuntimeError, match="not open"):
        await store.get("k1")


async def test_write_close_reopen_reads_back(db_path: Path) -> None:
    async with SqliteTaskStore(db_path) as store:
        await store.insert(new_task(metadata={"locale": "fr"}), now=T0, next_poll_at=at(1))
        await store.confirm("k1", message_id=77, now=at(1))
        await store.record_created(
            "k1", task_id="t-1", status=TaskStatus.CREATED, now=at(2), next_poll_at=at(7)
        )
        before = await store.get("k1")
    async with SqliteTaskStore(db_path) as store:
        after = await store.get("k1")
    assert after == before
    assert after is not None
    assert after.task_id == "t-1"
    assert after.message_id == 77
    assert after.metadata == {"locale": "fr"}


# -- robustness -----------------------------------------------------------------------------------


def raw_update(db_path: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute(sql, params)
    conn.close()


async def test_rows_with_unknown_values_do_not_break_queries(
    store: SqliteTaskStore, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for key in ("good", "future-type", "future-status", "future-outcome", "bad-json"):
        await store.insert(new_task(key, metadata={"a": 1}), now=T0, next_poll_at=at(1))
    raw_update(db_path, "UPDATE tasks SET task_type = 'hologram' WHERE key = 'future-type'")
    raw_update(db_path, "UPDATE tasks SET status = 0, notified_status = 99 WHERE key = 'future-status'")
    raw_update(
        db_path, "UPDATE tasks SET local_outcome = 'vanished', notify_due_at = 0 WHERE key = 'future-outcome'"
    )
    raw_update(db_path, "UPDATE tasks SET metadata = '{not json' WHERE key = 'bad-json'")

    due = await store.due_for_poll(now=at(5), limit=10, exclude=set())
    assert sorted(r.key for r in due) == ["bad-json", "future-status", "good"]
    by_key = {r.key: r for r in due}
    assert by_key["future-status"].status is None
    # A status number this version does not know is read as such, and never as finished.
    notified = by_key["future-status"].notified_status
    assert notified is not None and int(notified) == 99 and not notified.is_terminal
    assert by_key["bad-json"].metadata is None
    assert await store.get("future-type") is None
    assert await store.due_for_notify(now=at(5), limit=10, exclude=set()) == []
    assert [r.key for r in await store.active_for_requester(1001)] != []
    assert "hologram" in caplog.text
    assert "vanished" in caplog.text


async def test_cancelled_calls_leave_no_open_transaction(store: SqliteTaskStore) -> None:
    await created(store, "k1")
    for round_number in range(30):
        call = asyncio.create_task(poll(store, "k1", TaskStatus.PROCESSING, progress=f"{round_number}"))
        for _ in range(round_number % 6):
            await asyncio.sleep(0)
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)
        # Whatever point the cancel hit, the store is consistent and takes the next transaction.
        record = await store.record_failure("k1", now=at(1), next_poll_at=at(2))
        assert record.progress in {None, *(str(n) for n in range(round_number + 1))}
    assert not store._connection().in_transaction


# -- crash safety ---------------------------------------------------------------------------------

CRASH_SCRIPT = """
import asyncio, sys, time
from datetime import UTC, datetime
from bot.engine.api.models import TaskType
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.engine.store.interface import NewTask

async def main():
    store = SqliteTaskStore(sys.argv[1])
    await store.open()
    now = datetime.now(UTC)
    task = NewTask(key="crash-1", task_type=TaskType.VIDEO, model="m", prompt="p",
                   requester_id=1, channel_id=2, metadata={"n": 1})
    await store.insert(task, now=now, next_poll_at=now)
    print("inserted", flush=True)
    time.sleep(60)  # never closes the store: the parent kills us first

asyncio.run(main())
"""


def test_row_survives_sigkill_right_after_insert(db_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(db_path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"inserted"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert Path(f"{db_path}-wal").exists()  # the commit sits in the WAL, never checkpointed

    async def read_back() -> TaskRecord | None:
        async with SqliteTaskStore(db_path) as store:
            return await store.get("crash-1")

    record = asyncio.run(read_back())
    assert record is not None
    assert record.task_type is TaskType.VIDEO
    assert record.metadata == {"n": 1}


# -- scale ----------------------------------------------------------------------------------------


async def test_ten_thousand_rows_use_the_indexes(store: SqliteTaskStore) -> None:
    started = time.monotonic()
    for index in range(10_000):
        await store.insert(
            new_task(f"k{index:05d}", requester_id=index % 50), now=T0, next_poll_at=at(index % 600)
        )
    due = await store.due_for_poll(
        now=at(300), limit=500, exclude={f"k{index:05d}" for index in range(0, 10_000, 2)}
    )
    elapsed = time.monotonic() - started
    assert len(due) == 500
    assert all(r.next_poll_at is not None and r.next_poll_at <= at(300) for r in due)
    assert [r.next_poll_at for r in due] == sorted(r.next_poll_at for r in due if r.next_poll_at)
    assert all(int(r.key[1:]) % 2 == 1 for r in due)
    assert await store.count_unfinished() == 10_000
    assert elapsed < 60, f"10,000 inserts + due_for_poll took {elapsed:.1f}s"

    # The statements the store really runs, explained: each must search its partial index.
    conn = store._connection()
    statements: list[str] = []
    await conn.set_trace_callback(statements.append)
    await store.due_for_poll(now=at(5), limit=10, exclude=set())
    await store.due_for_notify(now=at(5), limit=10, exclude=set())
    await store.active_for_requester(3)
    await store.next_wakeup()
    await store.count_unfinished()
    await conn.set_trace_callback(None)
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 5
    plans = [
        " | ".join(str(row[3]) for row in await conn.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}"))
        for sql in selects
    ]
    unfinished_indexes = ("tasks_due_poll", "tasks_requester_unfinished")  # same partial WHERE
    due_poll, due_notify, by_requester, wakeup, count = plans
    assert "tasks_due_poll" in due_poll, due_poll
    assert "tasks_due_notify" in due_notify, due_notify
    assert "tasks_requester_unfinished" in by_requester, by_requester
    assert "tasks_due_poll" in wakeup, wakeup
    assert "tasks_due_notify" in wakeup, wakeup
    assert any(name in count for name in unfinished_indexes), count


async def test_leases_left_by_a_process_that_is_gone_are_dropped_at_open(db_path: Path) -> None:
    async with SqliteTaskStore(db_path) as store:
        await store.insert(new_task(), now=T0, next_poll_at=at(1))
        await store.claim_task("k1", owner="dead:1:x", now=T0, lease_until=at(30))
        await store.record_failure("k1", now=T0, next_poll_at=at(1), note="retrying")
        await store.claim_report("k1", owner="dead:1:x", now=T0, lease_until=at(30))
    # One process per SQLite file: the next one to open it need not wait for those leases to expire.
    async with SqliteTaskStore(db_path) as store:
        record = await store.get("k1")
        assert record is not None
        assert (record.lease_owner, record.lease_until, record.report_owner, record.report_until) == (
            None,
            None,
            None,
            None,
        )
        claimed = await store.claim_due_for_poll(
            owner="new:2:y", now=at(1), lease_until=at(31), limit=5, exclude=set()
        )
        assert [r.key for r in claimed] == ["k1"]

"""Schema migrations of the SQLite task store (PRAGMA user_version), on real files."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from bot.engine.store.sqlite.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    SchemaTooNewError,
    migrate,
    schema_version,
)
from bot.engine.store.sqlite.store import SqliteTaskStore
from tests.engine.store.sqlite.support import T0, new_task


def schema_objects(path: Path) -> tuple[int, set[str]]:
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        names = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        }
    conn.close()
    return version, names


ALL_OBJECTS = {
    "tasks",
    "tasks_due_poll",
    "tasks_due_notify",
    "tasks_requester_unfinished",
    "tasks_completed",
    "tasks_task_id",
    "tasks_requester_guild",
    "tasks_media_pending",
    "user_prefs",
    "forgotten_tasks",
    "forgotten_tasks_task_id",
    "guild_settings",
    "tasks_waiting",
    "task_durations",
    "task_durations_model",
}


async def test_empty_database_migrates_to_latest(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn) == (0, LATEST_VERSION)
    assert LATEST_VERSION == len(MIGRATIONS) >= 7
    assert schema_objects(path) == (LATEST_VERSION, ALL_OBJECTS)


async def test_reopening_a_current_database_runs_no_migration(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    async with SqliteTaskStore(path) as store:
        await store.insert(new_task(), now=T0, next_poll_at=T0)
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        statements: list[str] = []
        await conn.set_trace_callback(statements.append)
        assert await migrate(conn) == (LATEST_VERSION, LATEST_VERSION)
        await conn.set_trace_callback(None)
    assert statements == ["PRAGMA user_version", "PRAGMA user_version"]
    async with SqliteTaskStore(path) as store:
        assert await store.get("k1") is not None
    assert schema_objects(path) == (LATEST_VERSION, ALL_OBJECTS)


async def test_version_1_database_migrates_forward_keeping_rows(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, MIGRATIONS[:1]) == (0, 1)
        # A row as version 1 of the bot wrote it.
        await conn.execute(
            "INSERT INTO tasks (key, task_type, model, prompt, requester_id, channel_id, created_at,"
            " updated_at, next_poll_at) VALUES ('old', 'video', 'm', 'p', 7, 8, 0, 0, 1000000)"
        )
    v1_objects = {"tasks", "tasks_due_poll", "tasks_due_notify"}
    assert schema_objects(path) == (1, v1_objects)

    async with SqliteTaskStore(path) as store:
        [record] = await store.active_for_requester(7)
        assert record.key == "old"
        assert record.next_poll_at is not None
        assert record.next_poll_at.timestamp() == 1.0
        assert [r.key for r in await store.due_for_poll(now=T0, limit=5, exclude=set())] == ["old"]
    assert schema_objects(path) == (LATEST_VERSION, ALL_OBJECTS)


async def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    async with SqliteTaskStore(path) as store:
        await store.insert(new_task(), now=T0, next_poll_at=T0)
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    raw.close()

    store = SqliteTaskStore(path)
    with pytest.raises(
        SchemaTooNewError,
        match=rf"version {LATEST_VERSION + 1} is newer than this code supports \({LATEST_VERSION}\)",
    ):
        await store.open()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get("k1")
    assert schema_objects(path)[0] == LATEST_VERSION + 1  # untouched


async def test_a_failing_step_rolls_back_to_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    broken_step = ("CREATE INDEX tasks_by_model ON tasks (model)", "CREATE INDEX broken ON missing_table (x)")
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        with pytest.raises(sqlite3.OperationalError, match="missing_table"):
            await migrate(conn, (*MIGRATIONS[:1], broken_step))
        assert not conn.in_transaction
        assert await schema_version(conn) == 1
    version, names = schema_objects(path)
    assert version == 1
    assert "tasks_by_model" not in names  # the step's first statement was undone with it


async def test_two_stores_opening_an_empty_file_at_once_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    first, second = SqliteTaskStore(path), SqliteTaskStore(path)
    try:
        # Both opens run to the end (no early exit leaving an aiosqlite thread open) before checking.
        outcomes = await asyncio.gather(first.open(), second.open(), return_exceptions=True)
        assert outcomes == [None, None]
        await first.insert(new_task("a"), now=T0, next_poll_at=T0)
        assert await second.get("a") is not None
    finally:
        await first.close()
        await second.close()
    assert schema_objects(path) == (LATEST_VERSION, ALL_OBJECTS)

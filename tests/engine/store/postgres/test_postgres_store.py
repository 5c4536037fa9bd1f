"""What only the PostgreSQL store has: its migrations (schema_version, the advisory lock), native
types as stored, rows written by another version, and the plans of the poller's statements."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.engine.store.interface import SchemaTooNewError
from bot.engine.store.postgres.migrations import LATEST_VERSION, MIGRATIONS, migrate, schema_version
from bot.engine.store.postgres.store import PostgresTaskStore
from tests.engine.store.contract.support import T0, at, new_task


async def raw(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def test_an_empty_database_migrates_to_the_latest_version_and_a_second_open_changes_nothing(
    postgres_url: str,
):
    async with PostgresTaskStore(postgres_url) as store:
        await store.insert(new_task(), now=T0, next_poll_at=at(1))
    assert LATEST_VERSION == 4
    assert await raw(postgres_url, "SELECT version FROM schema_version") == [(LATEST_VERSION,)]
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await migrate(conn) == (LATEST_VERSION, LATEST_VERSION)
    finally:
        await conn.close()
    async with PostgresTaskStore(postgres_url) as store:
        assert await store.get("k1") is not None
    tables = {
        row[0]
        for row in await raw(
            postgres_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    assert tables == {
        "tasks",
        "user_prefs",
        "forgotten_tasks",
        "engine_processes",
        "schema_version",
        "guild_settings",
        "task_durations",
        "cluster_jobs",
    }


async def test_processes_starting_together_migrate_once(postgres_url: str):
    stores = [PostgresTaskStore(postgres_url, pool_size=2) for _ in range(4)]
    try:
        outcomes = await asyncio.gather(*(store.open() for store in stores), return_exceptions=True)
        assert outcomes == [None] * 4
        await stores[0].insert(new_task("a"), now=T0, next_poll_at=T0)
        assert await stores[3].get("a") is not None
    finally:
        for store in stores:
            await store.close()
    assert await raw(postgres_url, "SELECT version FROM schema_version") == [(LATEST_VERSION,)]


async def test_a_database_newer_than_the_code_is_refused_with_one_line(postgres_url: str):
    async with PostgresTaskStore(postgres_url) as store:
        await store.insert(new_task(), now=T0, next_poll_at=T0)
    await raw(postgres_url, "UPDATE schema_version SET version = $1", LATEST_VERSION + 1)
    store = PostgresTaskStore(postgres_url)
    with pytest.raises(SchemaTooNewError) as refused:
        await store.open()
    assert str(refused.value) == (
        f"task database schema version {LATEST_VERSION + 1} is newer than this code supports "
        f"({LATEST_VERSION}); run a newer version of the bot or restore a matching backup"
    )
    with pytest.raises(RuntimeError, match="not open"):
        await store.get("k1")
    assert await raw(postgres_url, "SELECT version FROM schema_version") == [(LATEST_VERSION + 1,)]


async def test_a_failing_step_rolls_back_to_the_previous_version(postgres_url: str):
    broken = ("CREATE INDEX tasks_by_model ON tasks (model)", "CREATE INDEX broken ON missing_table (x)")
    conn = await asyncpg.connect(postgres_url)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(conn, (*MIGRATIONS[:1], broken))
        assert await schema_version(conn) == 1
        assert await conn.fetchval("SELECT to_regclass('tasks_by_model')") is None
        # The migration lock was let go: another process can migrate now.
        assert await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0
    finally:
        await conn.close()


async def test_values_are_stored_in_native_types(postgres_url: str):
    async with PostgresTaskStore(postgres_url) as store:
        await store.insert(new_task(metadata={"locale": "fr"}, guild_id=2**62), now=T0, next_poll_at=at(3))
    [row] = await raw(
        postgres_url,
        "SELECT pg_typeof(created_at)::text, pg_typeof(metadata)::text, metadata->>'locale', guild_id,"
        " confirmed FROM tasks",
    )
    assert tuple(row) == ("timestamp with time zone", "jsonb", "fr", 2**62, False)


# Keys of their own: an unreadable row is logged once per key and process (the SQLite test has the others).
async def test_rows_written_by_another_version_do_not_break_queries(postgres_url: str, caplog):
    async with PostgresTaskStore(postgres_url) as store:
        for key in ("pg-good", "pg-future-type", "pg-future-status", "pg-future-outcome"):
            await store.insert(new_task(key), now=T0, next_poll_at=at(1))
        await raw(postgres_url, "UPDATE tasks SET task_type = 'hologram' WHERE key = 'pg-future-type'")
        await raw(
            postgres_url, "UPDATE tasks SET status = 0, notified_status = 99 WHERE key = 'pg-future-status'"
        )
        await raw(
            postgres_url,
            "UPDATE tasks SET local_outcome = 'vanished', notify_due_at = created_at"
            " WHERE key = 'pg-future-outcome'",
        )
        due = await store.due_for_poll(now=at(5), limit=10, exclude=set())
        assert sorted(r.key for r in due) == ["pg-future-status", "pg-good"]
        assert await store.get("pg-future-type") is None
        assert await store.due_for_notify(now=at(5), limit=10, exclude=set()) == []
    assert "hologram" in caplog.text and "vanished" in caplog.text


async def test_the_claims_search_their_partial_indexes(postgres_url: str):
    async with PostgresTaskStore(postgres_url) as store:
        for index in range(2000):
            await store.insert(
                new_task(f"k{index:04d}", requester_id=index % 50), now=T0, next_poll_at=at(index)
            )
    await raw(postgres_url, "ANALYZE tasks")
    conn = await asyncpg.connect(postgres_url)
    try:
        plan = "\n".join(
            row[0]
            for row in await conn.fetch(
                "EXPLAIN SELECT key FROM tasks WHERE local_outcome IS NULL AND (status IS NULL OR status NOT"
                " BETWEEN 4 AND 8) AND next_poll_at <= $1 AND (lease_owner IS NULL OR lease_owner = 'x'"
                " OR lease_until <= $1) ORDER BY next_poll_at LIMIT 32 FOR UPDATE SKIP LOCKED",
                at(10),
            )
        )
    finally:
        await conn.close()
    assert "tasks_due_poll" in plan, plan

"""Bringing an existing database into PostgreSQL (`python -m bot migrate-store`), and reading its state
without changing it (`python -m bot check`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from bot.engine.store.decoding import COLUMNS
from bot.engine.store.interface import SchemaTooNewError
from bot.engine.store.postgres.connection import PostgresConnection
from bot.engine.store.postgres.migrations import LATEST_VERSION, UNFINISHED_SQL, schema_version

USER_PREFS_COLUMNS = ("user_id", "notify_dm", "updated_at")
FORGOTTEN_COLUMNS = ("key", "task_id", "guild_id", "requester_id", "forgotten_at")
_COLUMN_LIST = ", ".join(COLUMNS)


@dataclass(frozen=True, slots=True)
class Imported:
    tasks: int
    unfinished: int
    reports_owed: int
    tasks_kept: int  # rows whose key the target already had: left as they were
    user_prefs: int
    forgotten: int


@dataclass(frozen=True, slots=True)
class DatabaseState:
    version: int
    unfinished: int | None  # None until the schema is current
    live_processes: int | None


CONNECT_TIMEOUT = 10.0


async def inspect_database(url: str) -> DatabaseState:
    """Connect, read the schema version and, if it is current, what the database holds; changes
    nothing. Raises `SchemaTooNewError` for a newer schema, and the driver's or OS's error when the
    database cannot be reached."""
    conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    try:
        version = await schema_version(conn)
        if version > LATEST_VERSION:
            raise SchemaTooNewError(version, LATEST_VERSION)
        if version < LATEST_VERSION:
            return DatabaseState(version, None, None)
        unfinished = await conn.fetchval(f"SELECT count(*) FROM tasks WHERE {UNFINISHED_SQL}")  # noqa: S608
        live = await conn.fetchval(
            "SELECT count(*) FROM engine_processes WHERE beat_at >= clock_timestamp() - interval '1 minute'"
        )
        return DatabaseState(version, int(unfinished), int(live))
    finally:
        await conn.close()


class Transfer(PostgresConnection):
    """`migrate-store`'s side of the PostgreSQL store (see store.py)."""

    async def holds_data(self) -> bool:
        """Whether any task, preference or tombstone is stored already."""
        return bool(
            await self._fetchval(
                "SELECT EXISTS (SELECT 1 FROM tasks) OR EXISTS (SELECT 1 FROM user_prefs)"
                " OR EXISTS (SELECT 1 FROM forgotten_tasks)",
                {},
            )
        )

    async def import_rows(
        self,
        *,
        tasks: Sequence[Sequence[Any]],
        user_prefs: Sequence[Sequence[Any]],
        forgotten: Sequence[Sequence[Any]],
    ) -> Imported:
        """Insert rows given in native values (`COLUMNS`, `USER_PREFS_COLUMNS`, `FORGOTTEN_COLUMNS`
        order), all in one transaction: all of them or none. A key the target already has is kept as
        it is. Bulk: each table goes through COPY into a temporary table first."""
        async with self._connected().acquire() as conn, conn.transaction():
            await conn.execute(
                "CREATE TEMP TABLE incoming_tasks (LIKE tasks INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            await conn.copy_records_to_table("incoming_tasks", records=tasks, columns=list(COLUMNS))
            moved = await conn.fetch(
                f"INSERT INTO tasks ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM incoming_tasks "  # noqa: S608
                f"ON CONFLICT (key) DO NOTHING RETURNING ({UNFINISHED_SQL}), notify_due_at IS NOT NULL"
            )
            prefs = await self._copy_in(conn, "user_prefs", USER_PREFS_COLUMNS, "user_id", user_prefs)
            tombstones = await self._copy_in(conn, "forgotten_tasks", FORGOTTEN_COLUMNS, "key", forgotten)
        return Imported(
            tasks=len(moved),
            unfinished=sum(1 for row in moved if row[0]),
            reports_owed=sum(1 for row in moved if row[1]),
            tasks_kept=len(tasks) - len(moved),
            user_prefs=prefs,
            forgotten=tombstones,
        )

    @staticmethod
    async def _copy_in(
        conn: asyncpg.pool.PoolConnectionProxy,
        table: str,
        columns: Sequence[str],
        key: str,
        rows: Sequence[Sequence[Any]],
    ) -> int:
        staging = f"incoming_{table}"
        column_list = ", ".join(columns)
        await conn.execute(f"CREATE TEMP TABLE {staging} (LIKE {table}) ON COMMIT DROP")
        await conn.copy_records_to_table(staging, records=rows, columns=list(columns))
        status = await conn.execute(
            f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {staging} "  # noqa: S608
            f"ON CONFLICT ({key}) DO NOTHING"
        )
        return int(status.rsplit(" ", 1)[-1])

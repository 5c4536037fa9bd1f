"""`python -m bot migrate-store --from sqlite:///PATH --to postgresql://...`: move a SQLite database
into PostgreSQL, when one process is no longer enough.

Everything moves, in one transaction: every task (unfinished ones and owed reports included, so the
processes started on PostgreSQL carry on where the SQLite bot stopped), the users' preferences and
the ids of pruned tasks. Leases do not move (they named the old process). The SQLite file is held with
the bot's own lock meanwhile, so a bot still running on it is refused, and it is left as it was
(brought to the current schema first, as the bot itself would). A target that already holds data is
refused unless `--into-non-empty` says so; then keys it already has are kept as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.app.single_process import DatabaseInUseError, exclusive_database_lock
from bot.engine.store.decoding import COLUMN_LIST, COLUMNS
from bot.engine.store.postgres.connection import describe_url
from bot.engine.store.postgres.store import PostgresTaskStore
from bot.engine.store.postgres.transfer import FORGOTTEN_COLUMNS, USER_PREFS_COLUMNS, Imported
from bot.engine.store.sqlite.rows import decode_optional_time
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.settings import POSTGRES_SCHEMES

_TIMES = frozenset(
    {
        "reply_token_expires_at",
        "created_at",
        "updated_at",
        "next_poll_at",
        "completed_at",
        "notify_due_at",
        "processing_started_at",
        "forgotten_at",
    }
)
_JSON = frozenset({"input_assets", "metadata", "result", "extra"})
_BOOLEANS = frozenset({"confirmed", "cancel_requested", "maybe_created", "notify_dm"})
_LEASES = frozenset({"lease_owner", "lease_until", "report_owner", "report_until"})


def _native(column: str, value: object) -> object:
    """A SQLite value as the PostgreSQL column takes it."""
    if column in _LEASES:
        return None
    if column in _TIMES:
        return decode_optional_time(value)
    if column in _BOOLEANS:
        return bool(value)
    if column in _JSON and isinstance(value, str):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            decoded = None  # unreadable: the bot reads it as missing anyway
        if isinstance(decoded, dict):
            return decoded
        return {} if column == "extra" else None
    return value


def read_sqlite(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the three tables, in native values, read in one read transaction."""
    tables = {
        "tasks": (COLUMNS, f"SELECT {COLUMN_LIST} FROM tasks ORDER BY created_at, key"),  # noqa: S608
        "user_prefs": (USER_PREFS_COLUMNS, "SELECT user_id, notify_dm, updated_at FROM user_prefs"),
        "forgotten_tasks": (
            FORGOTTEN_COLUMNS,
            "SELECT key, task_id, guild_id, requester_id, forgotten_at FROM forgotten_tasks",
        ),
    }
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.execute("BEGIN")
        for table, (columns, sql) in tables.items():
            rows[table] = [
                tuple(_native(column, value) for column, value in zip(columns, row, strict=True))
                for row in conn.execute(sql)
            ]
    return rows


def describe(imported: Imported) -> str:
    plural = "" if imported.forgotten == 1 else "s"
    text = (
        f"moved {imported.tasks} tasks ({imported.unfinished} unfinished, {imported.reports_owed} reports "
        f"owed), {imported.user_prefs} user preferences, {imported.forgotten} forgotten task id{plural}"
    )
    if imported.tasks_kept:
        text += f"; {imported.tasks_kept} tasks already there were kept as they were"
    return text


async def run_migrate_store(
    source: str, target: str, *, into_non_empty: bool = False, out: TextIO = sys.stdout
) -> int:
    """Exit status: 0 moved, 1 refused or failed, 2 bad arguments. One line says what happened."""

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    if not source.startswith("sqlite:///") or len(source) <= len("sqlite:///"):
        say("--from must be sqlite:///PATH (the database the bot has used so far)")
        return 2
    if not target.startswith(POSTGRES_SCHEMES):
        say("--to must be postgresql://USER@HOST:PORT/DATABASE")
        return 2
    path = Path(source.removeprefix("sqlite:///"))
    if not await asyncio.to_thread(path.is_file):
        say(f"no SQLite database at {path}")
        return 1
    try:
        with exclusive_database_lock(path):
            return await _migrate(path, target, into_non_empty=into_non_empty, say=say)
    except DatabaseInUseError as error:
        say(f"{error}")
        return 1


async def _migrate(path: Path, target: str, *, into_non_empty: bool, say: Any) -> int:  # noqa: ANN401
    where = describe_url(target)
    async with SqliteTaskStore(path):
        pass  # brings an older file to the current schema, as starting the bot would
    rows = await asyncio.to_thread(read_sqlite, path)
    try:
        async with PostgresTaskStore(target, pool_size=1) as store:
            if await store.holds_data() and not into_non_empty:
                say(
                    f"refusing to migrate into a database that holds data ({where}); "
                    "add --into-non-empty to add to it (keys it has already are kept)"
                )
                return 1
            imported = await store.import_rows(
                tasks=rows["tasks"], user_prefs=rows["user_prefs"], forgotten=rows["forgotten_tasks"]
            )
    except OSError as error:
        say(f"cannot reach {where}: {error}")
        return 1
    say(f"{describe(imported)} from {path} to {where}")
    return 0

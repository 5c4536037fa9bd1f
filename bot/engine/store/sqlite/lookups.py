"""Reading task rows on SQLite for the front end: by key or id, a requester's tasks, counts."""

# ruff: noqa: S608  # SQL text is assembled only from module constants; values are always bound.

from __future__ import annotations

import re

from bot.engine.store.interface import TaskRecord
from bot.engine.store.sqlite.connection import SqliteConnection
from bot.engine.store.sqlite.migrations import UNFINISHED_SQL
from bot.engine.store.sqlite.rows import COLUMN_LIST

# What an id prefix may hold: the characters of keys (snowflakes) and gateway task ids (UUIDs).
ID_PREFIX = re.compile(r"[0-9A-Za-z_-]{1,100}")


class Lookups(SqliteConnection):
    """The read-only methods of `TaskStore` (see store.py)."""

    async def get(self, key: str) -> TaskRecord | None:
        """The row for `key`; None when unknown (or unreadable by this version, which is logged)."""
        rows = await self._fetch_rows(f"SELECT {COLUMN_LIST} FROM tasks WHERE key = :key", {"key": key})
        return self._decode_one(rows)

    async def active_for_requester(self, requester_id: int) -> list[TaskRecord]:
        """The requester's unfinished rows, newest (created_at) first."""
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks
            WHERE requester_id = :requester_id AND {UNFINISHED_SQL}
            ORDER BY created_at DESC, key DESC"""
        return self._decode_all(await self._fetch_rows(sql, {"requester_id": requester_id}))

    async def find_by_id(self, task_id: str) -> TaskRecord | None:
        """The row whose key equals `task_id`, else whose gateway task id equals it (any case)."""
        record = await self.get(task_id)
        if record is not None:
            return record
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks WHERE task_id = :task_id COLLATE NOCASE AND task_id IS NOT NULL
            ORDER BY created_at DESC LIMIT 1"""
        return self._decode_one(await self._fetch_rows(sql, {"task_id": task_id}))

    async def find_by_prefix(
        self, prefix: str, *, guild_id: int, requester_id: int, channel_id: int | None = None, limit: int = 2
    ) -> list[TaskRecord]:
        """Rows of this guild whose key or task id starts with `prefix` (any case), the requester's own
        and, with `channel_id`, that channel's; newest first, at most `limit`."""
        if not prefix or not ID_PREFIX.fullmatch(prefix):
            return []
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks
            WHERE guild_id = :guild_id AND (requester_id = :requester_id OR channel_id = :channel_id)
                  AND (key LIKE :pattern ESCAPE '\\' OR task_id LIKE :pattern ESCAPE '\\')
            ORDER BY created_at DESC, key DESC LIMIT :limit"""
        params = {
            "guild_id": guild_id,
            "requester_id": requester_id,
            "channel_id": channel_id,
            "pattern": prefix.replace("_", "\\_") + "%",
            "limit": limit,
        }
        return self._decode_all(await self._fetch_rows(sql, params))

    async def count_unfinished(self) -> int:
        """How many rows are unfinished (no local outcome, status NULL or not terminal)."""
        rows = await self._fetch_rows(f"SELECT COUNT(*) FROM tasks WHERE {UNFINISHED_SQL}", {})
        return int(rows[0][0])

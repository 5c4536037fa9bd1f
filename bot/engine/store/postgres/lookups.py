"""Reading task rows on PostgreSQL for the front end, and what it keeps beside them: by key or id, a
requester's tasks and history, counts, result replies and re-hosted files, users' preferences, and
the ids of pruned tasks."""

# ruff: noqa: S608  # SQL text is assembled only from module constants; values are always bound.

from __future__ import annotations

import re
from datetime import datetime

from bot.engine.store.decoding import COLUMN_LIST
from bot.engine.store.interface import TaskRecord
from bot.engine.store.postgres.connection import PostgresConnection
from bot.engine.store.postgres.migrations import UNFINISHED_SQL

# What an id prefix may hold: the characters of keys (snowflakes) and gateway task ids (UUIDs).
ID_PREFIX = re.compile(r"[0-9A-Za-z_-]{1,100}")
MEDIA_STATES = frozenset({"pending", "attached", "skipped"})


class Lookups(PostgresConnection):
    """The read-only methods of `TaskStore`, and the front end's own part (see store.py)."""

    async def get(self, key: str) -> TaskRecord | None:
        """The row for `key`; None when unknown (or unreadable by this version, which is logged)."""
        rows = await self._fetch(f"SELECT {COLUMN_LIST} FROM tasks WHERE key = :key", {"key": key})
        return self._decode_one(rows)

    async def active_for_requester(self, requester_id: int) -> list[TaskRecord]:
        """The requester's unfinished rows, newest (created_at) first."""
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks
            WHERE requester_id = :requester_id::bigint AND {UNFINISHED_SQL}
            ORDER BY created_at DESC, key DESC"""
        return self._decode_all(await self._fetch(sql, {"requester_id": requester_id}))

    async def find_by_id(self, task_id: str) -> TaskRecord | None:
        """The row whose key equals `task_id`, else whose gateway task id equals it (any case)."""
        record = await self.get(task_id)
        if record is not None:
            return record
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks
            WHERE lower(task_id) = lower(:task_id::text) AND task_id IS NOT NULL
            ORDER BY created_at DESC LIMIT 1"""
        return self._decode_one(await self._fetch(sql, {"task_id": task_id}))

    async def find_by_prefix(
        self, prefix: str, *, guild_id: int, requester_id: int, channel_id: int | None = None, limit: int = 2
    ) -> list[TaskRecord]:
        """Rows of this guild whose key or task id starts with `prefix` (any case), the requester's own
        and, with `channel_id`, that channel's; newest first, at most `limit`."""
        if not prefix or not ID_PREFIX.fullmatch(prefix):
            return []
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks
            WHERE guild_id = :guild_id::bigint
                  AND (requester_id = :requester_id::bigint OR channel_id = :channel_id::bigint)
                  AND (key ILIKE :pattern::text ESCAPE '\\' OR task_id ILIKE :pattern::text ESCAPE '\\')
            ORDER BY created_at DESC, key DESC LIMIT :limit::int"""
        params = {
            "guild_id": guild_id,
            "requester_id": requester_id,
            "channel_id": channel_id,
            "pattern": prefix.replace("_", "\\_") + "%",
            "limit": limit,
        }
        return self._decode_all(await self._fetch(sql, params))

    async def count_unfinished(self) -> int:
        """How many rows are unfinished (no local outcome, status NULL or not terminal)."""
        return int(await self._fetchval(f"SELECT count(*) FROM tasks WHERE {UNFINISHED_SQL}", {}))

    # -- results, history and users ----------------------------------------------------------------

    async def set_reply_message(self, key: str, *, message_id: int) -> None:
        await self._execute(
            "UPDATE tasks SET reply_message_id = :message_id::bigint WHERE key = :key",
            {"key": key, "message_id": message_id},
        )

    async def set_media(
        self, key: str, *, state: str, filename: str | None = None, note: str | None = None
    ) -> TaskRecord | None:
        if state not in MEDIA_STATES:
            raise ValueError(f"unknown media state {state!r}")
        sql = f"""
            UPDATE tasks SET media_state = :state::text, media_filename = :filename::text,
                             media_note = :note::text
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        note = None if note is None else note[:300]
        params = {"key": key, "state": state, "filename": filename, "note": note}
        return await self._update_one(sql, params)

    async def media_pending(self, *, limit: int) -> list[TaskRecord]:
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks WHERE media_state = 'pending'
            ORDER BY completed_at LIMIT :limit::int"""
        return self._decode_all(await self._fetch(sql, {"limit": limit}))

    async def recent_for_requester(
        self, requester_id: int, *, guild_id: int, offset: int, limit: int
    ) -> list[TaskRecord]:
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks
            WHERE requester_id = :requester_id::bigint AND guild_id = :guild_id::bigint
            ORDER BY created_at DESC, key DESC LIMIT :limit::int OFFSET :offset::int"""
        params = {"requester_id": requester_id, "guild_id": guild_id, "limit": limit, "offset": offset}
        return self._decode_all(await self._fetch(sql, params))

    async def count_for_requester(self, requester_id: int, *, guild_id: int) -> int:
        return int(
            await self._fetchval(
                "SELECT count(*) FROM tasks WHERE requester_id = :requester_id::bigint "
                "AND guild_id = :guild_id::bigint",
                {"requester_id": requester_id, "guild_id": guild_id},
            )
        )

    async def mark_deleted(self, key: str, *, by: int, now: datetime) -> None:
        await self._execute(
            "UPDATE tasks SET deleted_by = COALESCE(deleted_by, :by::bigint), "
            "deleted_at = COALESCE(deleted_at, :now::timestamptz) WHERE key = :key::text",
            {"key": key, "by": by, "now": now},
        )

    async def notify_dm(self, user_id: int) -> bool:
        value = await self._fetchval(
            "SELECT notify_dm FROM user_prefs WHERE user_id = :user_id::bigint", {"user_id": user_id}
        )
        return bool(value)

    async def set_notify_dm(self, user_id: int, *, enabled: bool, now: datetime) -> None:
        await self._execute(
            "INSERT INTO user_prefs (user_id, notify_dm, updated_at) "
            "VALUES (:user_id::bigint, :enabled::boolean, :now::timestamptz) "
            "ON CONFLICT (user_id) DO UPDATE "
            "SET notify_dm = EXCLUDED.notify_dm, updated_at = EXCLUDED.updated_at",
            {"user_id": user_id, "enabled": enabled, "now": now},
        )

    async def was_forgotten(self, task_id: str) -> bool:
        found = await self._fetchval(
            "SELECT 1 FROM forgotten_tasks "
            "WHERE key = :id::text OR lower(task_id) = lower(:id::text) LIMIT 1",
            {"id": task_id},
        )
        return found is not None

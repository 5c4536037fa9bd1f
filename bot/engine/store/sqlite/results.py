"""What the front end keeps on SQLite beside the engine's rows: result replies and re-hosted files,
a requester's history, users' preferences, and the ids of pruned tasks."""

# ruff: noqa: S608  # SQL text is assembled only from module constants; values are always bound.

from __future__ import annotations

from datetime import datetime

from bot.engine.store.interface import TaskRecord
from bot.engine.store.sqlite.connection import SqliteConnection
from bot.engine.store.sqlite.rows import COLUMN_LIST, encode_time

MEDIA_STATES = frozenset({"pending", "attached", "skipped"})


class ResultRows(SqliteConnection):
    """The front end's part of `TaskStore` (see store.py)."""

    async def set_reply_message(self, key: str, *, message_id: int) -> None:
        async with self._write() as conn:
            await conn.execute(
                "UPDATE tasks SET reply_message_id = :message_id WHERE key = :key",
                {"key": key, "message_id": message_id},
            )

    async def set_media(
        self, key: str, *, state: str, filename: str | None = None, note: str | None = None
    ) -> TaskRecord | None:
        if state not in MEDIA_STATES:
            raise ValueError(f"unknown media state {state!r}")
        sql = f"""
            UPDATE tasks SET media_state = :state, media_filename = :filename, media_note = :note
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {
            "key": key,
            "state": state,
            "filename": filename,
            "note": None if note is None else note[:300],
        }
        return await self._update_one(sql, params)

    async def media_pending(self, *, limit: int) -> list[TaskRecord]:
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks WHERE media_state = 'pending'
            ORDER BY completed_at LIMIT :limit"""
        return self._decode_all(await self._fetch_rows(sql, {"limit": limit}))

    async def recent_for_requester(
        self, requester_id: int, *, guild_id: int, offset: int, limit: int
    ) -> list[TaskRecord]:
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks
            WHERE requester_id = :requester_id AND guild_id = :guild_id
            ORDER BY created_at DESC, key DESC LIMIT :limit OFFSET :offset"""
        params = {"requester_id": requester_id, "guild_id": guild_id, "limit": limit, "offset": offset}
        return self._decode_all(await self._fetch_rows(sql, params))

    async def count_for_requester(self, requester_id: int, *, guild_id: int) -> int:
        rows = await self._fetch_rows(
            "SELECT COUNT(*) FROM tasks WHERE requester_id = :requester_id AND guild_id = :guild_id",
            {"requester_id": requester_id, "guild_id": guild_id},
        )
        return int(rows[0][0])

    async def mark_deleted(self, key: str, *, by: int, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                "UPDATE tasks SET deleted_by = COALESCE(deleted_by, :by), "
                "deleted_at = COALESCE(deleted_at, :now) WHERE key = :key",
                {"key": key, "by": by, "now": encode_time(now)},
            )

    async def notify_dm(self, user_id: int) -> bool:
        rows = await self._fetch_rows(
            "SELECT notify_dm FROM user_prefs WHERE user_id = :user_id", {"user_id": user_id}
        )
        return bool(rows and rows[0][0])

    async def set_notify_dm(self, user_id: int, *, enabled: bool, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                "INSERT INTO user_prefs (user_id, notify_dm, updated_at) VALUES (:user_id, :enabled, :now) "
                "ON CONFLICT (user_id) DO UPDATE SET notify_dm = :enabled, updated_at = :now",
                {"user_id": user_id, "enabled": int(enabled), "now": encode_time(now)},
            )

    async def was_forgotten(self, task_id: str) -> bool:
        rows = await self._fetch_rows(
            "SELECT 1 FROM forgotten_tasks WHERE key = :id OR task_id = :id COLLATE NOCASE LIMIT 1",
            {"id": task_id},
        )
        return bool(rows)

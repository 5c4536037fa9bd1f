"""The engine's writes to task rows on SQLite: creation, what is due, what the gateway said, reports."""

# ruff: noqa: S608  # SQL text is assembled only from module constants; values are always bound.

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus
from bot.engine.store.interface import ActiveLimitError, DuplicateTaskError, NewTask, TaskRecord
from bot.engine.store.sqlite.connection import SqliteConnection
from bot.engine.store.sqlite.migrations import UNFINISHED_SQL
from bot.engine.store.sqlite.rows import (
    COLUMN_LIST,
    encode_json,
    encode_optional_time,
    encode_result,
    encode_time,
)

# A report becomes owed "now", unless one is already owed from an earlier time (keep the earlier one).
_OWE_REPORT_SQL = "CASE WHEN notify_due_at <= :now THEN notify_due_at ELSE :now END"  # NULL <= x is NULL


class TaskRows(SqliteConnection):
    """The methods of `TaskStore` the engine uses to move a row through its life (see store.py)."""

    # -- creation ------------------------------------------------------------------------------------

    async def insert(
        self,
        task: NewTask,
        *,
        now: datetime,
        next_poll_at: datetime | None,
        max_unfinished_for_requester: int | None = None,
    ) -> TaskRecord:
        """Write the row for a new request: unconfirmed, not created (status NULL), attempts 0, no report
        owed, created_at = updated_at = now. Raises `DuplicateTaskError` when the key exists, and
        `ActiveLimitError` when the requester already has `max_unfinished_for_requester` unfinished rows
        (counted and inserted in one transaction, so concurrent requests cannot both slip through)."""
        stamp = encode_time(now)
        params = {
            "key": task.key,
            "task_type": task.task_type.value,
            "model": task.model,
            "prompt": task.prompt,
            "requester_id": task.requester_id,
            "channel_id": task.channel_id,
            "guild_id": task.guild_id,
            "input_assets": encode_json(task.input_assets),
            "metadata": encode_json(task.metadata),
            "message_id": task.message_id,
            "reply_token": task.reply_token,
            "reply_token_expires_at": encode_optional_time(task.reply_token_expires_at),
            "created_at": stamp,
            "updated_at": stamp,
            "next_poll_at": encode_optional_time(next_poll_at),
            "upload_limit": task.upload_limit,
            "origin_key": task.origin_key,
            "origin_action": task.origin_action,
        }
        columns = ", ".join(params)
        placeholders = ", ".join(f":{name}" for name in params)
        sql = (
            f"INSERT INTO tasks ({columns}) SELECT {placeholders} WHERE :limit IS NULL OR ("
            f"SELECT COUNT(*) FROM tasks WHERE requester_id = :requester_id AND {UNFINISHED_SQL}) < :limit "
            f"RETURNING {COLUMN_LIST}"
        )
        try:
            async with self._write() as conn:
                rows = list(
                    await conn.execute_fetchall(sql, {**params, "limit": max_unfinished_for_requester})
                )
        except sqlite3.IntegrityError as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
                raise DuplicateTaskError(task.key) from exc
            raise
        if not rows:
            raise ActiveLimitError(task.requester_id, max_unfinished_for_requester or 0)
        record = self._decode_one(rows)
        if record is None:  # cannot happen for a row this code just wrote
            raise RuntimeError(f"task {task.key}: inserted row cannot be read back")
        return record

    async def delete_unconfirmed(self, key: str) -> bool:
        """Delete the row only if it is unconfirmed AND was never created at the gateway; True if deleted."""
        async with self._write() as conn:
            cursor = await conn.execute(
                "DELETE FROM tasks WHERE key = :key AND confirmed = 0 AND task_id IS NULL", {"key": key}
            )
            deleted = cursor.rowcount
        return deleted > 0

    async def confirm(self, key: str, *, message_id: int | None, now: datetime) -> TaskRecord | None:
        """confirmed = True; message_id stored unless None. An unfinished row not yet created becomes
        due now (next_poll_at = now); a created row keeps its schedule. None when the key is unknown."""
        sql = f"""
            UPDATE tasks SET
                confirmed = 1,
                message_id = COALESCE(:message_id, message_id),
                updated_at = :now,
                next_poll_at = CASE WHEN task_id IS NULL AND {UNFINISHED_SQL} THEN :now
                                    ELSE next_poll_at END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        return await self._update_one(sql, {"key": key, "message_id": message_id, "now": encode_time(now)})

    async def set_message(self, key: str, *, message_id: int | None, clear_reply_token: bool) -> None:
        """Store a new message id (None keeps the current one); with `clear_reply_token` drop the reply
        token and its expiry. updated_at is left alone (no clock is given); unknown keys are ignored."""
        sql = f"""
            UPDATE tasks SET
                message_id = COALESCE(:message_id, message_id),
                reply_token = CASE WHEN :clear THEN NULL ELSE reply_token END,
                reply_token_expires_at = CASE WHEN :clear THEN NULL ELSE reply_token_expires_at END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        await self._update_one(sql, {"key": key, "message_id": message_id, "clear": int(clear_reply_token)})

    # -- what the gateway said -------------------------------------------------------------------

    async def record_created(
        self, key: str, *, task_id: str, status: TaskStatus | None, now: datetime, next_poll_at: datetime
    ) -> TaskRecord:
        """Store task_id and status (None: not known yet, a GET will tell), attempts = 0, next_poll_at
        as given, and clear the progress text (before a create it only holds the bot's own note). A
        report is owed (notify_due_at = now, or kept if already earlier) when status differs from
        notified_status or a progress text was shown. Raises `UnknownTaskError` for an unknown key."""
        sql = f"""
            UPDATE tasks SET
                task_id = :task_id, status = :status, attempts = 0, updated_at = :now,
                next_poll_at = :next_poll_at, progress = NULL,
                notify_due_at = CASE WHEN notified_status IS NOT :status OR notified_progress IS NOT NULL
                                     THEN {_OWE_REPORT_SQL} ELSE notify_due_at END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {
            "task_id": task_id,
            "status": None if status is None else int(status),
            "now": encode_time(now),
            "next_poll_at": encode_time(next_poll_at),
        }
        return await self._update_existing(key, sql, params)

    async def record_poll(
        self,
        key: str,
        *,
        status: TaskStatus,
        result: ResultAssets | None,
        error_code: str | None,
        error_message: str | None,
        progress: str | None,
        events_seen: int,
        now: datetime,
        next_poll_at: datetime | None,
        completed_at: datetime | None,
        result_problem: str | None = None,
    ) -> TaskRecord:
        """Store status, result, result_problem, error, progress, events_seen, next_poll_at and
        completed_at exactly as given (a terminal status comes with next_poll_at None); reset attempts
        and bad_reads to 0; processing_started_at = now the first time status is PROCESSING. When status
        differs from notified_status or progress from notified_progress, a report is owed
        (notify_due_at = now, or kept if already earlier). Raises `UnknownTaskError` for an unknown key."""
        sql = f"""
            UPDATE tasks SET
                status = :status, result = :result, error_code = :error_code,
                error_message = :error_message, progress = :progress, events_seen = :events_seen,
                next_poll_at = :next_poll_at, completed_at = :completed_at, attempts = 0,
                bad_reads = 0, result_problem = :result_problem, updated_at = :now,
                lease_owner = CASE WHEN :status BETWEEN 4 AND 8 THEN NULL ELSE lease_owner END,
                lease_until = CASE WHEN :status BETWEEN 4 AND 8 THEN NULL ELSE lease_until END,
                processing_started_at = COALESCE(
                    processing_started_at, CASE WHEN :status = {int(TaskStatus.PROCESSING)} THEN :now END
                ),
                notify_due_at = CASE WHEN notified_status IS NOT :status
                                       OR notified_progress IS NOT :progress
                                     THEN {_OWE_REPORT_SQL} ELSE notify_due_at END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {
            "status": int(status),
            "result": encode_result(result),
            "error_code": error_code,
            "error_message": error_message,
            "progress": progress,
            "events_seen": events_seen,
            "next_poll_at": encode_optional_time(next_poll_at),
            "completed_at": encode_optional_time(completed_at),
            "now": encode_time(now),
            "result_problem": result_problem,
        }
        return await self._update_existing(key, sql, params)

    async def record_outcome(
        self,
        key: str,
        *,
        outcome: LocalOutcome,
        error_code: str | None,
        error_message: str | None,
        now: datetime,
    ) -> TaskRecord:
        """End the task locally: local_outcome and error stored, next_poll_at NULL, completed_at = now,
        a report owed (notify_due_at = now, or kept if already earlier). `UnknownTaskError` if unknown."""
        sql = f"""
            UPDATE tasks SET
                local_outcome = :outcome, error_code = :error_code, error_message = :error_message,
                next_poll_at = NULL, completed_at = :now, updated_at = :now,
                lease_owner = NULL, lease_until = NULL,
                notify_due_at = {_OWE_REPORT_SQL}
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {
            "outcome": outcome.value,
            "error_code": error_code,
            "error_message": error_message,
            "now": encode_time(now),
        }
        return await self._update_existing(key, sql, params)

    async def record_failure(
        self,
        key: str,
        *,
        now: datetime,
        next_poll_at: datetime,
        bad_read: bool = False,
        maybe_created: bool = False,
        note: str | None = None,
    ) -> TaskRecord:
        """attempts += 1 and next_poll_at as given; bad_reads += 1 with `bad_read` (else kept);
        maybe_created set (never cleared) with `maybe_created`; with a `note`, progress = note and a
        report is owed when it differs from notified_progress. `UnknownTaskError` for an unknown key."""
        sql = f"""
            UPDATE tasks SET
                attempts = attempts + 1, next_poll_at = :next_poll_at, updated_at = :now,
                bad_reads = bad_reads + :bad_read, maybe_created = MAX(maybe_created, :maybe_created),
                progress = COALESCE(:note, progress),
                notify_due_at = CASE WHEN :note IS NOT NULL AND notified_progress IS NOT :note
                                     THEN {_OWE_REPORT_SQL} ELSE notify_due_at END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {
            "now": encode_time(now),
            "next_poll_at": encode_time(next_poll_at),
            "bad_read": int(bad_read),
            "maybe_created": int(maybe_created),
            "note": note,
        }
        return await self._update_existing(key, sql, params)

    async def request_cancel(
        self, key: str, *, now: datetime, by: int | None = None, by_name: str | None = None
    ) -> TaskRecord | None:
        """If the row is unfinished: cancel_requested = True, due now (next_poll_at = now), and
        cancelled_by/_name set unless already set (the first canceller is kept). A finished row is
        returned unchanged. None when the key is unknown."""
        sql = f"""
            UPDATE tasks SET
                cancel_requested = CASE WHEN {UNFINISHED_SQL} THEN 1 ELSE cancel_requested END,
                next_poll_at = CASE WHEN {UNFINISHED_SQL} THEN :now ELSE next_poll_at END,
                updated_at = CASE WHEN {UNFINISHED_SQL} THEN :now ELSE updated_at END,
                cancelled_by_name = CASE WHEN {UNFINISHED_SQL} AND cancelled_by IS NULL
                                         THEN :by_name ELSE cancelled_by_name END,
                cancelled_by = CASE WHEN {UNFINISHED_SQL} THEN COALESCE(cancelled_by, :by)
                                    ELSE cancelled_by END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {"key": key, "now": encode_time(now), "by": by, "by_name": by_name}
        return await self._update_one(sql, params)

    # -- reporting -------------------------------------------------------------------------------

    async def mark_notified(
        self,
        key: str,
        *,
        status: TaskStatus | None,
        outcome: LocalOutcome | None,
        progress: str | None,
    ) -> None:
        """Record the acknowledged state as notified_status/outcome/progress, and clear notify_due_at
        only if the row still has exactly that status, local outcome and progress. If the row moved on
        meanwhile (a poll landed during the report) notify_due_at stays set and one more report is
        owed: this compare-and-clear, in one statement, is what makes every change reported once.
        Unknown keys are ignored."""
        # The reply token is a credential: once the final state is acknowledged it has no more use;
        # nor has the report lease.
        final = f"NOT ({UNFINISHED_SQL}) AND status IS :status AND local_outcome IS :outcome"
        sql = f"""
            UPDATE tasks SET
                notified_status = :status, notified_outcome = :outcome, notified_progress = :progress,
                notify_due_at = CASE WHEN status IS :status AND local_outcome IS :outcome
                                          AND progress IS :progress
                                     THEN NULL ELSE notify_due_at END,
                reply_token = CASE WHEN {final} THEN NULL ELSE reply_token END,
                reply_token_expires_at = CASE WHEN {final} THEN NULL ELSE reply_token_expires_at END,
                report_owner = CASE WHEN {final} THEN NULL ELSE report_owner END,
                report_until = CASE WHEN {final} THEN NULL ELSE report_until END
            WHERE key = :key"""
        params = {
            "key": key,
            "status": None if status is None else int(status),
            "outcome": None if outcome is None else outcome.value,
            "progress": progress,
        }
        async with self._write() as conn:
            await conn.execute(sql, params)

    async def defer_notify(self, key: str, *, notify_due_at: datetime) -> None:
        """Set notify_due_at (the notifier failed; try again then). Unknown keys are ignored."""
        async with self._write() as conn:
            await conn.execute(
                "UPDATE tasks SET notify_due_at = :due WHERE key = :key",
                {"key": key, "due": encode_time(notify_due_at)},
            )

    async def prune_finished(self, *, completed_before: datetime, now: datetime, limit: int = 1000) -> int:
        """Delete up to `limit` finished rows completed before `completed_before` whose reports are all
        delivered, leaving a tombstone for each (so /show can say "forgotten"); how many were deleted.
        Unfinished rows and rows owing a report are never deleted. Tombstones older than the same
        cut-off go too: after two retention periods an id is simply unknown."""
        before = encode_time(completed_before)
        select = f"""
            SELECT key FROM tasks
            WHERE completed_at IS NOT NULL AND completed_at < :before AND notify_due_at IS NULL
                  AND NOT ({UNFINISHED_SQL})
            LIMIT :limit"""
        async with self._write() as conn:
            found = await conn.execute_fetchall(select, {"before": before, "limit": limit})
            keys = [str(row[0]) for row in found]
            await conn.executemany(
                "INSERT OR IGNORE INTO forgotten_tasks (key, task_id, guild_id, requester_id, forgotten_at) "
                "SELECT key, task_id, guild_id, requester_id, ? FROM tasks WHERE key = ?",
                [(encode_time(now), key) for key in keys],
            )
            await conn.executemany("DELETE FROM tasks WHERE key = ?", [(key,) for key in keys])
            await conn.execute("DELETE FROM forgotten_tasks WHERE forgotten_at < :before", {"before": before})
        return len(keys)

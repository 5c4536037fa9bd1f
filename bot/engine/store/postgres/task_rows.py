"""The engine's writes to task rows on PostgreSQL: creation, what the gateway said, reports, pruning.

Same semantics as the SQLite store's (store/sqlite/task_rows.py), statement for statement; parameters
carry explicit casts because PostgreSQL infers a parameter's type from where it first appears.
"""

# ruff: noqa: S608  # SQL text is assembled only from module constants; values are always bound.

from __future__ import annotations

from datetime import datetime

import asyncpg

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus
from bot.engine.store.decoding import COLUMN_LIST
from bot.engine.store.interface import ActiveLimitError, DuplicateTaskError, NewTask, TaskRecord
from bot.engine.store.postgres.connection import PostgresConnection
from bot.engine.store.postgres.migrations import UNFINISHED_SQL
from bot.engine.store.postgres.rows import encode_result

# A report becomes owed "now", unless one is already owed from an earlier time (keep the earlier one).
_OWE_REPORT_SQL = "CASE WHEN notify_due_at <= :now::timestamptz THEN notify_due_at ELSE :now::timestamptz END"
# The per-requester limit is counted under this lock (first key: this application; second: the
# requester), so two concurrent inserts of one requester cannot both see room for one more.
_REQUESTER_LOCK_SQL = "SELECT pg_advisory_xact_lock(1297109057, hashtext(:requester_id::bigint::text))"
_TERMINAL = "BETWEEN 4 AND 8"

_INSERT_CASTS = {
    "key": "text",
    "task_type": "text",
    "model": "text",
    "prompt": "text",
    "requester_id": "bigint",
    "channel_id": "bigint",
    "guild_id": "bigint",
    "input_assets": "jsonb",
    "metadata": "jsonb",
    "message_id": "bigint",
    "reply_token": "text",
    "reply_token_expires_at": "timestamptz",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "next_poll_at": "timestamptz",
    "upload_limit": "bigint",
    "origin_key": "text",
    "origin_action": "text",
}
_INSERT_SQL = (
    f"INSERT INTO tasks ({', '.join(_INSERT_CASTS)}) "
    f"VALUES ({', '.join(f':{name}::{cast}' for name, cast in _INSERT_CASTS.items())}) "
    f"RETURNING {COLUMN_LIST}"
)


class TaskRows(PostgresConnection):
    """The methods of `TaskStore` the engine uses to move a row through its life (see store.py)."""

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
        (counted and inserted in one transaction, under a per-requester lock, so concurrent requests of
        one requester, from any process, cannot both slip through)."""
        params = {
            "key": task.key,
            "task_type": task.task_type.value,
            "model": task.model,
            "prompt": task.prompt,
            "requester_id": task.requester_id,
            "channel_id": task.channel_id,
            "guild_id": task.guild_id,
            "input_assets": task.input_assets,
            "metadata": task.metadata,
            "message_id": task.message_id,
            "reply_token": task.reply_token,
            "reply_token_expires_at": task.reply_token_expires_at,
            "created_at": now,
            "updated_at": now,
            "next_poll_at": next_poll_at,
            "upload_limit": task.upload_limit,
            "origin_key": task.origin_key,
            "origin_action": task.origin_action,
        }
        limit = max_unfinished_for_requester
        count_sql = (
            f"SELECT count(*) FROM tasks WHERE requester_id = :requester_id::bigint AND {UNFINISHED_SQL}"
        )
        try:
            async with self._transaction() as tx:
                if limit is not None:
                    await tx.execute(_REQUESTER_LOCK_SQL, {"requester_id": task.requester_id})
                    [(unfinished,)] = await tx.fetch(count_sql, {"requester_id": task.requester_id})
                    if unfinished >= limit:
                        raise ActiveLimitError(task.requester_id, limit)
                rows = await tx.fetch(_INSERT_SQL, params)
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateTaskError(task.key) from exc
        record = self._decode_one(rows)
        if record is None:  # cannot happen for a row this code just wrote
            raise RuntimeError(f"task {task.key}: inserted row cannot be read back")
        return record

    async def delete_unconfirmed(self, key: str) -> bool:
        """Delete the row only if it is unconfirmed AND was never created at the gateway; True if deleted."""
        deleted = await self._execute(
            "DELETE FROM tasks WHERE key = :key AND NOT confirmed AND task_id IS NULL", {"key": key}
        )
        return deleted > 0

    async def confirm(self, key: str, *, message_id: int | None, now: datetime) -> TaskRecord | None:
        """confirmed = True; message_id stored unless None. An unfinished row not yet created becomes
        due now (next_poll_at = now); a created row keeps its schedule. None when the key is unknown."""
        sql = f"""
            UPDATE tasks SET
                confirmed = true,
                message_id = COALESCE(:message_id::bigint, message_id),
                updated_at = :now::timestamptz,
                next_poll_at = CASE WHEN task_id IS NULL AND {UNFINISHED_SQL} THEN :now::timestamptz
                                    ELSE next_poll_at END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        return await self._update_one(sql, {"key": key, "message_id": message_id, "now": now})

    async def set_message(self, key: str, *, message_id: int | None, clear_reply_token: bool) -> None:
        """Store a new message id (None keeps the current one); with `clear_reply_token` drop the reply
        token and its expiry. updated_at is left alone (no clock is given); unknown keys are ignored."""
        sql = """
            UPDATE tasks SET
                message_id = COALESCE(:message_id::bigint, message_id),
                reply_token = CASE WHEN :clear::boolean THEN NULL ELSE reply_token END,
                reply_token_expires_at = CASE WHEN :clear::boolean THEN NULL ELSE reply_token_expires_at END
            WHERE key = :key"""
        await self._execute(sql, {"key": key, "message_id": message_id, "clear": clear_reply_token})

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
                task_id = :task_id::text, status = :status::int, attempts = 0,
                updated_at = :now::timestamptz, next_poll_at = :next_poll_at::timestamptz, progress = NULL,
                notify_due_at = CASE WHEN notified_status IS DISTINCT FROM :status::int
                                          OR notified_progress IS NOT NULL
                                     THEN {_OWE_REPORT_SQL} ELSE notify_due_at END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {
            "task_id": task_id,
            "status": None if status is None else int(status),
            "now": now,
            "next_poll_at": next_poll_at,
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
        and bad_reads to 0; processing_started_at = now the first time status is PROCESSING; a terminal
        status drops the poll lease. When status differs from notified_status or progress from
        notified_progress, a report is owed (notify_due_at = now, or kept if already earlier). Raises
        `UnknownTaskError` for an unknown key."""
        sql = f"""
            UPDATE tasks SET
                status = :status::int, result = :result::jsonb, error_code = :error_code::text,
                error_message = :error_message::text, progress = :progress::text,
                events_seen = :events_seen::int, next_poll_at = :next_poll_at::timestamptz,
                completed_at = :completed_at::timestamptz, attempts = 0, bad_reads = 0,
                result_problem = :result_problem::text, updated_at = :now::timestamptz,
                lease_owner = CASE WHEN :status::int {_TERMINAL} THEN NULL ELSE lease_owner END,
                lease_until = CASE WHEN :status::int {_TERMINAL} THEN NULL ELSE lease_until END,
                processing_started_at = COALESCE(
                    processing_started_at,
                    CASE WHEN :status::int = {int(TaskStatus.PROCESSING)} THEN :now::timestamptz END
                ),
                notify_due_at = CASE WHEN notified_status IS DISTINCT FROM :status::int
                                       OR notified_progress IS DISTINCT FROM :progress::text
                                     THEN {_OWE_REPORT_SQL} ELSE notify_due_at END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {
            "status": int(status),
            "result": encode_result(result),
            "error_code": error_code,
            "error_message": error_message,
            "progress": progress,
            "events_seen": events_seen,
            "next_poll_at": next_poll_at,
            "completed_at": completed_at,
            "now": now,
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
        the poll lease dropped, a report owed (notify_due_at = now, or kept if already earlier).
        `UnknownTaskError` if unknown."""
        sql = f"""
            UPDATE tasks SET
                local_outcome = :outcome::text, error_code = :error_code::text,
                error_message = :error_message::text, next_poll_at = NULL,
                completed_at = :now::timestamptz, updated_at = :now::timestamptz,
                lease_owner = NULL, lease_until = NULL,
                notify_due_at = {_OWE_REPORT_SQL}
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {
            "outcome": outcome.value,
            "error_code": error_code,
            "error_message": error_message,
            "now": now,
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
                attempts = attempts + 1, next_poll_at = :next_poll_at::timestamptz,
                updated_at = :now::timestamptz, bad_reads = bad_reads + :bad_read::int,
                maybe_created = maybe_created OR :maybe_created::boolean,
                progress = COALESCE(:note::text, progress),
                notify_due_at = CASE WHEN :note::text IS NOT NULL
                                          AND notified_progress IS DISTINCT FROM :note::text
                                     THEN {_OWE_REPORT_SQL} ELSE notify_due_at END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        params = {
            "now": now,
            "next_poll_at": next_poll_at,
            "bad_read": int(bad_read),
            "maybe_created": maybe_created,
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
                cancel_requested = CASE WHEN {UNFINISHED_SQL} THEN true ELSE cancel_requested END,
                next_poll_at = CASE WHEN {UNFINISHED_SQL} THEN :now::timestamptz ELSE next_poll_at END,
                updated_at = CASE WHEN {UNFINISHED_SQL} THEN :now::timestamptz ELSE updated_at END,
                cancelled_by_name = CASE WHEN {UNFINISHED_SQL} AND cancelled_by IS NULL
                                         THEN :by_name::text ELSE cancelled_by_name END,
                cancelled_by = CASE WHEN {UNFINISHED_SQL} THEN COALESCE(cancelled_by, :by::bigint)
                                    ELSE cancelled_by END
            WHERE key = :key RETURNING {COLUMN_LIST}"""
        return await self._update_one(sql, {"key": key, "now": now, "by": by, "by_name": by_name})

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
        Once the final state is acknowledged, the reply token and the report lease are cleared.
        Unknown keys are ignored."""
        same = (
            "status IS NOT DISTINCT FROM :status::int AND local_outcome IS NOT DISTINCT FROM :outcome::text"
        )
        final = f"NOT ({UNFINISHED_SQL}) AND {same}"
        sql = f"""
            UPDATE tasks SET
                notified_status = :status::int, notified_outcome = :outcome::text,
                notified_progress = :progress::text,
                notify_due_at = CASE WHEN {same} AND progress IS NOT DISTINCT FROM :progress::text
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
        await self._execute(sql, params)

    async def defer_notify(self, key: str, *, notify_due_at: datetime) -> None:
        """Set notify_due_at (the notifier failed; try again then). Unknown keys are ignored."""
        await self._execute(
            "UPDATE tasks SET notify_due_at = :due::timestamptz WHERE key = :key",
            {"key": key, "due": notify_due_at},
        )

    async def prune_finished(self, *, completed_before: datetime, now: datetime, limit: int = 1000) -> int:
        """Delete up to `limit` finished rows completed before `completed_before` whose reports are all
        delivered, leaving a tombstone for each (so /show can say "forgotten"); how many were deleted.
        Unfinished rows and rows owing a report are never deleted. Tombstones older than the same
        cut-off go too: after two retention periods an id is simply unknown. Rows another process is
        pruning at the same time are skipped, not waited for."""
        prune = f"""
            WITH doomed AS (
                SELECT key FROM tasks
                WHERE completed_at IS NOT NULL AND completed_at < :before::timestamptz
                      AND notify_due_at IS NULL AND NOT ({UNFINISHED_SQL})
                LIMIT :limit::int FOR UPDATE SKIP LOCKED),
            gone AS (
                DELETE FROM tasks USING doomed WHERE tasks.key = doomed.key
                RETURNING tasks.key, tasks.task_id, tasks.guild_id, tasks.requester_id),
            kept AS (
                INSERT INTO forgotten_tasks (key, task_id, guild_id, requester_id, forgotten_at)
                SELECT key, task_id, guild_id, requester_id, :now::timestamptz FROM gone
                ON CONFLICT (key) DO NOTHING)
            SELECT count(*) FROM gone"""
        async with self._transaction() as tx:
            [(pruned,)] = await tx.fetch(prune, {"before": completed_before, "now": now, "limit": limit})
            await tx.execute(
                "DELETE FROM forgotten_tasks WHERE forgotten_at < :before::timestamptz",
                {"before": completed_before},
            )
        return int(pruned)

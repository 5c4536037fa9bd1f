"""What is due on SQLite, and the leases that say which process works on it.

SQLite serves one process (the bot holds a lock file beside the database), so a lease here only ever
names that process, and any lease found at open was left by a process that is gone (connection.py
drops them). The claims still follow the contract of `TaskStore` exactly: each is one `UPDATE ...
RETURNING` in a `BEGIN IMMEDIATE` transaction, so the engine runs the same code on both stores.
"""

# ruff: noqa: S608  # SQL text is assembled only from module constants; values are always bound.

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from bot.engine.store.interface import TaskRecord
from bot.engine.store.leases import EVERY_ROW, LeaseKind, ReportScope, renewed_kinds
from bot.engine.store.sqlite.connection import SqliteConnection
from bot.engine.store.sqlite.migrations import UNFINISHED_SQL
from bot.engine.store.sqlite.rows import COLUMN_LIST, decode_optional_time, encode_time

# A lease `owner` may take: free, already its own, or expired (its holder stopped renewing it).
_POLL_LEASE_FREE_SQL = "(lease_owner IS NULL OR lease_owner = :owner OR lease_until <= :now)"
_REPORT_LEASE_FREE_SQL = "(report_owner IS NULL OR report_owner = :owner OR report_until <= :now)"
_NOT_EXCLUDED_SQL = "key NOT IN (SELECT value FROM json_each(:exclude))"
_DUE_FOR_POLL_SQL = f"{UNFINISHED_SQL} AND next_poll_at <= :now"
_DUE_FOR_NOTIFY_SQL = "notify_due_at IS NOT NULL AND notify_due_at <= :now"


def _scope_sql(scope: ReportScope) -> str:
    if scope.everything:
        return ""
    return " AND ((COALESCE(guild_id, 0) >> 22) % :shard_count) IN (SELECT value FROM json_each(:shard_ids))"


def _scope_params(scope: ReportScope) -> dict[str, Any]:
    return {"shard_count": scope.shard_count, "shard_ids": json.dumps(sorted(scope.shard_ids))}


class Leases(SqliteConnection):
    """The due lists, the wake-up time and the claim API of `TaskStore` (see store.py)."""

    async def _due(self, sql: str, now: datetime, limit: int, exclude: set[str]) -> list[TaskRecord]:
        """Rows of `sql` (ordered, `LIMIT :fetch`) whose key is not in `exclude`, at most `limit`.

        Excluded keys are filtered here rather than in SQL (a huge IN list costs more than it saves):
        the query over-fetches by len(exclude) at most, read in batches so it stops once `limit` is met.
        """
        if limit <= 0:
            return []
        params = {"now": encode_time(now), "fetch": limit + len(exclude)}
        wanted: list[Sequence[Any]] = []
        async with self._lock, self._connection().execute(sql, params) as cursor:
            while len(wanted) < limit:
                batch = await cursor.fetchmany(limit + 64)
                if not batch:
                    break
                wanted.extend(row for row in batch if row[0] not in exclude)
        return self._decode_all(wanted[:limit])

    async def due_for_poll(self, *, now: datetime, limit: int, exclude: set[str]) -> list[TaskRecord]:
        """Unfinished rows (no local outcome, status NULL or not terminal) with next_poll_at <= now,
        key not in `exclude`, earliest next_poll_at first, at most `limit`. Leases are not looked at."""
        sql = f"SELECT {COLUMN_LIST} FROM tasks WHERE {_DUE_FOR_POLL_SQL} ORDER BY next_poll_at LIMIT :fetch"
        return await self._due(sql, now, limit, exclude)

    async def due_for_notify(self, *, now: datetime, limit: int, exclude: set[str]) -> list[TaskRecord]:
        """Rows with notify_due_at <= now (a report is owed and due), key not in `exclude`, earliest
        first, at most `limit`. Finished rows are included: their final report is owed too."""
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks WHERE {_DUE_FOR_NOTIFY_SQL} ORDER BY notify_due_at LIMIT :fetch"""
        return await self._due(sql, now, limit, exclude)

    async def next_wakeup(self, *, owner: str | None = None) -> datetime | None:
        """The earliest of next_poll_at over unfinished rows and notify_due_at over all rows; None if
        nothing is scheduled. With `owner`, rows whose poll (report) lease another owner holds are left
        out of the first (second) term."""
        poll_lease = "" if owner is None else " AND (lease_owner IS NULL OR lease_owner = :owner)"
        report_lease = "" if owner is None else " AND (report_owner IS NULL OR report_owner = :owner)"
        sql = f"""
            SELECT
                (SELECT next_poll_at FROM tasks WHERE {UNFINISHED_SQL} AND next_poll_at IS NOT NULL
                 {poll_lease} ORDER BY next_poll_at LIMIT 1),
                (SELECT notify_due_at FROM tasks WHERE notify_due_at IS NOT NULL {report_lease}
                 ORDER BY notify_due_at LIMIT 1)"""
        rows = await self._fetch_rows(sql, {} if owner is None else {"owner": owner})
        candidates = [decode_optional_time(value) for value in rows[0]]
        return min((moment for moment in candidates if moment is not None), default=None)

    # -- claims ----------------------------------------------------------------------------------

    async def _claim(self, sql: str, params: dict[str, Any], order_by: str) -> list[TaskRecord]:
        async with self._write() as conn:
            rows = list(await conn.execute_fetchall(sql, params))
        records = self._decode_all(rows)
        # RETURNING has no defined order in SQLite: restore the one the claim picked them in.
        records.sort(key=lambda record: (getattr(record, order_by), record.key))
        return records

    async def claim_due_for_poll(
        self, *, owner: str, now: datetime, lease_until: datetime, limit: int, exclude: set[str]
    ) -> list[TaskRecord]:
        """Lease the due, unfinished rows not leased by another owner (see `TaskStore`); earliest
        next_poll_at first, at most `limit`."""
        if limit <= 0:
            return []
        sql = f"""
            UPDATE tasks SET lease_owner = :owner, lease_until = :until
            WHERE key IN (
                SELECT key FROM tasks
                WHERE {_DUE_FOR_POLL_SQL} AND {_POLL_LEASE_FREE_SQL} AND {_NOT_EXCLUDED_SQL}
                ORDER BY next_poll_at LIMIT :limit)
            RETURNING {COLUMN_LIST}"""
        params = {
            "owner": owner,
            "now": encode_time(now),
            "until": encode_time(lease_until),
            "limit": limit,
            "exclude": json.dumps(sorted(exclude)),
        }
        return await self._claim(sql, params, "next_poll_at")

    async def claim_task(
        self, key: str, *, owner: str, now: datetime, lease_until: datetime
    ) -> TaskRecord | None:
        """Lease one row whatever its schedule; None if unknown or another owner's lease is valid."""
        sql = f"""
            UPDATE tasks SET lease_owner = :owner, lease_until = :until
            WHERE key = :key AND {_POLL_LEASE_FREE_SQL}
            RETURNING {COLUMN_LIST}"""
        params = {"key": key, "owner": owner, "now": encode_time(now), "until": encode_time(lease_until)}
        return await self._update_one(sql, params)

    async def claim_due_for_notify(
        self,
        *,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        exclude: set[str],
        scope: ReportScope = EVERY_ROW,
    ) -> list[TaskRecord]:
        """Lease the owed, due reports in `scope` whose report lease is free, expired or `owner`'s;
        earliest notify_due_at first, at most `limit`."""
        if limit <= 0:
            return []
        sql = f"""
            UPDATE tasks SET report_owner = :owner, report_until = :until
            WHERE key IN (
                SELECT key FROM tasks
                WHERE {_DUE_FOR_NOTIFY_SQL} AND {_REPORT_LEASE_FREE_SQL} AND {_NOT_EXCLUDED_SQL}
                      {_scope_sql(scope)}
                ORDER BY notify_due_at LIMIT :limit)
            RETURNING {COLUMN_LIST}"""
        params = {
            "owner": owner,
            "now": encode_time(now),
            "until": encode_time(lease_until),
            "limit": limit,
            "exclude": json.dumps(sorted(exclude)),
            **_scope_params(scope),
        }
        return await self._claim(sql, params, "notify_due_at")

    async def claim_report(
        self, key: str, *, owner: str, now: datetime, lease_until: datetime, scope: ReportScope = EVERY_ROW
    ) -> TaskRecord | None:
        """Lease this row's report if one is owed and due, in `scope`, and its lease is takeable."""
        sql = f"""
            UPDATE tasks SET report_owner = :owner, report_until = :until
            WHERE key = :key AND {_DUE_FOR_NOTIFY_SQL} AND {_REPORT_LEASE_FREE_SQL} {_scope_sql(scope)}
            RETURNING {COLUMN_LIST}"""
        params = {
            "key": key,
            "owner": owner,
            "now": encode_time(now),
            "until": encode_time(lease_until),
            **_scope_params(scope),
        }
        return await self._update_one(sql, params)

    async def renew_leases(
        self, keys: Collection[str], *, owner: str, lease_until: datetime
    ) -> set[tuple[str, LeaseKind]]:
        """Extend the poll and report leases `owner` still holds on these rows; which were extended."""
        if not keys:
            return set()
        sql = """
            UPDATE tasks SET
                lease_until = CASE WHEN lease_owner = :owner THEN :until ELSE lease_until END,
                report_until = CASE WHEN report_owner = :owner THEN :until ELSE report_until END
            WHERE key IN (SELECT value FROM json_each(:keys))
                  AND (lease_owner = :owner OR report_owner = :owner)
            RETURNING key, lease_owner = :owner, report_owner = :owner"""
        params = {"owner": owner, "until": encode_time(lease_until), "keys": json.dumps(sorted(keys))}
        async with self._write() as conn:
            rows = await conn.execute_fetchall(sql, params)
        return renewed_kinds(rows)

    async def claim_cluster_job(self, name: str, *, owner: str, now: datetime, until: datetime) -> bool:
        """One process per SQLite file (a lock file refuses a second one): it runs every job."""
        return True

    async def release_leases(self, *, owner: str) -> int:
        """Drop every poll and report lease of `owner`; how many rows had one."""
        sql = """
            UPDATE tasks SET
                lease_owner = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_owner END,
                lease_until = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_until END,
                report_owner = CASE WHEN report_owner = :owner THEN NULL ELSE report_owner END,
                report_until = CASE WHEN report_owner = :owner THEN NULL ELSE report_until END
            WHERE lease_owner = :owner OR report_owner = :owner"""
        async with self._write() as conn:
            cursor = await conn.execute(sql, {"owner": owner})
            return cursor.rowcount

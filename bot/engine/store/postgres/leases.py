"""What is due on PostgreSQL, and the leases that say which process works on it.

A batch claim is one statement: a CTE picks the due rows not leased by another process, ordered, with
`FOR UPDATE SKIP LOCKED` (rows a concurrent claim is taking are skipped, not waited for), and the
UPDATE sets the lease on exactly those. Under READ COMMITTED a picked row whose lease another claim
changed meanwhile is re-checked against the WHERE before it is locked, so two claims never return
the same row.
"""

# ruff: noqa: S608  # SQL text is assembled only from module constants; values are always bound.

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from bot.engine.store.decoding import COLUMN_LIST, COLUMNS
from bot.engine.store.interface import TaskRecord
from bot.engine.store.leases import EVERY_ROW, LeaseKind, ReportScope, renewed_kinds
from bot.engine.store.postgres.connection import PostgresConnection
from bot.engine.store.postgres.migrations import UNFINISHED_SQL

_RETURNING = ", ".join(f"tasks.{column}" for column in COLUMNS)
_POLL_LEASE_FREE_SQL = (
    "(lease_owner IS NULL OR lease_owner = :owner::text OR lease_until <= :now::timestamptz)"
)
_REPORT_LEASE_FREE_SQL = (
    "(report_owner IS NULL OR report_owner = :owner::text OR report_until <= :now::timestamptz)"
)
_NOT_EXCLUDED_SQL = "NOT (key = ANY(:exclude::text[]))"
_DUE_FOR_POLL_SQL = f"{UNFINISHED_SQL} AND next_poll_at <= :now::timestamptz"
_DUE_FOR_NOTIFY_SQL = "notify_due_at IS NOT NULL AND notify_due_at <= :now::timestamptz"


def _scope_sql(scope: ReportScope) -> str:
    if scope.everything:
        return ""
    return " AND ((COALESCE(guild_id, 0) >> 22) % :shard_count::int) = ANY(:shard_ids::int[])"


def _scope_params(scope: ReportScope) -> dict[str, Any]:
    if scope.everything:
        return {}
    return {"shard_count": scope.shard_count, "shard_ids": sorted(scope.shard_ids)}


class Leases(PostgresConnection):
    """The due lists, the wake-up time and the claim API of `TaskStore` (see store.py)."""

    async def due_for_poll(self, *, now: datetime, limit: int, exclude: set[str]) -> list[TaskRecord]:
        """Unfinished rows (no local outcome, status NULL or not terminal) with next_poll_at <= now,
        key not in `exclude`, earliest next_poll_at first, at most `limit`. Leases are not looked at."""
        if limit <= 0:
            return []
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks WHERE {_DUE_FOR_POLL_SQL} AND {_NOT_EXCLUDED_SQL}
            ORDER BY next_poll_at LIMIT :limit::int"""
        rows = await self._fetch(sql, {"now": now, "exclude": list(exclude), "limit": limit})
        return self._decode_all(rows)

    async def due_for_notify(self, *, now: datetime, limit: int, exclude: set[str]) -> list[TaskRecord]:
        """Rows with notify_due_at <= now (a report is owed and due), key not in `exclude`, earliest
        first, at most `limit`. Finished rows are included: their final report is owed too."""
        if limit <= 0:
            return []
        sql = f"""
            SELECT {COLUMN_LIST} FROM tasks WHERE {_DUE_FOR_NOTIFY_SQL} AND {_NOT_EXCLUDED_SQL}
            ORDER BY notify_due_at LIMIT :limit::int"""
        rows = await self._fetch(sql, {"now": now, "exclude": list(exclude), "limit": limit})
        return self._decode_all(rows)

    async def next_wakeup(self, *, owner: str | None = None) -> datetime | None:
        """The earliest of next_poll_at over unfinished rows and notify_due_at over all rows; None if
        nothing is scheduled. With `owner`, rows whose poll (report) lease another owner holds are left
        out of the first (second) term."""
        poll_lease = "" if owner is None else " AND (lease_owner IS NULL OR lease_owner = :owner::text)"
        report_lease = "" if owner is None else " AND (report_owner IS NULL OR report_owner = :owner::text)"
        sql = f"""
            SELECT LEAST(
                (SELECT next_poll_at FROM tasks WHERE {UNFINISHED_SQL} AND next_poll_at IS NOT NULL
                 {poll_lease} ORDER BY next_poll_at LIMIT 1),
                (SELECT notify_due_at FROM tasks WHERE notify_due_at IS NOT NULL {report_lease}
                 ORDER BY notify_due_at LIMIT 1))"""
        moment = await self._fetchval(sql, {} if owner is None else {"owner": owner})
        return moment if isinstance(moment, datetime) else None

    # -- claims ----------------------------------------------------------------------------------

    async def claim_due_for_poll(
        self, *, owner: str, now: datetime, lease_until: datetime, limit: int, exclude: set[str]
    ) -> list[TaskRecord]:
        """Lease the due, unfinished rows not leased by another owner (see `TaskStore`); earliest
        next_poll_at first, at most `limit`."""
        if limit <= 0:
            return []
        sql = f"""
            WITH picked AS (
                SELECT key FROM tasks
                WHERE {_DUE_FOR_POLL_SQL} AND {_POLL_LEASE_FREE_SQL} AND {_NOT_EXCLUDED_SQL}
                ORDER BY next_poll_at LIMIT :limit::int
                FOR UPDATE SKIP LOCKED)
            UPDATE tasks SET lease_owner = :owner::text, lease_until = :until::timestamptz
            FROM picked WHERE tasks.key = picked.key
            RETURNING {_RETURNING}"""
        params = {"owner": owner, "now": now, "until": lease_until, "limit": limit, "exclude": list(exclude)}
        records = self._decode_all(await self._fetch(sql, params))
        return sorted(records, key=lambda record: (record.next_poll_at, record.key))

    async def claim_task(
        self, key: str, *, owner: str, now: datetime, lease_until: datetime
    ) -> TaskRecord | None:
        """Lease one row whatever its schedule; None if unknown or another owner's lease is valid."""
        sql = f"""
            UPDATE tasks SET lease_owner = :owner::text, lease_until = :until::timestamptz
            WHERE key = :key AND {_POLL_LEASE_FREE_SQL}
            RETURNING {COLUMN_LIST}"""
        return await self._update_one(sql, {"key": key, "owner": owner, "now": now, "until": lease_until})

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
            WITH picked AS (
                SELECT key FROM tasks
                WHERE {_DUE_FOR_NOTIFY_SQL} AND {_REPORT_LEASE_FREE_SQL} AND {_NOT_EXCLUDED_SQL}
                      {_scope_sql(scope)}
                ORDER BY notify_due_at LIMIT :limit::int
                FOR UPDATE SKIP LOCKED)
            UPDATE tasks SET report_owner = :owner::text, report_until = :until::timestamptz
            FROM picked WHERE tasks.key = picked.key
            RETURNING {_RETURNING}"""
        params = {
            "owner": owner,
            "now": now,
            "until": lease_until,
            "limit": limit,
            "exclude": list(exclude),
            **_scope_params(scope),
        }
        records = self._decode_all(await self._fetch(sql, params))
        return sorted(records, key=lambda record: (record.notify_due_at, record.key))

    async def claim_report(
        self, key: str, *, owner: str, now: datetime, lease_until: datetime, scope: ReportScope = EVERY_ROW
    ) -> TaskRecord | None:
        """Lease this row's report if one is owed and due, in `scope`, and its lease is takeable."""
        sql = f"""
            UPDATE tasks SET report_owner = :owner::text, report_until = :until::timestamptz
            WHERE key = :key AND {_DUE_FOR_NOTIFY_SQL} AND {_REPORT_LEASE_FREE_SQL} {_scope_sql(scope)}
            RETURNING {COLUMN_LIST}"""
        params = {"key": key, "owner": owner, "now": now, "until": lease_until, **_scope_params(scope)}
        return await self._update_one(sql, params)

    async def renew_leases(
        self, keys: Collection[str], *, owner: str, lease_until: datetime
    ) -> set[tuple[str, LeaseKind]]:
        """Extend the poll and report leases `owner` still holds on these rows; which were extended."""
        if not keys:
            return set()
        sql = """
            UPDATE tasks SET
                lease_until = CASE WHEN lease_owner = :owner::text THEN :until::timestamptz
                                   ELSE lease_until END,
                report_until = CASE WHEN report_owner = :owner::text THEN :until::timestamptz
                                    ELSE report_until END
            WHERE key = ANY(:keys::text[]) AND (lease_owner = :owner::text OR report_owner = :owner::text)
            RETURNING key, lease_owner IS NOT DISTINCT FROM :owner::text,
                      report_owner IS NOT DISTINCT FROM :owner::text"""
        rows = await self._fetch(sql, {"owner": owner, "until": lease_until, "keys": list(keys)})
        return renewed_kinds(tuple(row) for row in rows)

    async def release_leases(self, *, owner: str) -> int:
        """Drop every poll and report lease of `owner`; how many rows had one."""
        sql = """
            UPDATE tasks SET
                lease_owner = CASE WHEN lease_owner = :owner::text THEN NULL ELSE lease_owner END,
                lease_until = CASE WHEN lease_owner = :owner::text THEN NULL ELSE lease_until END,
                report_owner = CASE WHEN report_owner = :owner::text THEN NULL ELSE report_owner END,
                report_until = CASE WHEN report_owner = :owner::text THEN NULL ELSE report_until END
            WHERE lease_owner = :owner::text OR report_owner = :owner::text"""
        return await self._execute(sql, {"owner": owner})

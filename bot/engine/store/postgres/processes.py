"""The heartbeat table of the processes sharing this database (`ProcessRegistry` of
engine/shared_ceiling.py): who is alive, and how many each of them counted."""

from __future__ import annotations

import os
import socket
from datetime import datetime

from bot.engine.shared_ceiling import Heartbeat, LiveProcess
from bot.engine.store.postgres.connection import PostgresConnection

# Serialises beats across processes (see SharedCeiling); first key: this application.
_BEAT_LOCK_SQL = "SELECT pg_advisory_xact_lock(1297109057, 1)"


class ProcessRegistry(PostgresConnection):
    """Heartbeats on the database clock (`clock_timestamp()`), so processes on machines whose clocks
    differ still agree on who has expired."""

    async def beat(self, owner: str, *, expiry: float) -> Heartbeat:
        """Forget rows not beaten for `expiry` seconds, create or refresh `owner`'s row, count the rows,
        store that count as `owner`'s live_count and return every row; serialised with every other
        beat by a transaction-level advisory lock."""
        async with self._transaction() as tx:
            await tx.execute(_BEAT_LOCK_SQL, {})
            await tx.execute(
                "DELETE FROM engine_processes "
                "WHERE beat_at < clock_timestamp() - make_interval(secs => :expiry::float8)",
                {"expiry": expiry},
            )
            refreshed = await tx.execute(
                "UPDATE engine_processes SET beat_at = clock_timestamp() WHERE owner = :owner::text",
                {"owner": owner},
            )
            if not refreshed:
                await tx.execute(
                    "INSERT INTO engine_processes (owner, host, pid, registered_at, beat_at) "
                    "VALUES (:owner::text, :host::text, :pid::int, clock_timestamp(), clock_timestamp())",
                    {"owner": owner, "host": socket.gethostname(), "pid": os.getpid()},
                )
            rows = await tx.fetch("SELECT owner, live_count FROM engine_processes ORDER BY registered_at", {})
            await tx.execute(
                "UPDATE engine_processes SET live_count = :count::int WHERE owner = :owner::text",
                {"owner": owner, "count": len(rows)},
            )
        processes = tuple(
            LiveProcess(str(row[0]), len(rows) if row[0] == owner else int(row[1])) for row in rows
        )
        return Heartbeat(processes, joined=not refreshed)

    async def leave(self, owner: str) -> None:
        """Delete `owner`'s row: the others take its share at their next beat."""
        await self._execute("DELETE FROM engine_processes WHERE owner = :owner::text", {"owner": owner})

    async def claim_cluster_job(self, name: str, *, owner: str, now: datetime, until: datetime) -> bool:
        """Take or extend the lease on job `name` unless another owner's is still valid (one statement:
        two processes asking at once cannot both get it)."""
        taken = await self._fetchval(
            "INSERT INTO cluster_jobs (name, owner, lease_until) "
            "VALUES (:name::text, :owner::text, :until::timestamptz) "
            "ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until "
            "WHERE cluster_jobs.owner = EXCLUDED.owner OR cluster_jobs.lease_until <= :now::timestamptz "
            "RETURNING owner",
            {"name": name, "owner": owner, "until": until, "now": now},
        )
        return bool(taken == owner)

    async def live_processes(self) -> int:
        """How many processes have beaten lately (for `check`); rows past any sensible expiry are
        not counted."""
        return int(
            await self._fetchval(
                "SELECT count(*) FROM engine_processes "
                "WHERE beat_at >= clock_timestamp() - interval '1 minute'",
                {},
            )
        )

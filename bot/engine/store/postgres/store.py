"""`TaskStore` on PostgreSQL (asyncpg): one database shared by several bot processes.

The methods live with what they are for: `TaskRows` (task_rows.py) the engine's writes, `Leases`
(leases.py) what is due and who works on it, `Lookups` (lookups.py) the reads and the front end's own
rows, `ProcessRegistry` (processes.py) the heartbeats that split the gateway ceiling, `Transfer`
(transfer.py) what `migrate-store` writes;
`PostgresConnection` (connection.py) the pool, migration and transaction rules.
"""

from __future__ import annotations

from bot.engine.store.postgres.leases import Leases
from bot.engine.store.postgres.lookups import Lookups
from bot.engine.store.postgres.processes import ProcessRegistry
from bot.engine.store.postgres.task_rows import TaskRows
from bot.engine.store.postgres.transfer import Transfer

__all__ = ["PostgresTaskStore"]


class PostgresTaskStore(TaskRows, Leases, Lookups, ProcessRegistry, Transfer):
    """The task store in a PostgreSQL database (`postgresql://user@host:port/db`, optionally
    `?search_path=schema`); see `PostgresConnection` for the pool and transaction rules."""

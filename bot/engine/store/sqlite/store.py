"""`TaskStore` on SQLite (aiosqlite): one file, one connection, one short transaction per method.

The methods live with what they are for: `TaskRows` (task_rows.py) the engine's writes, `Leases`
(leases.py) what is due and who works on it, `Lookups` (lookups.py) the reads, `ResultRows`
(results.py) what the front end keeps about results and users; `SqliteConnection` (connection.py) the
transaction and decoding rules.
"""

from __future__ import annotations

from bot.engine.store.sqlite.leases import Leases
from bot.engine.store.sqlite.lookups import Lookups
from bot.engine.store.sqlite.results import ResultRows
from bot.engine.store.sqlite.task_rows import TaskRows

__all__ = ["SqliteTaskStore"]


class SqliteTaskStore(TaskRows, Leases, Lookups, ResultRows):
    """The task store in one SQLite file (or ":memory:" for tests); see `SqliteConnection` for the
    transaction and datetime rules every method follows."""

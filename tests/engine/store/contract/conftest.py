"""The contract suite runs every test against each store, as Red-DiscordBot runs its suite per driver:
`store` is a real, open, empty SQLite store or PostgreSQL store (skipped without TEST_POSTGRES_URL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.engine.store.postgres.store import PostgresTaskStore
from bot.engine.store.sqlite.store import SqliteTaskStore

# Small, so concurrent calls in these tests really contend for connections.
POOL_SIZE = 4


@pytest.fixture(params=["sqlite", "postgres"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqliteTaskStore | PostgresTaskStore]:
    opened: SqliteTaskStore | PostgresTaskStore
    if request.param == "sqlite":
        opened = SqliteTaskStore(tmp_path / "data" / "tasks.sqlite3")
    else:
        opened = PostgresTaskStore(request.getfixturevalue("postgres_url"), pool_size=POOL_SIZE)
    async with opened:
        yield opened

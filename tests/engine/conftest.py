"""Fixtures for engine tests: a real store, the engine's client, a recording notifier; and PostgreSQL
(tests/postgres.py) for the tests that need it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.engine.api.client import TaskApiClient
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.testing.fake_gateway.server import FakeGateway
from tests.engine.support import RecordingNotifier, make_client
from tests.postgres import postgres_database, postgres_url  # noqa: F401 - PostgreSQL fixtures


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database file in a folder that does not exist yet (the store creates it)."""
    return tmp_path / "data" / "tasks.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteTaskStore]:
    """A real, open SQLite store in a fresh file."""
    async with SqliteTaskStore(db_path) as opened:
        yield opened


@pytest.fixture
async def client(fake_gateway: FakeGateway) -> AsyncIterator[TaskApiClient]:
    """The engine tests' client: fast retries, no rate limiter."""
    async with make_client(fake_gateway) as opened:
        yield opened


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()

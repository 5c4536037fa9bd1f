"""Fixtures for engine tests: a started fake gateway, clients pointed at it, a real store, a notifier."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.engine.client import TaskApiClient
from bot.engine.sqlite_store import SqliteTaskStore
from tests.engine.engine_support import RecordingNotifier, make_client
from tests.fakes.gateway import FakeGateway


@pytest.fixture
def gateway_api_key() -> str:
    # Recognisable and unique, so leak checks can search logs and texts for it.
    return f"sk-test-LEAKCHECK-{secrets.token_hex(8)}"


@pytest.fixture
async def fake_gateway(gateway_api_key: str) -> AsyncIterator[FakeGateway]:
    async with FakeGateway(api_key=gateway_api_key, models={"flux-1-dev", "mj-v7", "kling-video"}) as gateway:
        yield gateway


@pytest.fixture
async def task_client(fake_gateway: FakeGateway, gateway_api_key: str) -> AsyncIterator[TaskApiClient]:
    """A client with tiny timeouts and backoff so failure paths run in milliseconds."""
    async with TaskApiClient(
        base_url=fake_gateway.base_url,
        api_key=gateway_api_key,
        timeout=2.0,
        max_attempts=3,
        max_retry_wait=0.5,
        backoff_base=0.01,
    ) as client:
        yield client


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

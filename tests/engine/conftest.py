"""Fixtures for engine tests: a started fake gateway and a task API client pointed at it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from bot.engine.client import TaskApiClient
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

"""Fixtures shared by every test: the fake Discord and the fake MindProxy gateway on 127.0.0.1."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from bot.engine.api.client import TaskApiClient
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord, install


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway(default_script=Script.success(after=0.6, progress=["rendering 50%"])) as gw:
        yield gw


@pytest.fixture
async def discord_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        install(fake, monkeypatch)
        yield fake


# ---- the fake gateway on its own, for the engine's and the fake's own tests ----------------------


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

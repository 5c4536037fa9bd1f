from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.discord import FakeDiscord, install
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_script import Script


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway(default_script=Script.success(after=0.6, progress=["rendering 50%"])) as gw:
        yield gw


@pytest.fixture
async def discord_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        install(fake, monkeypatch)
        yield fake

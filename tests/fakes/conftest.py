"""Fixtures for the fake Discord's own tests: the fake, and a plain discord.py client logged in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from tests.fakes.discord import FakeDiscord, install, run_bot


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as running:
        install(running, monkeypatch)
        yield running


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    plain = discord.Client(
        intents=discord.Intents(guilds=True), allowed_mentions=discord.AllowedMentions.none()
    )
    async with run_bot(plain, fake):
        yield plain

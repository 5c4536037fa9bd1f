"""Helpers for the fake's own tests: plain discord.py clients that record the interactions they get."""

from __future__ import annotations

import discord

from tests.fakes.discord import FakeDiscord, FakeInteraction


def guilds_only() -> discord.Intents:
    """The bot's intents (bot/frontend/client.py)."""
    return discord.Intents(guilds=True)


class ShardedClient(discord.AutoShardedClient):
    """An AutoShardedClient that identifies its shards back to back: discord.py waits 5 s before each
    IDENTIFY but the first (Discord allows `max_concurrency` identifies per 5 s; the fake has no limit)."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


def recorded_interactions(client: discord.Client) -> list[discord.Interaction]:
    """Every interaction `client` receives from now on, in order."""
    seen: list[discord.Interaction] = []

    async def on_interaction(interaction: discord.Interaction) -> None:
        seen.append(interaction)

    client.event(on_interaction)
    return seen


async def received(
    fake: FakeDiscord, seen: list[discord.Interaction], interaction: FakeInteraction
) -> discord.Interaction:
    """The discord.py Interaction the client built from the fake's `interaction`, once it arrived."""
    found = await fake.wait_for(lambda: next((i for i in seen if i.id == interaction.id), None))
    assert found is not None
    return found


def cached_guild(client: discord.Client, guild_id: int) -> discord.Guild:
    guild = client.get_guild(guild_id)
    assert guild is not None, f"guild {guild_id} is not in the client's cache"
    return guild

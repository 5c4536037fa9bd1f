"""Sharded gateway connections: discord.py's AutoShardedClient, one or several processes, against the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest

from tests.fakes.client_helpers import (
    ShardedClient,
    cached_guild,
    guilds_only,
    received,
    recorded_interactions,
)
from tests.fakes.discord import FakeDiscord, FakeGuild, install, run_bot
from tests.fakes.discord_gateway import OP_HELLO, OP_IDENTIFY
from tests.fakes.discord_model import MANAGE_MESSAGES
from tests.fakes.discord_shards import shard_of

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def sharded(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """Two shards: the default guild on shard 0, "Other" on shard 1 (alice is in both)."""
    async with FakeDiscord(shard_count=2) as running:
        install(running, monkeypatch)
        other = running.add_guild("Other", shard=1, members=["alice"])
        running.add_channel("general", guild=other)
        yield running


@pytest.fixture
def fake(sharded: FakeDiscord) -> FakeDiscord:
    """The `client` fixture of conftest.py, connected to the sharded fake."""
    return sharded


def other_guild(fake: FakeDiscord) -> FakeGuild:
    return next(g for g in fake.guilds.values() if g.name == "Other")


def test_guild_ids_land_on_the_wanted_shard() -> None:
    fake = FakeDiscord(shard_count=4)
    for shard in (3, 0, 2, 1, 3):
        guild = fake.add_guild(f"g{shard}", shard=shard)
        assert shard_of(guild.id, 4) == shard == fake.shard_of(guild)
    assert fake.shard_of(fake.default_guild) == 0
    with pytest.raises(ValueError, match="shard 4"):
        fake.add_guild("nowhere", shard=4)


async def test_an_auto_sharded_client_gets_each_guild_on_its_shard(sharded: FakeDiscord) -> None:
    other = other_guild(sharded)
    client = ShardedClient(intents=guilds_only(), shard_count=2, shard_ids=[0, 1])
    async with run_bot(client, sharded):
        assert cached_guild(client, sharded.guild_id).shard_id == 0
        assert cached_guild(client, other.id).shard_id == 1
        assert set(client.shards) == {0, 1}
    first, second = sharded.gateway.connections
    assert (first.shard_id, first.shard_count, second.shard_id, second.shard_count) == (0, 2, 1, 2)
    assert first.guild_ids("GUILD_CREATE") == [sharded.guild_id]
    assert second.guild_ids("GUILD_CREATE") == [other.id]
    assert first.events("READY")[0].data["shard"] == [0, 2]
    assert [g["id"] for g in second.events("READY")[0].data["guilds"]] == [str(other.id)]


async def test_the_shard_count_comes_from_gateway_bot(sharded: FakeDiscord) -> None:
    client = ShardedClient(intents=guilds_only())
    async with run_bot(client, sharded):
        assert client.shard_count == 2
        assert {g.id for g in client.guilds} == {sharded.guild_id, other_guild(sharded).id}
    assert sharded.calls_of("gateway")[0].path == "/gateway/bot"
    assert sorted(c.shard_id for c in sharded.gateway.connections) == [0, 1]


async def test_later_events_go_to_the_shard_that_owns_the_guild(sharded: FakeDiscord) -> None:
    other = other_guild(sharded)
    client = ShardedClient(intents=guilds_only(), shard_count=2, shard_ids=[0, 1])
    seen = recorded_interactions(client)
    async with run_bot(client, sharded):
        other_general = sharded.channel("general", guild=other)
        sharded.grant(sharded.user("alice"), other_general, MANAGE_MESSAGES)
        here = await sharded.slash_command("x", user="alice")
        there = await sharded.slash_command("x", user="alice", channel=other_general)
        dm = await sharded.slash_command("x", user="alice", channel=sharded.dm_channel(sharded.user("alice")))
        there_seen = await received(sharded, seen, there)
        await received(sharded, seen, here)
        assert (await received(sharded, seen, dm)).guild_id is None
        cached = cached_guild(client, other.id).get_channel(other_general.id)
        assert cached is not None and isinstance(there_seen.user, discord.Member)
        assert cached.permissions_for(there_seen.user).manage_messages
    first, second = sharded.gateway.connections
    assert [e.name for e in second.dispatched if e.name != "READY"] == [
        "GUILD_CREATE",
        "CHANNEL_UPDATE",
        "INTERACTION_CREATE",
    ]
    assert first.guild_ids("INTERACTION_CREATE") == [sharded.guild_id]
    assert len(first.events("INTERACTION_CREATE")) == 2  # the DM has no guild: shard 0
    assert first.events("CHANNEL_UPDATE") == []


async def test_two_processes_each_get_only_their_guilds(sharded: FakeDiscord) -> None:
    other = other_guild(sharded)
    first = ShardedClient(intents=guilds_only(), shard_count=2, shard_ids=[0])
    second = ShardedClient(intents=guilds_only(), shard_count=2, shard_ids=[1])
    first_seen, second_seen = recorded_interactions(first), recorded_interactions(second)
    async with run_bot(first, sharded), run_bot(second, sharded):
        assert [g.id for g in first.guilds] == [sharded.guild_id]
        assert [g.id for g in second.guilds] == [other.id]
        here = await sharded.slash_command("x", user="alice")
        there = await sharded.slash_command(
            "x", user="alice", channel="general", guild=sharded.guilds[other.id]
        )
        assert (await received(sharded, second_seen, there)).guild_id == other.id
        assert (await received(sharded, first_seen, here)).guild_id == sharded.guild_id
        assert [i.id for i in first_seen] == [here.id]
        assert [i.id for i in second_seen] == [there.id]


async def test_an_unsharded_client_gets_every_guild(sharded: FakeDiscord, client: discord.Client) -> None:
    assert {g.id for g in client.guilds} == {sharded.guild_id, other_guild(sharded).id}
    (connection,) = sharded.gateway.connections
    assert (connection.shard_id, connection.shard_count) == (0, 1)
    assert "shard" not in connection.events("READY")[0].data


async def test_an_invalid_shard_is_closed_with_4010(sharded: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(sharded.gateway_url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == OP_HELLO
        await ws.send_json({"op": OP_IDENTIFY, "d": {"token": sharded.token, "shard": [2, 2], "intents": 1}})
        closing = await ws.receive()
        assert closing.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 4010

"""Permission overwrites and roles: what the fake puts in interactions equals what discord.py computes
from its cache, and changes made while the bot runs reach that cache as Discord sends them."""

from __future__ import annotations

from collections.abc import Callable

import discord
import pytest

from tests.fakes.client_helpers import cached_guild, guilds_only, received, recorded_interactions
from tests.fakes.discord import FakeDiscord, run_bot
from tests.fakes.discord_model import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)
from tests.fakes.discord_permissions import CHANNEL_PERMISSIONS, VOICE_PERMISSIONS

pytestmark = pytest.mark.timeout(20)


def test_the_permission_masks_are_discord_pys() -> None:
    assert discord.Permissions.all().value == ALL_PERMISSIONS
    assert discord.Permissions.voice().value == VOICE_PERMISSIONS
    assert discord.Permissions.all_channel().value == CHANNEL_PERMISSIONS


def _nothing(fake: FakeDiscord) -> None:
    pass


def _everyone_may_not_send(fake: FakeDiscord) -> None:
    fake.deny(fake.everyone_role, fake.channel("general"), SEND_MESSAGES)


def _artists_manage_here(fake: FakeDiscord) -> None:
    fake.give_role(fake.user("bob"), "Artists")
    fake.grant(fake.role("Artists"), fake.channel("general"), MANAGE_MESSAGES | MANAGE_THREADS)


def _role_allows_but_member_denied(fake: FakeDiscord) -> None:
    _artists_manage_here(fake)
    fake.deny(fake.user("bob"), fake.channel("general"), MANAGE_MESSAGES)


def _member_cannot_view(fake: FakeDiscord) -> None:
    fake.deny(fake.user("bob"), fake.channel("general"), VIEW_CHANNEL)


def _administrator(fake: FakeDiscord) -> None:
    fake.give_role(fake.user("bob"), fake.add_role("Admins", permissions=ADMINISTRATOR))
    fake.deny(fake.user("bob"), fake.channel("general"), VIEW_CHANNEL)


SCENARIOS: dict[str, Callable[[FakeDiscord], None]] = {
    "defaults": _nothing,
    "everyone-denied-send": _everyone_may_not_send,
    "role-overwrite": _artists_manage_here,
    "member-overwrite-wins": _role_allows_but_member_denied,
    "no-view": _member_cannot_view,
    "administrator": _administrator,
}


@pytest.mark.parametrize("arrange", SCENARIOS.values(), ids=SCENARIOS.keys())
@pytest.mark.parametrize("in_thread", [False, True], ids=["channel", "thread"])
async def test_interaction_permissions_equal_discord_pys_permissions_for(
    fake: FakeDiscord, arrange: Callable[[FakeDiscord], None], in_thread: bool
) -> None:
    arrange(fake)
    where = fake.add_thread("t", parent=fake.channel("general")) if in_thread else fake.channel("general")
    client = discord.Client(intents=guilds_only())
    seen = recorded_interactions(client)
    async with run_bot(client, fake):
        interaction = await received(fake, seen, await fake.slash_command("x", user="bob", channel=where))
        guild = cached_guild(client, fake.guild_id)
        channel = guild.get_channel_or_thread(where.id)
        assert channel is not None
        assert isinstance(interaction.user, discord.Member)
        assert interaction.permissions.value == channel.permissions_for(interaction.user).value
        assert interaction.app_permissions.value == channel.permissions_for(guild.me).value
        assert interaction.permissions.value == fake.permissions_in(fake.user("bob"), where)


async def test_the_owner_has_every_permission(fake: FakeDiscord, client: discord.Client) -> None:
    fake.deny(fake.everyone_role, fake.channel("general"), VIEW_CHANNEL)
    assert fake.permissions_in(fake.owner, fake.channel("general")) == ALL_PERMISSIONS & ~VOICE_PERMISSIONS


async def test_a_grant_after_connect_reaches_the_cache(fake: FakeDiscord) -> None:
    client = discord.Client(intents=guilds_only())
    seen = recorded_interactions(client)
    async with run_bot(client, fake):
        general = cached_guild(client, fake.guild_id).get_channel(fake.channel("general").id)
        assert isinstance(general, discord.TextChannel)
        before = await received(fake, seen, await fake.slash_command("x", user="carol"))
        assert isinstance(before.user, discord.Member)
        assert not general.permissions_for(before.user).manage_messages

        fake.grant(fake.user("carol"), fake.channel("general"), MANAGE_MESSAGES)
        # Discord delivers in order: once this interaction is in, the CHANNEL_UPDATE was applied.
        after = await received(fake, seen, await fake.slash_command("x", user="carol"))
        assert isinstance(after.user, discord.Member)
        assert general.permissions_for(after.user).manage_messages
        assert after.permissions.manage_messages
        overwrite = general.overwrites_for(after.user)
        assert overwrite.manage_messages is True

        fake.deny(fake.user("carol"), fake.channel("general"), MANAGE_MESSAGES)
        denied = await received(fake, seen, await fake.slash_command("x", user="carol"))
        assert isinstance(denied.user, discord.Member)
        assert not general.permissions_for(denied.user).manage_messages
        assert general.overwrites_for(denied.user).manage_messages is False
    names = [e.name for e in fake.gateway.connections[0].dispatched]
    assert names.count("CHANNEL_UPDATE") == 2


async def test_role_permissions_changed_after_connect_reach_the_cache(fake: FakeDiscord) -> None:
    fake.give_role(fake.user("bob"), "Artists")
    client = discord.Client(intents=guilds_only())
    seen = recorded_interactions(client)
    async with run_bot(client, fake):
        fake.set_role_permissions(fake.role("Artists"), MANAGE_MESSAGES)
        interaction = await received(fake, seen, await fake.slash_command("x", user="bob"))
        guild = cached_guild(client, fake.guild_id)
        role = guild.get_role(fake.role("Artists").id)
        assert role is not None and role.permissions.manage_messages
        general = guild.get_channel(fake.channel("general").id)
        assert general is not None and isinstance(interaction.user, discord.Member)
        assert general.permissions_for(interaction.user).manage_messages


async def test_a_role_given_after_connect_comes_with_the_next_interaction(fake: FakeDiscord) -> None:
    """With only `guilds`, Discord sends no GUILD_MEMBER_UPDATE about other members: discord.py builds
    the member, roles and all, from each interaction."""
    fake.grant(fake.role("Artists"), fake.channel("general"), MANAGE_MESSAGES)
    client = discord.Client(intents=guilds_only())
    seen = recorded_interactions(client)
    async with run_bot(client, fake):
        fake.give_role(fake.user("bob"), "Artists")
        interaction = await received(fake, seen, await fake.slash_command("x", user="bob"))
        assert isinstance(interaction.user, discord.Member)
        assert [r.name for r in interaction.user.roles if not r.is_default()] == ["Artists"]
        general = cached_guild(client, fake.guild_id).get_channel(fake.channel("general").id)
        assert general is not None and general.permissions_for(interaction.user).manage_messages
        assert cached_guild(client, fake.guild_id).get_member(fake.user("bob").id) is None
    assert fake.gateway.connections[0].events("GUILD_MEMBER_UPDATE") == []


async def test_member_updates_need_the_members_intent_except_the_bots_own(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents(guilds=True, members=True))
    async with run_bot(client, fake):
        guild = cached_guild(client, fake.guild_id)
        bob = guild.get_member(fake.user("bob").id)  # cached by the member chunk at start-up
        assert bob is not None and len(bob.roles) == 1
        fake.give_role(fake.user("bob"), "Artists")
        fake.give_role(fake.bot_user, "Artists")
        await fake.wait_for(lambda: len(guild.me.roles) == 2)
        assert [r.name for r in bob.roles if not r.is_default()] == ["Artists"]

    guilds_only_client = discord.Client(intents=guilds_only())
    async with run_bot(guilds_only_client, fake):
        fake.give_role(fake.user("carol"), "Artists")
        fake.give_role(fake.bot_user, fake.add_role("Bots"))
        guild = cached_guild(guilds_only_client, fake.guild_id)
        await fake.wait_for(lambda: [r.name for r in guild.me.roles][1:] == ["Artists", "Bots"])
    updates = fake.gateway.connections[1].events("GUILD_MEMBER_UPDATE")
    assert [e.data["user"]["id"] for e in updates] == [str(fake.bot_user.id)]


async def test_overwrites_are_in_discords_format(fake: FakeDiscord) -> None:
    general = fake.channel("general")
    fake.grant(fake.role("Artists"), general, MANAGE_MESSAGES)
    fake.deny(fake.user("bob"), general, SEND_MESSAGES | MANAGE_MESSAGES)
    assert general.payload()["permission_overwrites"] == [
        {"id": str(fake.role("Artists").id), "type": 0, "allow": str(MANAGE_MESSAGES), "deny": "0"},
        {
            "id": str(fake.user("bob").id),
            "type": 1,
            "allow": "0",
            "deny": str(SEND_MESSAGES | MANAGE_MESSAGES),
        },
    ]
    assert general.user_allow == {fake.user("bob").id: 0}
    with pytest.raises(ValueError, match="no overwrites"):
        fake.grant(fake.user("bob"), fake.add_thread("t", parent=general), MANAGE_MESSAGES)

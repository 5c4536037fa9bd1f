"""Threads in the fake: cached by discord.py with their parent's permissions, interactions and messages in
them, and Discord's rules for archived and locked threads."""

from __future__ import annotations

import discord
import pytest

from tests.fakes.client_helpers import cached_guild, guilds_only, received, recorded_interactions
from tests.fakes.discord import FakeDiscord, run_bot
from tests.fakes.discord_model import MANAGE_MESSAGES, MANAGE_THREADS

pytestmark = pytest.mark.timeout(20)


async def test_a_thread_resolves_with_its_parents_permissions(fake: FakeDiscord) -> None:
    general = fake.channel("general")
    thread = fake.add_thread("renders", parent=general)
    fake.grant(fake.user("carol"), general, MANAGE_MESSAGES)
    client = discord.Client(intents=guilds_only())
    seen = recorded_interactions(client)
    async with run_bot(client, fake):
        interaction = await received(fake, seen, await fake.slash_command("x", user="carol", channel=thread))
        cached = cached_guild(client, fake.guild_id).get_channel_or_thread(thread.id)
        assert isinstance(cached, discord.Thread)
        assert cached.parent_id == general.id
        assert cached.type is discord.ChannelType.public_thread
        assert interaction.channel is cached
        assert interaction.channel_id == thread.id
        assert isinstance(interaction.user, discord.Member)
        assert cached.permissions_for(interaction.user).manage_messages
        assert interaction.permissions.manage_messages


async def test_a_thread_added_after_connect_arrives_as_thread_create(
    fake: FakeDiscord, client: discord.Client
) -> None:
    thread = fake.add_thread("late", parent="general")
    guild = cached_guild(client, fake.guild_id)
    cached = await fake.wait_for(lambda: guild.get_thread(thread.id))
    assert cached.name == "late"
    assert fake.gateway.connections[0].events("THREAD_CREATE")[0].data["newly_created"] is True


async def test_messages_are_sent_to_and_edited_in_a_thread(fake: FakeDiscord, client: discord.Client) -> None:
    thread = fake.add_thread("renders", parent="general")
    guild = cached_guild(client, fake.guild_id)
    cached = await fake.wait_for(lambda: guild.get_thread(thread.id))
    sent = await cached.send("first")
    await sent.edit(content="edited")
    assert [m.content for m in fake.messages_in(thread)] == ["edited"]
    assert sent.channel.id == thread.id


async def test_an_edit_in_an_archived_thread_is_refused_and_a_send_unarchives(
    fake: FakeDiscord, client: discord.Client
) -> None:
    thread = fake.add_thread("renders", parent="general")
    guild = cached_guild(client, fake.guild_id)
    await fake.wait_for(lambda: guild.get_thread(thread.id))
    sent = await client.get_partial_messageable(thread.id).send("status")
    fake.update_thread(thread, archived=True)
    await fake.wait_for(lambda: guild.get_thread(thread.id) is None)  # discord.py drops archived threads

    with pytest.raises(discord.HTTPException) as refused:
        await sent.edit(content="final")
    assert (refused.value.status, refused.value.code) == (400, 50083)
    assert fake.message(sent.id).content == "status"

    await client.get_partial_messageable(thread.id).send("a new message")
    assert not thread.archived
    back = await fake.wait_for(lambda: guild.get_thread(thread.id))
    assert not back.archived
    await sent.edit(content="final")
    assert fake.message(sent.id).content == "final"


async def test_a_locked_thread_refuses_the_bot_unless_it_manages_threads(
    fake: FakeDiscord, client: discord.Client
) -> None:
    general = fake.channel("general")
    thread = fake.add_thread("closed", parent=general, archived=True, locked=True)
    channel = client.get_partial_messageable(thread.id)
    with pytest.raises(discord.Forbidden) as archived:
        await channel.send("hello")
    assert archived.value.code == 50083
    assert thread.archived

    fake.update_thread(thread, archived=False)
    with pytest.raises(discord.Forbidden) as locked:
        await channel.send("hello")
    assert locked.value.code == 160005

    fake.grant(fake.bot_user, general, MANAGE_THREADS)
    fake.update_thread(thread, archived=True)
    await channel.send("a moderator bot may")
    assert not thread.archived
    assert [m.content for m in fake.messages_in(thread)] == ["a moderator bot may"]


async def test_archived_threads_are_not_synced_and_take_no_commands(fake: FakeDiscord) -> None:
    archived = fake.add_thread("old", parent="general", archived=True)
    active = fake.add_thread("new", parent="general")
    client = discord.Client(intents=guilds_only())
    async with run_bot(client, fake):
        guild = cached_guild(client, fake.guild_id)
        assert [t.id for t in guild.threads] == [active.id]
        assert guild.get_channel_or_thread(archived.id) is None
        with pytest.raises(ValueError, match="archived"):
            await fake.slash_command("x", user="alice", channel=archived)


async def test_a_follow_up_after_the_thread_was_archived(fake: FakeDiscord) -> None:
    """A deferred command whose thread gets archived: editing the original fails with 50083, a new
    follow-up message unarchives the thread (as a send does)."""
    thread = fake.add_thread("renders", parent="general")
    client = discord.Client(intents=guilds_only())
    seen = recorded_interactions(client)
    async with run_bot(client, fake):
        interaction = await received(fake, seen, await fake.slash_command("x", user="alice", channel=thread))
        await interaction.response.send_message("working")
        fake.update_thread(thread, archived=True)
        with pytest.raises(discord.HTTPException) as refused:
            await interaction.edit_original_response(content="done")
        assert (refused.value.status, refused.value.code) == (400, 50083)
        await interaction.followup.send("done, in a new message")
        assert not thread.archived

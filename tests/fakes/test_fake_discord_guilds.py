"""Several guilds in the fake, as the real discord.py client sees them."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from tests.fakes.client_helpers import cached_guild, guilds_only, received, recorded_interactions
from tests.fakes.discord import FakeDiscord, run_bot

pytestmark = pytest.mark.timeout(20)


async def test_each_guild_has_its_own_channels_roles_and_members(fake: FakeDiscord) -> None:
    other = fake.add_guild("Other", members=["alice"])
    general = fake.add_channel("general", guild=other)
    fake.add_role("Artists", guild=other)
    assert fake.channel("general") is not general  # the default guild's, as before
    assert fake.channel("general", guild=other) is general
    assert fake.guild_of(general) is other
    assert fake.role("Artists", guild=other).id != fake.role("Artists").id
    assert other.everyone_role.id == other.id
    assert set(other.members) == {fake.bot_user.id, fake.owner.id, fake.user("alice").id}
    assert fake.user("bob").id not in other.members
    with pytest.raises(KeyError):
        fake.channel("imagine", guild=other)


async def test_the_client_caches_every_guild_with_its_channels(fake: FakeDiscord) -> None:
    other = fake.add_guild("Other", members=["alice"])
    fake.add_channel("general", guild=other)
    fake.add_channel("renders", guild=other)
    client = discord.Client(intents=guilds_only())
    async with run_bot(client, fake):
        assert {g.id for g in client.guilds} == {fake.guild_id, other.id}
        assert {c.name for c in cached_guild(client, other.id).text_channels} == {"general", "renders"}
        assert cached_guild(client, other.id).name == "Other"
        ready = fake.gateway.connections[0].events("READY")[0].data
        assert {g["id"] for g in ready["guilds"]} == {str(fake.guild_id), str(other.id)}
        assert all(g["unavailable"] for g in ready["guilds"])


async def test_an_interaction_in_each_guild_carries_that_guild_and_member(fake: FakeDiscord) -> None:
    other = fake.add_guild("Other", members=["alice"])
    other_general = fake.add_channel("general", guild=other)
    fake.give_role(fake.user("alice"), fake.add_role("Mods", guild=other))
    client = discord.Client(intents=guilds_only())
    seen = recorded_interactions(client)
    async with run_bot(client, fake):
        here = await received(fake, seen, await fake.slash_command("ping", user="alice"))
        there = await received(
            fake, seen, await fake.slash_command("ping", user="alice", channel="general", guild=other)
        )
        assert (here.guild_id, here.channel_id) == (fake.guild_id, fake.channel("general").id)
        assert (there.guild_id, there.channel_id) == (other.id, other_general.id)
        assert isinstance(there.user, discord.Member)
        assert there.guild is not None and there.guild.name == "Other"
        assert [r.name for r in there.user.roles if not r.is_default()] == ["Mods"]
        assert isinstance(here.user, discord.Member)
        assert [r for r in here.user.roles if not r.is_default()] == []
        assert there.channel is cached_guild(client, other.id).get_channel(other_general.id)


async def test_only_members_interact_in_a_guild(fake: FakeDiscord, client: discord.Client) -> None:
    other = fake.add_guild("Other")
    fake.add_channel("general", guild=other)
    with pytest.raises(ValueError, match="bob is not a member"):
        await fake.slash_command("ping", user="bob", channel="general", guild=other)
    fake.add_member(other, "bob")
    await fake.slash_command("ping", user="bob", channel="general", guild=other)


async def test_a_guild_added_after_connect_arrives_as_guild_create(
    fake: FakeDiscord, client: discord.Client
) -> None:
    joined = fake.add_guild("Joined later", members=["carol"])
    fake.add_channel("lobby", guild=joined)
    guild = await fake.wait_for(lambda: client.get_guild(joined.id))
    await fake.wait_for(lambda: guild.get_channel(fake.channel("lobby", guild=joined).id))
    assert [c.name for c in guild.text_channels] == ["lobby"]


async def test_without_the_presences_intent_guild_create_lists_only_the_bot(
    fake: FakeDiscord, client: discord.Client
) -> None:
    guild_create = fake.gateway.connections[0].events("GUILD_CREATE")[0].data
    assert [m["user"]["id"] for m in guild_create["members"]] == [str(fake.bot_user.id)]
    assert guild_create["member_count"] == len(fake.default_guild.members)
    assert cached_guild(client, fake.guild_id).me.id == fake.bot_user.id


class GuildScopedBot(discord.Client):
    def __init__(self, guild: discord.Object) -> None:
        super().__init__(intents=guilds_only())
        self.tree = app_commands.CommandTree(self, fallback_to_global=False)
        self.names: list[str] = []

        @self.tree.command(name="where", description="only in one guild", guild=guild)
        async def where(interaction: discord.Interaction) -> None:
            self.names.append(f"{interaction.guild_id}")
            await interaction.response.send_message("here")


async def test_commands_synced_to_a_guild_are_found_there(fake: FakeDiscord) -> None:
    other = fake.add_guild("Other", members=["alice"])
    fake.add_channel("general", guild=other)
    bot = GuildScopedBot(discord.Object(other.id))
    async with run_bot(bot, fake):
        synced = await bot.tree.sync(guild=discord.Object(other.id))
        interaction = await fake.slash_command("where", user="alice", channel="general", guild=other)
        await fake.wait_for(lambda: interaction.responses)
        assert interaction.payload["data"]["id"] == str(synced[0].id)
        assert interaction.payload["data"]["guild_id"] == str(other.id)
        assert bot.names == [str(other.id)]


async def test_a_user_option_resolves_the_member_of_the_interactions_guild(
    fake: FakeDiscord, client: discord.Client
) -> None:
    other = fake.add_guild("Other", members=["alice", "bob"])
    fake.add_channel("general", guild=other)
    fake.give_role(fake.user("bob"), fake.add_role("Mods", guild=other))
    interaction = await fake.slash_command(
        "who", {"target": fake.user("bob")}, user="alice", channel="general", guild=other
    )
    member = interaction.payload["data"]["resolved"]["members"][str(fake.user("bob").id)]
    assert member["roles"] == [str(fake.role("Mods", guild=other).id)]
    assert interaction.payload["authorizing_integration_owners"] == {"0": str(other.id)}


async def test_users_are_global_and_names_unique(fake: FakeDiscord) -> None:
    other = fake.add_guild("Other")
    erin = fake.add_user("erin", guild=other)
    assert erin.id in other.members
    assert erin.id not in fake.default_guild.members
    with pytest.raises(ValueError, match="already a user"):
        fake.add_user("erin")
    with pytest.raises(ValueError, match="already a member"):
        fake.add_member(other, erin)
    # In the default guild a member's roles are the user's `role_ids`, as in the single-guild API.
    fake.give_role(fake.user("bob"), "Artists")
    assert fake.user("bob").role_ids == [fake.role("Artists").id]
    assert fake.default_guild.member(fake.user("bob")).role_ids is fake.user("bob").role_ids

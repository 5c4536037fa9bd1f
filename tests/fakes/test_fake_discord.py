"""The fake Discord against the real discord.py client: login, slash commands, buttons, errors, limits."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord import FakeAttachment, FakeDiscord, install, run_bot
from tests.fakes.discord_model import MANAGE_MESSAGES

pytestmark = pytest.mark.timeout(20)


class RetryButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"job:(?P<job>\d+):retry"
):
    def __init__(self, job: int) -> None:
        super().__init__(discord.ui.Button(label="Retry", custom_id=f"job:{job}:retry"))
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RetryButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"retrying job {self.job}", ephemeral=True)


class CancelButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"job:(?P<job>\d+):cancel"
):
    def __init__(self, job: int) -> None:
        super().__init__(discord.ui.Button(label="Cancel", custom_id=f"job:{job}:cancel"))
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CancelButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"cancelled job {self.job}", view=None)


class StatusCard(discord.ui.LayoutView):
    text: discord.ui.TextDisplay[StatusCard] = discord.ui.TextDisplay("status: queued")


class DemoCog(commands.Cog):
    def __init__(self) -> None:
        self.interactions: dict[str, discord.Interaction] = {}
        self.results: dict[str, Any] = {}

    @app_commands.command(name="hello", description="say hello")
    async def hello(self, interaction: discord.Interaction, name: str, count: int = 1) -> None:
        self.interactions["hello"] = interaction
        view = discord.ui.View(timeout=None)
        view.add_item(RetryButton(42))
        view.add_item(CancelButton(42))
        response = await interaction.response.send_message(f"hi {name} x{count}", view=view)
        self.results["hello"] = response

    @app_commands.command(name="slow", description="defer then edit")
    async def slow(self, interaction: discord.Interaction) -> None:
        self.interactions["slow"] = interaction
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(content="done")
        await interaction.followup.send("and a follow-up")

    @app_commands.command(name="secret", description="ephemeral")
    async def secret(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("only you", ephemeral=True)

    @app_commands.command(name="upload", description="attachment option")
    async def upload(self, interaction: discord.Interaction, image: discord.Attachment) -> None:
        await interaction.response.send_message(f"{image.filename} {image.size} {image.content_type}")

    @app_commands.command(name="file", description="reply with a file")
    async def file(self, interaction: discord.Interaction) -> None:
        picture = discord.File(io.BytesIO(b"\x89PNG fake"), filename="out.png")
        await interaction.response.send_message("here", file=picture)

    @app_commands.command(name="card", description="components v2")
    async def card(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(view=StatusCard())

    @app_commands.command(name="perms", description="report the caller's manage_messages")
    async def perms(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"manage={interaction.permissions.manage_messages}")

    @app_commands.command(name="late", description="answers after the deadline")
    async def late(self, interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("too late")
        except discord.HTTPException as error:
            self.results["late"] = error


class DemoBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.cog = DemoCog()

    async def setup_hook(self) -> None:
        await self.add_cog(self.cog)
        self.add_dynamic_items(RetryButton, CancelButton)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as running:
        install(running, monkeypatch)
        yield running


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[DemoBot]:
    demo = DemoBot()
    async with run_bot(demo, fake):
        yield demo


async def test_login_is_fast_and_sees_the_guild(fake: FakeDiscord) -> None:
    demo = DemoBot()
    started = time.monotonic()
    async with run_bot(demo, fake):
        assert time.monotonic() - started < 3
        assert demo.user is not None
        assert demo.user.id == fake.bot_user.id
        assert demo.application_id == fake.application_id
        guild = demo.get_guild(fake.guild_id)
        assert guild is not None
        assert {c.name for c in guild.text_channels} == {"general", "imagine", "mod-log"}
        assert guild.get_role(fake.role("Artists").id) is not None
    assert fake.gateway.identify_count == 1
    assert [c.kind for c in fake.calls[:2]] == ["login", "login"]


async def test_wrong_token_is_a_login_failure(fake: FakeDiscord) -> None:
    with pytest.raises(discord.LoginFailure):
        async with run_bot(DemoBot(), fake, token="wrong"):
            pass


async def test_slash_command_reply_returns_message_id(fake: FakeDiscord, bot: DemoBot) -> None:
    interaction = await fake.slash_command("hello", {"name": "ann", "count": 3}, user="alice")
    message = await fake.wait_for_message(lambda m: m.interaction_id == interaction.id)
    assert message.content == "hi ann x3"
    assert message.components[0]["components"][0]["custom_id"] == "job:42:retry"
    assert interaction.responses[0].callback_type == 4
    assert not interaction.responses[0].ephemeral
    await fake.wait_for(lambda: "hello" in bot.cog.results)
    callback_response = bot.cog.results["hello"]
    assert callback_response.message_id == message.id
    assert callback_response.resource.interaction_metadata.user.id == fake.user("alice").id
    options = interaction.payload["data"]["options"]
    assert [(o["name"], o["type"]) for o in options] == [("name", 3), ("count", 4)]
    callback = fake.calls_of("interaction_callback")[0]
    assert "Authorization" not in callback.headers
    assert callback.query == {"with_response": "1"}


async def test_deferred_then_edited_then_follow_up(fake: FakeDiscord, bot: DemoBot) -> None:
    interaction = await fake.slash_command("slow", user="bob", channel="imagine")
    await fake.wait_for(lambda: len(interaction.responses) == 3)
    original = fake.message(interaction.original_message_id or 0)
    assert [r.kind for r in interaction.responses] == ["callback", "edit_original", "followup"]
    assert original.states[0].flags & (1 << 7)  # loading while deferred
    assert original.content == "done"
    assert not original.loading
    assert original.edits[0].route == "webhook"
    followup = fake.message(interaction.followup_ids[0])
    assert followup.content == "and a follow-up"
    assert followup.channel_id == fake.channel("imagine").id


async def test_ephemeral_reply_is_recorded(fake: FakeDiscord, bot: DemoBot) -> None:
    interaction = await fake.slash_command("secret", user="alice")
    await fake.wait_for(lambda: interaction.responses)
    assert interaction.ephemeral_responses[0].data["content"] == "only you"
    message = fake.message(interaction.original_message_id or 0)
    assert message.ephemeral
    # Ephemeral messages exist only for the user: the channel route does not know them.
    with pytest.raises(discord.NotFound):
        await (
            bot.get_partial_messageable(message.channel_id).get_partial_message(message.id).edit(content="x")
        )


async def test_attachment_option_is_resolved(fake: FakeDiscord, bot: DemoBot) -> None:
    picture = FakeAttachment("cat.png", size=2048, content_type="image/png")
    interaction = await fake.slash_command("upload", attachments={"image": picture}, user="alice")
    message = await fake.wait_for_message(lambda m: m.interaction_id == interaction.id)
    assert message.content == "cat.png 2048 image/png"
    assert interaction.payload["data"]["options"][0]["type"] == 11


async def test_member_permissions_follow_grants(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.grant(fake.user("bob"), fake.channel("general"), MANAGE_MESSAGES)
    bob = await fake.slash_command("perms", user="bob")
    alice = await fake.slash_command("perms", user="alice")
    await fake.wait_for(lambda: bob.responses and alice.responses)
    assert bob.responses[0].data["content"] == "manage=True"
    assert alice.responses[0].data["content"] == "manage=False"


async def test_dynamic_button_click_is_dispatched(fake: FakeDiscord, bot: DemoBot) -> None:
    command = await fake.slash_command("hello", {"name": "x"}, user="alice")
    message = await fake.wait_for_message(lambda m: m.interaction_id == command.id)
    click = await fake.click_button(message, "job:42:retry", user="bob")
    await fake.wait_for(lambda: click.responses)
    assert click.responses[0].data["content"] == "retrying job 42"
    assert click.responses[0].ephemeral


async def test_late_callback_gets_unknown_interaction(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.callback_deadline = 0.2
    await fake.slash_command("late", user="alice")
    await fake.wait_for(lambda: "late" in bot.cog.results)
    error = bot.cog.results["late"]
    assert isinstance(error, discord.NotFound)
    assert error.code == 10062


async def test_expired_token_edit_raises_50027(fake: FakeDiscord, bot: DemoBot) -> None:
    interaction = await fake.slash_command("hello", {"name": "x"}, user="alice")
    await fake.wait_for(lambda: "hello" in bot.cog.results)
    fake.expire_token(interaction)
    with pytest.raises(discord.HTTPException) as raised:
        await bot.cog.interactions["hello"].edit_original_response(content="late edit")
    assert raised.value.status == 401
    assert raised.value.code == 50027
    assert type(raised.value) is discord.HTTPException  # discord.py has no Unauthorized subclass


async def test_channel_route_edit_and_deleted_message(fake: FakeDiscord, bot: DemoBot) -> None:
    interaction = await fake.slash_command("hello", {"name": "x"}, user="alice")
    message = await fake.wait_for_message(lambda m: m.interaction_id == interaction.id)
    partial = bot.get_partial_messageable(message.channel_id).get_partial_message(message.id)
    await partial.edit(content="edited via channel")
    assert message.content == "edited via channel"
    assert message.edits[-1].route == "channel"
    fake.delete_message(message.id)
    with pytest.raises(discord.NotFound) as raised:
        await partial.edit(content="again")
    assert raised.value.code == 10008


async def test_429_with_via_is_retried_transparently(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.force_rate_limit("channel_message", n=1, retry_after=0.05)
    channel = bot.get_partial_messageable(fake.channel("general").id)
    await channel.send("after a 429")
    assert fake.rate_limited_count == 1
    assert [c.status for c in fake.calls_of("channel_message")] == [429, 200]
    assert fake.messages_in(fake.channel("general"))[0].content == "after a 429"


async def test_429_without_via_raises(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.force_rate_limit("channel_message", n=1, retry_after=0.05, via=False)
    with pytest.raises(discord.HTTPException) as raised:
        await bot.get_partial_messageable(fake.channel("general").id).send("x")
    assert raised.value.status == 429


async def test_channel_bucket_makes_discord_py_wait(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.channel_rate_limit(limit=2, per=0.3)
    channel = bot.get_partial_messageable(fake.channel("general").id)
    started = time.monotonic()
    for index in range(3):
        await channel.send(f"message {index}")
    assert time.monotonic() - started >= 0.2
    assert len(fake.messages_in(fake.channel("general"))) == 3


async def test_validation_errors_are_invalid_form_body(fake: FakeDiscord, bot: DemoBot) -> None:
    channel = bot.get_partial_messageable(fake.channel("general").id)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.code == 50035
    assert "content" in str(too_long.value)
    with pytest.raises(discord.HTTPException) as big_embed:
        await channel.send(embed=discord.Embed(title="t" * 257))
    assert big_embed.value.code == 50035
    with pytest.raises(discord.NotFound) as unknown:
        await bot.get_partial_messageable(1234).send("x")
    assert unknown.value.code == 10003
    fake.forbid_channel(fake.channel("mod-log"))
    with pytest.raises(discord.Forbidden) as forbidden:
        await bot.get_partial_messageable(fake.channel("mod-log").id).send("x")
    assert forbidden.value.code == 50001


async def test_dm_to_closed_user_is_forbidden(fake: FakeDiscord, bot: DemoBot) -> None:
    closed = fake.add_user("dave", dms_open=False)
    dm = await bot.create_dm(discord.Object(fake.user("alice").id))
    await dm.send("hello alice")
    assert fake.messages_in(fake.dm_channel(fake.user("alice")))[0].content == "hello alice"
    with pytest.raises(discord.Forbidden) as raised:
        await (await bot.create_dm(discord.Object(closed.id))).send("hello dave")
    assert raised.value.code == 50007


async def test_mentions_are_computed_from_allowed_mentions(fake: FakeDiscord, bot: DemoBot) -> None:
    channel = fake.channel("general")
    artists = fake.role("Artists")
    sent = await bot.get_partial_messageable(channel.id).send(f"@everyone {artists.mention}")
    quiet = fake.message(sent.id)
    assert quiet.allowed_mentions == {"parse": []}
    assert not quiet.pinged_anyone
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        url = f"{fake.rest_base}/channels/{channel.id}/messages"
        async with session.post(url, json={"content": f"@everyone {artists.mention}"}) as response:
            loud = fake.message(int((await response.json())["id"]))
        assert loud.pinged_everyone
        assert loud.pinged_roles == {artists.id}
        # An edit without allowed_mentions is parsed with the defaults again.
        async with session.patch(f"{url}/{quiet.id}", json={"content": fake.user("bob").mention}):
            pass
    assert quiet.pinged_users == {fake.user("bob").id}


async def test_raw_callback_rules(fake: FakeDiscord, bot: DemoBot) -> None:
    # No command of that name: discord.py ignores it, so the test plays the bot over raw HTTP.
    interaction = await fake.slash_command("unregistered", user="alice")
    callback = f"{fake.rest_base}/interactions/{interaction.id}/{interaction.token}/callback"
    webhook = f"{fake.rest_base}/webhooks/{fake.application_id}/{interaction.token}"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{webhook}?wait=1", json={"content": "too early"}) as early:
            assert early.status == 404
        async with session.post(callback, json={"type": 5, "data": {"flags": 64}}) as first:
            body = await first.json()
            assert first.status == 200
            assert body["interaction"]["response_message_loading"]
        async with session.post(callback, json={"type": 4, "data": {"content": "x"}}) as second:
            assert second.status == 400
            assert (await second.json())["code"] == 40060
        async with session.post(f"{webhook}?wait=1", json={"content": "replaces the thinking message"}) as up:
            assert (await up.json())["id"] == body["interaction"]["response_message_id"]
    original = fake.message(interaction.original_message_id or 0)
    assert original.ephemeral
    assert original.content == "replaces the thinking message"


async def test_update_message_button_edits_the_clicked_message(fake: FakeDiscord, bot: DemoBot) -> None:
    command = await fake.slash_command("hello", {"name": "x"}, user="alice")
    message = await fake.wait_for_message(lambda m: m.interaction_id == command.id)
    click = await fake.click_button(message, "job:42:cancel", user="alice")
    await fake.wait_for(lambda: click.responses)
    assert click.responses[0].callback_type == 7
    assert message.content == "cancelled job 42"
    assert message.components == []
    assert message.edits[-1].route == "callback"
    assert click.original_message_id == message.id


async def test_files_go_multipart_and_are_recorded(fake: FakeDiscord, bot: DemoBot) -> None:
    interaction = await fake.slash_command("file", user="alice")
    message = await fake.wait_for_message(lambda m: m.interaction_id == interaction.id)
    assert message.attachments == ["out.png"]
    assert fake.calls_of("interaction_callback")[-1].files == ["out.png"]
    channel = bot.get_partial_messageable(fake.channel("general").id)
    sent = await channel.send("log", file=discord.File(io.BytesIO(b"x"), filename="log.txt"))
    assert fake.message(sent.id).attachments == ["log.txt"]
    assert sent.attachments[0].filename == "log.txt"


async def test_components_v2_flag_and_its_rules(fake: FakeDiscord, bot: DemoBot) -> None:
    interaction = await fake.slash_command("card", user="alice")
    message = await fake.wait_for_message(lambda m: m.interaction_id == interaction.id)
    assert message.flags & (1 << 15)
    assert message.components[0]["type"] == 10
    body = {"content": "not allowed", "flags": 1 << 15, "components": [{"type": 10, "content": "x"}]}
    status, error = await _raw_post(fake, fake.channel("general").id, body)
    assert status == 400
    assert error["code"] == 50035


async def _raw_post(fake: FakeDiscord, channel_id: int, body: dict[str, Any]) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(f"{fake.rest_base}/channels/{channel_id}/messages", json=body) as response,
    ):
        return response.status, await response.json()


def _buttons(count: int, *, custom_id: str = "b", label: str = "ok") -> dict[str, Any]:
    button = {"type": 2, "style": 1, "custom_id": custom_id, "label": label}
    return {"type": 1, "components": [button] * count}


@pytest.mark.parametrize(
    "body",
    [
        {"content": "x", "components": [_buttons(1)] * 6},
        {"content": "x", "components": [_buttons(6)]},
        {"content": "x", "components": [_buttons(1, custom_id="c" * 101)]},
        {"content": "x", "components": [_buttons(1, label="l" * 81)]},
        {"embeds": [{"description": "d"}] * 11},
        {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
        {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        {"content": ""},
    ],
    ids=["6-rows", "6-buttons", "custom-id-101", "label-81", "11-embeds", "26-fields", "6001-total", "empty"],
)
async def test_raw_limits_are_rejected(fake: FakeDiscord, body: dict[str, Any]) -> None:
    status, error = await _raw_post(fake, fake.channel("general").id, body)
    assert status == 400
    assert error["code"] in (50035, 50006)
    assert fake.messages_in(fake.channel("general")) == []


async def test_tree_sync_stores_commands_and_ids_are_reused(fake: FakeDiscord, bot: DemoBot) -> None:
    synced = await bot.tree.sync()
    assert {c.name for c in synced} >= {"hello", "slow", "upload"}
    hello_id = next(c.id for c in synced if c.name == "hello")
    interaction = await fake.slash_command("hello", {"name": "x"}, user="alice")
    assert interaction.payload["data"]["id"] == str(hello_id)
    assert {c.name for c in await bot.tree.fetch_commands()} == {c.name for c in synced}


async def test_gateway_reconnect_resumes_and_keeps_dispatching(fake: FakeDiscord, bot: DemoBot) -> None:
    await fake.gateway.request_reconnect()
    await fake.wait_for(lambda: fake.gateway.resume_count == 1)
    interaction = await fake.slash_command("secret", user="alice")
    await fake.wait_for(lambda: interaction.responses)
    assert fake.gateway.identify_count == 1


async def test_webhook_429_is_retried_for_follow_ups(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.force_rate_limit("webhook", n=1, retry_after=0.05)
    interaction = await fake.slash_command("slow", user="alice")
    await fake.wait_for(lambda: len(interaction.responses) == 3)
    assert fake.rate_limits.sent_429_by_kind == {"webhook": 1}
    assert [c.status for c in fake.calls_of("webhook")] == [429, 200, 200]

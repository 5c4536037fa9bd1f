"""Issue 9: who may cancel, judged in the task's own server and channel (real discord.py, fake Discord
with two servers, channel overwrites and threads)."""

from __future__ import annotations

from pathlib import Path

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import MANAGE_MESSAGES
from tests.harness import embed_text, ephemeral_texts, replies_to, running_bot, status_message

REFUSAL = "No task of yours with that id here."


async def start(discord_fake: FakeDiscord, gateway: FakeGateway, user: str, **where: object):
    interaction = await discord_fake.slash_command("video", {"prompt": "slow"}, user=user, **where)  # type: ignore[arg-type]
    message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
    task = await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(interaction.id)))
    await discord_fake.wait_for(lambda: task.task_id in embed_text(message))
    return message, task


async def answer(discord_fake: FakeDiscord, interaction_id: int) -> str:
    texts = await discord_fake.wait_for(
        lambda: [t for t in ephemeral_texts(discord_fake, interaction_id) if t]
    )
    return texts[0]


async def test_a_task_cannot_be_cancelled_from_another_server_even_by_a_moderator_there(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    other = discord_fake.add_guild("Other", members=["alice", "bob"])
    elsewhere = discord_fake.add_channel("general", guild=other)
    discord_fake.grant(discord_fake.user("bob"), elsewhere, MANAGE_MESSAGES)
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        _, task = await start(discord_fake, gateway, "alice")
        for user in ("bob", "alice"):  # a moderator there, and even the owner, from the wrong server
            attempt = await discord_fake.slash_command(
                "cancel", {"task_id": task.task_id}, user=user, channel=elsewhere, guild=other
            )
            assert await answer(discord_fake, attempt.id) == REFUSAL
        assert task.cancel_reason is None


async def test_a_moderator_needs_manage_messages_in_the_tasks_own_channel_not_where_they_type(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    carol = discord_fake.user("carol")
    discord_fake.grant(
        carol, discord_fake.channel("imagine"), MANAGE_MESSAGES
    )  # a moderator of #imagine only
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        message, task = await start(discord_fake, gateway, "alice")  # in #general
        refused = await discord_fake.slash_command(
            "cancel", {"task_id": task.task_id}, user=carol, channel="imagine"
        )
        assert await answer(discord_fake, refused.id) == REFUSAL
        assert task.cancel_reason is None

        discord_fake.grant(carol, discord_fake.channel("general"), MANAGE_MESSAGES)
        allowed = await discord_fake.slash_command(
            "cancel", {"task_id": task.task_id}, user=carol, channel="imagine"
        )
        await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        assert "Cancel" in await answer(discord_fake, allowed.id)
        assert task.cancel_reason is not None


async def test_in_a_thread_the_parents_moderators_may_cancel_and_others_may_not(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    thread = discord_fake.add_thread("renders", parent="general")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        message, task = await start(discord_fake, gateway, "alice", channel=thread)
        stranger = await discord_fake.slash_command(
            "cancel", {"task_id": task.task_id}, user="bob", channel=thread
        )
        assert await answer(discord_fake, stranger.id) == REFUSAL
        discord_fake.grant(discord_fake.user("carol"), discord_fake.channel("general"), MANAGE_MESSAGES)
        moderator = await discord_fake.slash_command(
            "cancel", {"task_id": task.task_id[:8]}, user="carol", channel=thread
        )
        await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        assert "Cancel" in await answer(discord_fake, moderator.id)
        assert task.cancel_reason is not None


async def test_cancel_without_an_id_takes_the_callers_latest_task_in_this_server_only(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    other = discord_fake.add_guild("Other", members=["alice"])
    elsewhere = discord_fake.add_channel("general", guild=other)
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        here_message, here = await start(discord_fake, gateway, "alice")
        _, there = await start(discord_fake, gateway, "alice", channel=elsewhere, guild=other)  # newer
        command = await discord_fake.slash_command("cancel", {}, user="alice")
        await discord_fake.wait_for(lambda: replies_to(discord_fake, here_message.id), timeout=10)
        assert "Cancel" in await answer(discord_fake, command.id)
        assert here.cancel_reason is not None
        assert there.cancel_reason is None

"""Cancel from the button and from /cancel: who may, and what everyone sees."""

from __future__ import annotations

from pathlib import Path

import discord

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.harness import (
    cancel_custom_ids,
    embed_text,
    ephemeral_texts,
    has,
    replies_to,
    running_bot,
    status_message,
)


async def _start_long_task(discord_fake: FakeDiscord, user: str, prompt: str = "a slow one"):
    interaction = await discord_fake.slash_command("video", {"prompt": prompt}, user=user)
    message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
    return interaction, message


async def test_the_owner_cancels_with_the_button(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction, message = await _start_long_task(discord_fake, "alice")
        await gateway.wait_for_tasks(1)
        click = await discord_fake.click_button(message, cancel_custom_ids(message)[0], user="alice")
        reply = (await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10))[0]
        task = gateway.tasks_by_key[str(interaction.id)]
        assert task.cancel_reason is not None
        assert "cancel" in embed_text(message).lower()
        assert not cancel_custom_ids(message)
        assert "cancel" in embed_text(reply).lower()
        assert any("cancel" in text.lower() for text in ephemeral_texts(discord_fake, click.id))


async def test_a_stranger_is_refused_and_a_moderator_may_cancel(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction, message = await _start_long_task(discord_fake, "alice")
        await gateway.wait_for_tasks(1)
        custom_id = cancel_custom_ids(message)[0]

        refused = await discord_fake.click_button(message, custom_id, user="bob")
        await discord_fake.wait_for(lambda: ephemeral_texts(discord_fake, refused.id))
        assert ephemeral_texts(discord_fake, refused.id)[0] == "No task of yours with that id here."
        assert gateway.tasks_by_key[str(interaction.id)].cancel_reason is None
        assert cancel_custom_ids(message) == [custom_id]

        carol = discord_fake.user("carol")
        discord_fake.grant(
            carol, discord_fake.channel("general"), discord.Permissions(manage_messages=True).value
        )
        await discord_fake.click_button(message, custom_id, user=carol)
        await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        assert gateway.tasks_by_key[str(interaction.id)].cancel_reason is not None


async def test_slash_cancel_without_an_id_cancels_the_callers_latest_task(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        older, _ = await _start_long_task(discord_fake, "alice", "first")
        newer, newer_message = await _start_long_task(discord_fake, "alice", "second")
        others, _ = await _start_long_task(discord_fake, "bob", "bob's")
        await gateway.wait_for_tasks(3)

        command = await discord_fake.slash_command("cancel", {}, user="alice")
        await discord_fake.wait_for(lambda: replies_to(discord_fake, newer_message.id), timeout=10)
        await discord_fake.wait_for(lambda: ephemeral_texts(discord_fake, command.id))
        assert gateway.tasks_by_key[str(newer.id)].cancel_reason is not None
        assert gateway.tasks_by_key[str(older.id)].cancel_reason is None
        assert gateway.tasks_by_key[str(others.id)].cancel_reason is None


async def test_slash_cancel_with_an_id_and_the_polite_answers(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.script_when("quick", Script.success(after=0.2))
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        nothing = await discord_fake.slash_command("cancel", {}, user="carol")
        await discord_fake.wait_for(lambda: ephemeral_texts(discord_fake, nothing.id))

        quick, quick_message = await _start_long_task(discord_fake, "alice", "quick one")
        await discord_fake.wait_for(lambda: replies_to(discord_fake, quick_message.id), timeout=10)
        # The button is gone from the final message; a /cancel naming the task still gets a polite answer.
        assert not cancel_custom_ids(quick_message)
        late = await discord_fake.slash_command("cancel", {"task_id": str(quick.id)}, user="alice")
        await discord_fake.wait_for(lambda: ephemeral_texts(discord_fake, late.id))
        assert "already" in ephemeral_texts(discord_fake, late.id)[0].lower()

        slow, slow_message = await _start_long_task(discord_fake, "alice", "slow one")
        await gateway.wait_for_tasks(2)
        by_bob = await discord_fake.slash_command("cancel", {"task_id": str(slow.id)}, user="bob")
        await discord_fake.wait_for(lambda: ephemeral_texts(discord_fake, by_bob.id))
        by_alice = await discord_fake.slash_command("cancel", {"task_id": str(slow.id)}, user="alice")
        await discord_fake.wait_for(lambda: replies_to(discord_fake, slow_message.id), timeout=10)
        await discord_fake.wait_for(lambda: ephemeral_texts(discord_fake, by_alice.id))

        unknown = await discord_fake.slash_command("cancel", {"task_id": "12345"}, user="alice")
        await discord_fake.wait_for(has(lambda: ephemeral_texts(discord_fake, unknown.id)))
        for texts in (ephemeral_texts(discord_fake, i.id) for i in (nothing, by_bob, unknown)):
            assert texts and all(t for t in texts)

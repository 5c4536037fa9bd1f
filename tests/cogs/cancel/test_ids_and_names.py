"""Issue 9: /cancel by any id a user can see, the button only on its own message, and the status
message naming who cancelled."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import discord

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.harness import (
    cancel_custom_ids,
    embed_text,
    ephemeral_texts,
    replies_to,
    running_bot,
    status_message,
)

REFUSAL = "No task of yours with that id here."


async def start(discord_fake: FakeDiscord, gateway: FakeGateway, user: str, prompt: str):
    interaction = await discord_fake.slash_command("video", {"prompt": prompt}, user=user)
    message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
    task = await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(interaction.id)))
    # The status message shows the gateway's id once the bot has it.
    await discord_fake.wait_for(lambda: task.task_id in embed_text(message))
    return interaction, message, task


async def answer(discord_fake: FakeDiscord, interaction_id: int) -> str:
    texts = await discord_fake.wait_for(
        lambda: [t for t in ephemeral_texts(discord_fake, interaction_id) if t]
    )
    return texts[0]


async def test_cancel_by_the_gateway_id_shown_in_the_message_whole_or_by_a_prefix_of_eight(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        _, first_message, first = await start(discord_fake, gateway, "alice", "one")
        _, second_message, second = await start(discord_fake, gateway, "alice", "two")
        by_id = await discord_fake.slash_command("cancel", {"task_id": first.task_id.upper()}, user="alice")
        await discord_fake.wait_for(lambda: replies_to(discord_fake, first_message.id), timeout=10)
        assert "Cancel" in await answer(discord_fake, by_id.id)
        assert first.cancel_reason is not None

        by_prefix = await discord_fake.slash_command("cancel", {"task_id": second.task_id[:8]}, user="alice")
        await discord_fake.wait_for(lambda: replies_to(discord_fake, second_message.id), timeout=10)
        assert second.cancel_reason is not None
        assert "Cancel" in await answer(discord_fake, by_prefix.id)


async def test_a_prefix_finds_only_the_callers_own_tasks_and_too_short_a_prefix_finds_nothing(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        _, _, alices = await start(discord_fake, gateway, "alice", "hers")
        probe = await discord_fake.slash_command("cancel", {"task_id": alices.task_id[:8]}, user="bob")
        assert await answer(discord_fake, probe.id) == REFUSAL  # a prefix reveals nobody else's task
        short = await discord_fake.slash_command("cancel", {"task_id": alices.task_id[:7]}, user="alice")
        assert await answer(discord_fake, short.id) == REFUSAL
        assert alices.cancel_reason is None


async def test_the_button_works_only_on_its_own_status_message(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        _, first_message, first = await start(discord_fake, gateway, "alice", "one")
        _, second_message, _ = await start(discord_fake, gateway, "alice", "two")
        # A message of the bot's that carries the first task's button but is not its status message (a
        # stale copy): Discord only sends clicks for buttons that are on the clicked message.
        stale = dataclasses.replace(second_message.current, components=first_message.current.components)
        second_message.states.append(stale)
        forged = await discord_fake.click_button(
            second_message, cancel_custom_ids(first_message)[0], user="alice"
        )
        assert await answer(discord_fake, forged.id) == REFUSAL
        assert first.cancel_reason is None


async def test_the_cancelled_message_says_who_cancelled_it_without_a_ping(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        _, own_message, _ = await start(discord_fake, gateway, "alice", "mine")
        await discord_fake.click_button(own_message, cancel_custom_ids(own_message)[0], user="alice")
        await discord_fake.wait_for(lambda: replies_to(discord_fake, own_message.id), timeout=10)
        assert "Cancelled by the requester" in embed_text(own_message)

        _, modded_message, _ = await start(discord_fake, gateway, "alice", "moderated")
        carol = discord_fake.user("carol")
        general = discord_fake.channel("general")
        discord_fake.grant(carol, general, discord.Permissions(manage_messages=True).value)
        await discord_fake.click_button(modded_message, cancel_custom_ids(modded_message)[0], user=carol)
        reply = (
            await discord_fake.wait_for(lambda: replies_to(discord_fake, modded_message.id), timeout=10)
        )[0]
        assert "Cancelled by moderator carol" in embed_text(modded_message)
        assert "Cancelled by moderator carol" in reply.content
        pinged = {
            user_id for state in (*modded_message.states, *reply.states) for user_id in state.pinged_users
        }
        assert carol.id not in pinged


async def test_before_the_commands_are_synced_the_old_option_name_still_names_the_task(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        _, first_message, first = await start(discord_fake, gateway, "alice", "one")
        _, _, second = await start(discord_fake, gateway, "alice", "two")
        legacy = await discord_fake.slash_command("cancel", {"task": first.task_id}, user="alice")
        await discord_fake.wait_for(lambda: replies_to(discord_fake, first_message.id), timeout=10)
        assert "Cancel" in await answer(discord_fake, legacy.id)
        assert first.cancel_reason is not None
        assert second.cancel_reason is None  # never the latest task instead of the one named

"""/notify on|off: a DM with a link to the result message when a job ends, for those who ask for it.

The DM never gets in the way of the result: closed DMs are logged once and not tried again, and it is
sent once, also when the final is delivered again after a restart."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.engine.api.models import TaskStatus
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeMessage, RecordedCall
from tests.harness import (
    direct_messages,
    embed_text,
    ephemeral_texts,
    replies_to,
    running_bot,
    start_job,
    wait_until_reported,
)

pytestmark = pytest.mark.timeout(30)


def dm_sends(discord: FakeDiscord, user: str) -> list[RecordedCall]:
    dm_channel = discord.dm_channel(discord.user(user)).id
    return [c for c in discord.calls_of("channel_message") if c.path == f"/channels/{dm_channel}/messages"]


def link_to(discord: FakeDiscord, message: FakeMessage) -> str:
    return f"https://discord.com/channels/{discord.guild_id}/{message.channel_id}/{message.id}"


async def notify(discord: FakeDiscord, setting: str, *, user: str) -> str:
    interaction = await discord.slash_command("notify", {"setting": setting}, user=user)
    [answer] = await discord.wait_for(lambda: ephemeral_texts(discord, interaction.id))
    return answer


async def test_notify_answers_privately_with_the_new_value_and_remembers_it(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        alice = discord_fake.user("alice").id
        assert await bot.engine.notify_dm(alice) is False
        answer_on = await notify(discord_fake, "on", user="alice")
        assert await bot.engine.notify_dm(alice) is True
        answer_off = await notify(discord_fake, "off", user="alice")
        assert await bot.engine.notify_dm(alice) is False
    assert "on" in answer_on.lower() and "DM" in answer_on
    assert "off" in answer_off.lower()
    assert answer_on != answer_off
    # Both answers were for alice's eyes only: nothing public was posted.
    answers = discord_fake.messages_in(discord_fake.channel("general"))
    assert len(answers) == 2 and all(answer.ephemeral for answer in answers)


async def test_with_notify_on_the_requester_gets_one_dm_linking_to_the_result(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.script_when("fails", Script.failure(after=0.3))
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        await notify(discord_fake, "on", user="alice")
        interaction, message, _ = await start_job(discord_fake, gateway, "imagine", "a quay", user="alice")
        failing, failed_message, _ = await start_job(discord_fake, gateway, "imagine", "fails", user="alice")
        others, others_message, _ = await start_job(discord_fake, gateway, "imagine", "a dune", user="bob")
        for job in (interaction, failing, others):
            await wait_until_reported(bot, str(job.id))

        [reply] = replies_to(discord_fake, message.id)
        [failed_reply] = replies_to(discord_fake, failed_message.id)
        dms = direct_messages(discord_fake, "alice")
        assert len(dms) == 2
        done_dm = next(dm for dm in dms if link_to(discord_fake, reply) in dm.content)
        failed_dm = next(dm for dm in dms if link_to(discord_fake, failed_reply) in dm.content)
        assert "Your image is ready" in done_dm.content
        assert "Your image failed" in failed_dm.content
        assert not done_dm.pinged_anyone and not failed_dm.pinged_anyone
        assert direct_messages(discord_fake, "bob") == []  # bob never asked
        assert len(replies_to(discord_fake, others_message.id)) == 1


async def test_closed_dms_are_logged_once_and_the_result_is_delivered_as_ever(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    discord_fake.user("alice").dms_open = False
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        await notify(discord_fake, "on", user="alice")
        with caplog.at_level(logging.INFO, logger="bot.frontend.delivery"):
            interaction, message, _ = await start_job(discord_fake, gateway, "imagine", "quay", user="alice")
            await wait_until_reported(bot, str(interaction.id))
        [reply] = replies_to(discord_fake, message.id)
        assert reply.pinged_users == {interaction.user.id}
        assert "Done" in embed_text(message)
    dm_channel = discord_fake.dm_channel(discord_fake.user("alice")).id
    tries = [
        c for c in discord_fake.calls_of("channel_message") if c.path == f"/channels/{dm_channel}/messages"
    ]
    assert [c.status for c in tries] == [403]  # tried once, not again
    refusals = [r for r in caplog.records if "completion DM" in r.getMessage()]
    assert len(refusals) == 1 and "50007" in refusals[0].getMessage()


async def test_the_dm_is_sent_once_when_the_final_is_delivered_again_after_a_restart(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    db = tmp_path / "bot.sqlite3"
    async with running_bot(discord_fake, gateway, db, engine={"stop_timeout": 0.2}):
        await notify(discord_fake, "on", user="alice")
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a quay", user="alice")
        await discord_fake.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
        dm_channel = discord_fake.dm_channel(discord_fake.user("alice")).id
        hold = discord_fake.faults.hold("channel_message", method="POST", path=f"/channels/{dm_channel}/")
        gateway.set_status(task.task_id, TaskStatus.SUCCEEDED)
        await discord_fake.wait_for(lambda: hold.waiting == 1, timeout=10)
        # Discord has the DM; the bot is stopped before it hears back, so the final stays owed.
        assert len(direct_messages(discord_fake, "alice")) == 1
    hold.release()

    async with running_bot(discord_fake, gateway, db) as bot:
        await wait_until_reported(bot, str(interaction.id))
    [dm] = direct_messages(discord_fake, "alice")
    [reply] = replies_to(discord_fake, message.id)
    assert link_to(discord_fake, reply) in dm.content
    sends = [
        c for c in discord_fake.calls_of("channel_message") if c.path == f"/channels/{dm_channel}/messages"
    ]
    assert len(sends) == 2 and sends[0].json["nonce"] == sends[1].json["nonce"]


async def test_a_result_that_went_to_the_dms_is_not_followed_by_a_second_dm(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        await notify(discord_fake, "on", user="carol")
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a quay", user="carol")
        await discord_fake.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
        discord_fake.channel("general").forbidden = True
        gateway.set_status(task.task_id, TaskStatus.FAILED, error=("nsfw", "unsafe"))
        await wait_until_reported(bot, str(interaction.id))
    [dm] = direct_messages(discord_fake, "carol")
    assert "could not post in that channel" in dm.content

"""Issue 10 part 2: Delete removes a result's messages, for its requester or a moderator of its channel
only, and refuses while the result is still being delivered."""

from __future__ import annotations

import json
from pathlib import Path

from bot.testing.fake_gateway.server import FakeGateway
from tests.cogs.results.support import button, finished_job, private_answer, store_of
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import MANAGE_MESSAGES
from tests.harness import replies_to, running_bot


async def test_the_requester_deletes_the_status_message_and_the_reply(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        original, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "fox"}, user="alice"
        )
        [reply] = replies_to(discord_fake, message.id)
        await store_of(bot).set_reply_message(str(original.id), message_id=reply.id)  # the delivery half
        click = await discord_fake.click_button(message, button(message, "delete"), user="alice")
        assert "deleted" in (await private_answer(discord_fake, click)).lower()
        assert (message.deleted_by, reply.deleted_by) == ("bot", "bot")


async def test_a_stranger_is_refused_and_a_moderator_of_the_tasks_channel_may_delete(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    carol = discord_fake.user("carol")
    discord_fake.grant(carol, discord_fake.channel("imagine"), MANAGE_MESSAGES)  # not where the task is
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        original, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "fox"}, user="alice"
        )
        [reply] = replies_to(discord_fake, message.id)
        await store_of(bot).set_reply_message(str(original.id), message_id=reply.id)
        for stranger in ("bob", carol):
            refused = await discord_fake.click_button(message, button(message, "delete"), user=stranger)
            assert "only" in (await private_answer(discord_fake, refused)).lower()
        assert not message.deleted and not reply.deleted

        discord_fake.grant(carol, discord_fake.channel("general"), MANAGE_MESSAGES)
        allowed = await discord_fake.click_button(message, button(message, "delete"), user=carol)
        assert "deleted" in (await private_answer(discord_fake, allowed)).lower()
        assert message.deleted and reply.deleted


async def test_while_the_result_is_still_being_delivered_delete_waits(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        original, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "fox"}, user="alice"
        )
        # The delivery half is still re-hosting the file: deleting now would race its edit.
        await store_of(bot).set_media(str(original.id), state="pending")
        click = await discord_fake.click_button(message, button(message, "delete"), user="alice")
        assert "moment" in (await private_answer(discord_fake, click)).lower()
        assert not message.deleted


async def test_a_result_a_moderator_deleted_cannot_be_shown_again_even_by_its_requester(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    carol = discord_fake.user("carol")
    discord_fake.grant(carol, discord_fake.channel("general"), MANAGE_MESSAGES)
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        _, message, task = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "fox"}, user="alice"
        )
        deleted = await discord_fake.click_button(message, button(message, "delete"), user=carol)
        assert "deleted" in (await private_answer(discord_fake, deleted)).lower()
        shown = await discord_fake.slash_command(
            "show", {"task_id": task.task_id, "public": True}, user="alice"
        )
        assert await private_answer(discord_fake, shown) == (
            "That result was deleted by a moderator, so it cannot be shown or reused."
        )
        listed = await discord_fake.slash_command("tasks", {}, user="alice")
        responses = await discord_fake.wait_for(lambda: discord_fake.interactions_by_id[listed.id].responses)
        assert "result deleted" in json.dumps(responses[-1].data)
    assert not [
        m
        for m in discord_fake.messages_by_id.values()
        if not m.ephemeral and not m.deleted and "fox" in json.dumps(m.embeds)
    ]

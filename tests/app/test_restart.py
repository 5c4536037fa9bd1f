"""A restart in the middle of tasks: buttons keep working and each result arrives exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.engine.api.models import TaskStatus
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.harness import cancel_custom_ids, embed_text, replies_to, running_bot, status_message


async def test_restart_mid_task_keeps_the_button_working_and_delivers_once(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    db = tmp_path / "bot.sqlite3"
    async with running_bot(discord_fake, gateway, db):
        to_finish = await discord_fake.slash_command("imagine", {"prompt": "finishes later"}, user="alice")
        to_cancel = await discord_fake.slash_command("video", {"prompt": "cancelled later"}, user="bob")
        finish_message = await discord_fake.wait_for(lambda: status_message(discord_fake, to_finish.id))
        cancel_message = await discord_fake.wait_for(lambda: status_message(discord_fake, to_cancel.id))
        await gateway.wait_for_tasks(2)
        await discord_fake.wait_for(lambda: "Processing" in embed_text(finish_message))

    # Down: the gateway finishes one task while no bot runs.
    gateway.set_status(gateway.tasks_by_key[str(to_finish.id)].task_id, TaskStatus.SUCCEEDED)

    async with running_bot(discord_fake, gateway, db):
        reply = await discord_fake.wait_for(lambda: replies_to(discord_fake, finish_message.id), timeout=10)
        assert reply[0].pinged_users == {to_finish.user.id}

        custom_id = cancel_custom_ids(cancel_message)[0]
        click = await discord_fake.click_button(cancel_message, custom_id, user="bob")
        await discord_fake.wait_for(lambda: replies_to(discord_fake, cancel_message.id), timeout=10)
        assert gateway.tasks_by_key[str(to_cancel.id)].cancel_reason is not None
        assert discord_fake.interactions_by_id[click.id].responses
        await discord_fake.wait_for(lambda: not cancel_custom_ids(cancel_message))

    async with running_bot(discord_fake, gateway, db):
        # A third start finds nothing owed: no duplicate replies.
        await asyncio.sleep(0.5)  # long enough for a poller pass and any owed report to go out
    assert len(replies_to(discord_fake, finish_message.id)) == 1
    assert len(replies_to(discord_fake, cancel_message.id)) == 1
    assert len(gateway.tasks) == 2
    assert len(gateway.requests_of("create")) == 2

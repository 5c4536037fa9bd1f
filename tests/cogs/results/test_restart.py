"""Issue 10 part 2: the result buttons are persistent: they work on messages sent before a restart, and
a result whose task was pruned meanwhile answers that it was forgotten."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.engine.config import utc_now
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.cogs.results.support import button, finished_job, new_status_message, private_answer, store_of
from tests.fakes.discord import FakeDiscord
from tests.harness import running_bot


async def test_reroll_vary_and_delete_work_after_a_restart_on_the_same_database(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.success(after=0.3, assets={"image_url": gateway.asset_url("r.png")})
    db = tmp_path / "bot.sqlite3"
    async with running_bot(discord_fake, gateway, db) as bot:
        original, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "before the restart"}, user="alice"
        )

    async with running_bot(discord_fake, gateway, db) as bot:
        reroll = await discord_fake.click_button(message, button(message, "reroll"), user="bob")
        vary = await discord_fake.click_button(message, button(message, "vary"), user="alice")
        for click in (reroll, vary):
            await new_status_message(discord_fake, click)
            task = await discord_fake.wait_for(lambda c=click: gateway.tasks_by_key.get(str(c.id)))
            assert task.prompt == "before the restart"
            record = await bot.engine.get(str(click.id))
            assert record is not None and record.origin_key == str(original.id)
        delete = await discord_fake.click_button(message, button(message, "delete"), user="alice")
        assert "deleted" in (await private_answer(discord_fake, delete)).lower()
        assert message.deleted


async def test_a_result_whose_task_was_pruned_answers_that_it_was_forgotten(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        _, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "old"}, user="alice"
        )
        now = utc_now()
        pruned = await store_of(bot).prune_finished(
            completed_before=now + timedelta(minutes=1), now=now + timedelta(minutes=2)
        )
        assert pruned == 1
        click = await discord_fake.click_button(message, button(message, "reroll"), user="alice")
        assert "forgotten" in (await private_answer(discord_fake, click)).lower()
        assert len(gateway.requests_of("create")) == 1

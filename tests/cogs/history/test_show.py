"""Issue 10 part 3: /show shows a task of this server again, with its result and buttons: privately, or
publicly for its own requester; other people's, unknown and pruned ids get the answers /cancel gives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from bot.engine.config import utc_now
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.cogs.results.support import (
    actions,
    button,
    finished_job,
    new_status_message,
    private_answer,
    rehost,
    store_of,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import MANAGE_MESSAGES, FakeInteraction, FakeMessage
from tests.harness import embed_text, running_bot, status_message

REFUSAL = "No task of yours with that id here."


async def shown(discord_fake: FakeDiscord, interaction: FakeInteraction) -> FakeMessage:
    def found() -> FakeMessage | None:
        message = status_message(discord_fake, interaction.id)
        return message if message is not None and message.embeds else None

    return await discord_fake.wait_for(found)


async def test_show_displays_a_result_again_privately_with_its_buttons_which_work(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.success(after=0.3, assets={"image_url": gateway.asset_url("owl.png")})
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        original, _, task = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "an owl at night"}, user="alice"
        )
        command = await discord_fake.slash_command("show", {"task_id": task.task_id[:8]}, user="alice")
        copy = await shown(discord_fake, command)
        assert copy.ephemeral
        assert "an owl at night" in embed_text(copy)
        assert copy.embeds[0]["image"]["url"] == gateway.asset_url("owl.png")
        assert actions(copy) == ["reroll", "vary", "animate", "delete"]

        vary = await discord_fake.click_button(copy, button(copy, "vary"), user="alice")
        await new_status_message(discord_fake, vary)
        varied = await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(vary.id)))
        assert isinstance(varied.input_assets, dict)
        assert varied.input_assets["image_url"] == gateway.asset_url("owl.png")
        record = await bot.engine.get(str(vary.id))
        assert record is not None and record.origin_key == str(original.id)


async def test_show_public_is_for_the_requester_others_get_it_privately_or_the_cancel_refusal(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    carol = discord_fake.user("carol")
    discord_fake.grant(carol, discord_fake.channel("general"), MANAGE_MESSAGES)
    other = discord_fake.add_guild("Other", members=["alice"])
    elsewhere = discord_fake.add_channel("general", guild=other)
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        _, _, task = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "owl"}, user="alice"
        )
        public = await discord_fake.slash_command(
            "show", {"task_id": task.task_id, "public": True}, user="alice", channel="imagine"
        )
        copy = await shown(discord_fake, public)
        assert not copy.ephemeral and copy.channel_id == discord_fake.channel("imagine").id
        assert not copy.pinged_anyone

        moderated = await discord_fake.slash_command(
            "show", {"task_id": task.task_id, "public": True}, user=carol
        )
        moderators_copy = await shown(discord_fake, moderated)
        assert moderators_copy.ephemeral and "only" in moderators_copy.content.lower()

        for user, task_id, where in (
            ("bob", task.task_id, {}),
            ("alice", "0" * 19, {}),
            ("alice", task.task_id, {"channel": elsewhere, "guild": other}),
        ):
            refused = await discord_fake.slash_command("show", {"task_id": task_id}, user=user, **where)
            assert await private_answer(discord_fake, refused) == REFUSAL


async def test_show_takes_the_rehosted_file_as_discord_signs_it_now(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        original, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "owl"}, user="alice"
        )
        await rehost(bot, discord_fake, message, str(original.id))
        discord_fake.cdn.expire_links()
        command = await discord_fake.slash_command("show", {"task_id": str(original.id)}, user="alice")
        link = (await shown(discord_fake, command)).embeds[0]["image"]["url"]
        assert link.startswith(f"http://127.0.0.1:{discord_fake.port}/cdn/attachments/")
        async with httpx.AsyncClient() as http:
            assert (await http.get(link)).status_code == 200


async def test_show_finds_tasks_from_before_a_restart_and_says_when_one_was_forgotten(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    async with running_bot(discord_fake, gateway, db) as bot:
        _, _, task = await finished_job(
            bot, discord_fake, gateway, "video", {"prompt": "waves"}, user="alice"
        )

    async with running_bot(discord_fake, gateway, db) as bot:
        command = await discord_fake.slash_command("show", {"task_id": task.task_id}, user="alice")
        copy = await shown(discord_fake, command)
        assert "waves" in embed_text(copy) and task.task_id in embed_text(copy)
        assert actions(copy) == ["reroll", "delete"]

        now = utc_now()
        await store_of(bot).prune_finished(
            completed_before=now + timedelta(minutes=1), now=now + timedelta(minutes=2)
        )
        forgotten = await discord_fake.slash_command("show", {"task_id": task.task_id}, user="alice")
        assert "forgotten" in (await private_answer(discord_fake, forgotten)).lower()


async def test_delete_on_a_public_copy_removes_the_copy_with_the_result(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        _, message, task = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "owl"}, user="alice"
        )
        public = await discord_fake.slash_command(
            "show", {"task_id": task.task_id, "public": True}, user="alice", channel="imagine"
        )
        copy = await shown(discord_fake, public)
        click = await discord_fake.click_button(copy, button(copy, "delete"), user="alice")
        assert "deleted" in (await private_answer(discord_fake, click)).lower()
        assert (message.deleted_by, copy.deleted_by) == ("bot", "bot")

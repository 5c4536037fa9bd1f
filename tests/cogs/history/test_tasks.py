"""Issue 10 part 3: /tasks lists the caller's tasks in this server, newest first, privately, with paging
buttons that keep working after a restart and serve only the caller."""

from __future__ import annotations

import json
from pathlib import Path

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.cogs.results.support import private_answer
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeInteraction, FakeMessage
from tests.harness import custom_ids, embed_text, running_bot, status_message


async def listing(discord_fake: FakeDiscord, interaction: FakeInteraction) -> FakeMessage:
    """The private message that answered `interaction` (a /tasks, or a click that edited it)."""
    message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
    assert message.ephemeral
    return message


async def start(discord_fake: FakeDiscord, gateway: FakeGateway, prompt: str, **where: object) -> int:
    interaction = await discord_fake.slash_command("imagine", {"prompt": prompt}, **where)  # type: ignore[arg-type]
    await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(interaction.id)))
    return interaction.id


async def test_tasks_lists_the_callers_tasks_here_newest_first_with_status_model_age_id_and_link(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.script_when("slow", Script.never_finishes())
    other = discord_fake.add_guild("Other", members=["alice"])
    elsewhere = discord_fake.add_channel("general", guild=other)
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        older = await start(discord_fake, gateway, "an older fox", user="alice")
        newer = await start(discord_fake, gateway, "a slow newer owl", user="alice", channel="imagine")
        await start(discord_fake, gateway, "bob's cat", user="bob")
        await start(
            discord_fake, gateway, "a fox in another server", user="alice", channel=elsewhere, guild=other
        )

        command = await discord_fake.slash_command("tasks", {}, user="alice")
        shown = embed_text(await listing(discord_fake, command))
        assert shown.index("a slow newer owl") < shown.index("an older fox")
        assert "bob's cat" not in shown and "another server" not in shown
        for key, channel in ((older, "general"), (newer, "imagine")):
            record = await bot.engine.get(str(key))
            assert record is not None and record.task_id is not None and record.message_id is not None
            assert record.task_id in shown
            guild_id = discord_fake.channel(channel).guild_id
            assert f"https://discord.com/channels/{guild_id}/{record.channel_id}/{record.message_id}" in shown
        assert "flux-1-dev" in shown and "<t:" in shown  # the model, and the age as a Discord timestamp
        assert "Processing" in shown or "Queued" in shown
        assert custom_ids(await listing(discord_fake, command)) == []  # everything fits: no paging

        nothing = await discord_fake.slash_command("tasks", {}, user="carol")
        assert "no tasks" in embed_text(await listing(discord_fake, nothing)).lower()


async def test_tasks_pages_with_buttons_that_work_after_a_restart_and_only_for_the_caller(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.success(after=0.1)
    db = tmp_path / "bot.sqlite3"
    async with running_bot(discord_fake, gateway, db, max_active_per_user=20):
        for number in range(1, 13):
            await start(discord_fake, gateway, f"prompt number {number:02d}", user="alice")
        command = await discord_fake.slash_command("tasks", {}, user="alice")
        first = await listing(discord_fake, command)
        first_page = embed_text(first)
        assert "prompt number 12" in first_page and "prompt number 03" in first_page
        assert "prompt number 02" not in first_page
        assert "Page 1 of 2" in first_page
        [next_page] = custom_ids(first)

    async with running_bot(discord_fake, gateway, db):
        forged = await discord_fake.click_button(first, next_page, user="bob")
        assert "not yours" in (await private_answer(discord_fake, forged)).lower()

        click = await discord_fake.click_button(first, next_page, user="alice")
        await discord_fake.wait_for(lambda: "Page 2 of 2" in embed_text(first))
        second_page = embed_text(first)
        assert "prompt number 02" in second_page and "prompt number 01" in second_page
        assert "prompt number 03" not in second_page
        assert click.responses[0].callback_type == 7  # the same private message, edited
        [previous_page] = custom_ids(first)
        await discord_fake.click_button(first, previous_page, user="alice")
        await discord_fake.wait_for(lambda: "Page 1 of 2" in embed_text(first))
        assert json.dumps(first.embeds).count("prompt number") == 10

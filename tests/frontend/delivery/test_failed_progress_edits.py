"""A progress edit that fails in any way is forgotten: the result still arrives, exactly once."""

from __future__ import annotations

from pathlib import Path

from bot.engine.api.models import TaskStatus
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_faults import ABORTED
from tests.harness import (
    cancel_custom_ids,
    embed_text,
    replies_to,
    running_bot,
    start_job,
    wait_until_reported,
)


def aborted_edits(discord: FakeDiscord) -> int:
    return sum(1 for c in discord.calls_of("webhook") if c.method == "PATCH" and c.status == ABORTED)


async def test_progress_edits_lost_to_reset_connections_do_not_hold_up_the_result(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task = await start_job(
            discord_fake, gateway, "imagine", "a lighthouse", user="alice"
        )
        await discord_fake.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
        discord_fake.faults.abort_next("webhook", 2, method="PATCH")
        for step, progress in enumerate(("rendering 40%", "rendering 80%"), start=1):
            task.move_to(TaskStatus.PROCESSING, progress, event_type="progress")
            await discord_fake.wait_for(lambda step=step: aborted_edits(discord_fake) == step, timeout=10)
        gateway.set_status(task.task_id, TaskStatus.SUCCEEDED)

        [reply] = await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        assert f"https://cdn.fake.test/{task.task_id}.png" in reply.content
        assert reply.pinged_users == {interaction.user.id}
        await wait_until_reported(bot, str(interaction.id))
        assert len(replies_to(discord_fake, message.id)) == 1
        assert "Done" in embed_text(message)
        assert not cancel_custom_ids(message)
        assert bot.notifier._states == {}

"""What the notifier keeps per task is freed: after the final, when the engine abandons the task, and
after a bounded idle time when no final ever comes."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.engine.api.models import TaskStatus
from bot.frontend.delivery.task_state import MessageState, idle_keys, stop_timer
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.harness import embed_text, replies_to, running_bot, start_job, wait_until_reported


async def test_every_finished_task_is_forgotten_once_its_result_is_delivered(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.success(after=1.0, progress=["25%", "50%", "75%"])
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        jobs = [
            await start_job(discord_fake, gateway, "imagine", f"job {n}", user=user)
            for n, user in enumerate(("alice", "bob", "carol"))
        ]
        for interaction, message, _ in jobs:
            await discord_fake.wait_for(lambda m=message: replies_to(discord_fake, m.id), timeout=10)
            await wait_until_reported(bot, str(interaction.id))
        assert bot.notifier._states == {}
        assert not bot.notifier._timers


async def test_an_abandoned_task_is_forgotten_and_its_progress_timer_stopped(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    # A long edit interval keeps the Processing edit waiting in its timer.
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", status_edit_interval=60) as bot:
        interaction, message, _ = await start_job(discord_fake, gateway, "imagine", "a mill", user="alice")
        key = str(interaction.id)
        state = await discord_fake.wait_for(lambda: bot.notifier._states.get(key))
        timer = await discord_fake.wait_for(lambda: state.timer)
        assert not timer.done()

        bot.notifier.task_abandoned(key)

        assert bot.notifier._states == {}
        await discord_fake.wait_for(timer.done)
        assert timer.cancelled()
        assert "Processing" not in embed_text(message)  # the edit it was waiting to make never came


async def test_a_task_without_updates_is_forgotten_after_the_idle_limit_and_still_delivered(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.frontend.delivery")
    gateway.default_script = Script.never_finishes()
    async with running_bot(
        discord_fake, gateway, tmp_path / "bot.sqlite3", notifier={"state_idle_limit": 0.5}
    ) as bot:
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a dam", user="carol")
        key = str(interaction.id)
        await discord_fake.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
        # Processing is shown and no update follows: the memory of the task goes after the idle limit.
        await discord_fake.wait_for(lambda: key not in bot.notifier._states, timeout=10)
        forgotten = [r for r in caplog.records if key in r.getMessage() and "no update" in r.getMessage()]
        assert forgotten
        # Forgetting lost nothing the final needs.
        gateway.set_status(task.task_id, TaskStatus.SUCCEEDED)
        [reply] = await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        await wait_until_reported(bot, key)
        assert f"https://cdn.fake.test/{task.task_id}.png" in reply.content
        assert "Done" in embed_text(message)
        assert bot.notifier._states == {}


async def test_idle_keys_are_those_untouched_for_longer_than_the_limit_and_not_busy() -> None:
    fresh, stale, busy = (MessageState(touched_at=at) for at in (95.0, 10.0, 0.0))
    await busy.lock.acquire()  # an edit or a final in flight
    states = {"fresh": fresh, "stale": stale, "busy": busy}
    assert idle_keys(states, now=100.0, limit=60.0) == ["stale"]
    assert idle_keys(states, now=100.0, limit=200.0) == []


async def test_stopping_a_timer_that_died_of_an_error_does_not_raise_it_again() -> None:
    async def progress_edit() -> None:
        raise ConnectionResetError("reset by peer")

    timer = asyncio.get_running_loop().create_task(progress_edit())
    await asyncio.wait({timer})
    state = MessageState(timer=timer)
    await stop_timer(state)
    assert state.timer is None
    assert isinstance(timer.exception(), ConnectionResetError)

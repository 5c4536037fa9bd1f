"""A final delivery that keeps failing: the engine retries it with backoff, the notifier makes one
attempt per call (no loop of its own) and logs each failure at ERROR with the task key."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.engine.api.models import TaskStatus
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.harness import (
    direct_messages,
    embed_text,
    replies_to,
    running_bot,
    standalone_results,
    start_job,
)

DELIVERY_LOGGER = "bot.frontend.delivery"


def delivery_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(DELIVERY_LOGGER) and r.levelno >= logging.ERROR]


async def test_a_final_that_keeps_failing_is_one_request_and_one_error_per_engine_attempt(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a pier", user="bob")
        await discord_fake.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
        discord_fake.expire_token(interaction)
        discord_fake.faults.fail_next("channel_message", 1000, status=503, code=0, method="PATCH")
        gateway.set_status(task.task_id, TaskStatus.SUCCEEDED)
        await discord_fake.wait_for(lambda: len(delivery_errors(caplog)) >= 4, timeout=15)
    # Stopped: every attempt has ended, so requests and logged failures can be counted exactly.
    refused = [c for c in discord_fake.calls_of("channel_message") if c.status == 503]
    errors = delivery_errors(caplog)
    key = str(interaction.id)
    assert all(key in r.getMessage() for r in errors)
    failed_attempts = [r for r in errors if "503" in r.getMessage()]
    assert len(refused) == len(failed_attempts) >= 3
    # The dead token was given up once, loudly, and not tried again.
    token_given_up = [r for r in errors if "interaction-token route" in r.getMessage()]
    assert len(token_given_up) == 1
    assert [c.status for c in discord_fake.calls_of("webhook")][1:] == [401]  # after the Processing edit
    engine_retries = [r for r in caplog.records if r.name.startswith("bot.engine") and key in r.getMessage()]
    assert len(engine_retries) >= len(failed_attempts) - 1  # the engine scheduled each next attempt
    # A server error is not a refusal: no fallback was taken, the status message is still the one.
    assert not replies_to(discord_fake, message.id)
    assert not standalone_results(discord_fake, message)
    assert not direct_messages(discord_fake, "bob")

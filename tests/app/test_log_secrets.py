"""Credentials never reach the log, at any level (issue 9): the bot token, the API key, and interaction
tokens, which discord.py logs at DEBUG in webhook URLs, callback URLs and raw gateway events."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.runtime import configure_logging
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.harness import make_settings, replies_to, running_bot, status_message


@pytest.fixture
def captured_root_log() -> Iterator[io.StringIO]:
    """Everything the root logger writes, through the bot's own logging configuration."""
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    before_levels = {
        name: logging.getLogger(name).level for name in ("discord", "httpx", "httpcore", "aiosqlite")
    }
    buffer = io.StringIO()
    root.addHandler(logging.StreamHandler(buffer))
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            if handler not in before_handlers:
                root.removeHandler(handler)
        root.setLevel(before_level)
        for name, level in before_levels.items():
            logging.getLogger(name).setLevel(level)


async def test_a_whole_run_at_debug_logs_no_token_of_any_kind(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, captured_root_log: io.StringIO
) -> None:
    database = tmp_path / "bot.sqlite3"
    configure_logging(make_settings(discord_fake, gateway, database, log_level="DEBUG"))
    async with running_bot(discord_fake, gateway, database, log_level="DEBUG"):
        interaction = await discord_fake.slash_command("imagine", {"prompt": "a fox"}, user="alice")
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        await discord_fake.click_button(message, f"mindproxy:cancel:{interaction.id}", user="bob")
        await discord_fake.wait_for(lambda: len(discord_fake.interactions_by_id) >= 2)
    log = captured_root_log.getvalue()
    assert "INTERACTION_CREATE" in log and "/webhooks/" in log  # DEBUG really was on
    secrets = [
        discord_fake.token,
        gateway.api_key,
        *(i.token for i in discord_fake.interactions_by_id.values()),
    ]
    leaked = [secret[:12] + "…" for secret in secrets if secret in log]
    assert leaked == []

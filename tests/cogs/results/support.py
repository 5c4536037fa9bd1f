"""Helpers for the tests of finished results: a finished job, its buttons, and the other half of issue
10 (the re-hosted file, the recorded reply) set up the way that half leaves them."""

from __future__ import annotations

from typing import Any

from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.frontend.client import MindProxyBot
from bot.testing.fake_gateway.assets import placeholder_png
from bot.testing.fake_gateway.script import FakeTask
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeInteraction, FakeMessage, UploadedFile
from tests.harness import custom_ids, ephemeral_texts, replies_to, status_message, wait_until_reported


def store_of(bot: MindProxyBot) -> SqliteTaskStore:
    """The bot's own store, to set what the delivery half records (reply id, re-hosted file)."""
    store = bot.engine._store
    assert isinstance(store, SqliteTaskStore)
    return store


def button(message: FakeMessage, action: str) -> str:
    """The custom_id of the message's `action` button (reroll, vary, animate, delete, cancel)."""
    found = [c for c in custom_ids(message) if c.startswith(f"mindproxy:{action}:")]
    assert found, f"no {action} button on the message: {custom_ids(message)}"
    return found[0]


def actions(message: FakeMessage) -> list[str]:
    return [custom_id.split(":")[1] for custom_id in custom_ids(message)]


async def finished_job(
    bot: MindProxyBot,
    discord_fake: FakeDiscord,
    gateway: FakeGateway,
    command: str,
    options: dict[str, Any],
    *,
    user: str,
    **where: Any,
) -> tuple[FakeInteraction, FakeMessage, FakeTask]:
    """Run a command and wait until its result is shown with the buttons and nothing more is owed."""
    interaction = await discord_fake.slash_command(command, options, user=user, **where)
    message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
    task = await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(interaction.id)))
    await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
    await discord_fake.wait_for(lambda: "delete" in actions(message), timeout=10)
    await wait_until_reported(bot, str(interaction.id))
    return interaction, message, task


async def rehost(bot: MindProxyBot, discord_fake: FakeDiscord, message: FakeMessage, key: str) -> None:
    """What the delivery half does once it re-hosted the result: the file on the status message,
    shown as `attachment://result.png`, and the state in the store."""
    embeds = [dict(message.embeds[0], image={"url": "attachment://result.png"})]
    upload = UploadedFile(index=0, filename="result.png", content_type="image/png", data=placeholder_png())
    discord_fake.store.edit(message, {"embeds": embeds}, [upload], route="channel")
    await store_of(bot).set_media(key, state="attached", filename="result.png")


async def private_answer(discord_fake: FakeDiscord, interaction: FakeInteraction) -> str:
    texts = await discord_fake.wait_for(
        lambda: [t for t in ephemeral_texts(discord_fake, interaction.id) if t]
    )
    return texts[0]


async def new_status_message(discord_fake: FakeDiscord, click: FakeInteraction) -> FakeMessage:
    """The public status message a click answered with (Discord shows it as a reply to the result)."""
    message = await discord_fake.wait_for(lambda: status_message(discord_fake, click.id))
    assert not message.ephemeral
    return message

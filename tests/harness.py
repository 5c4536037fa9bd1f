"""The whole bot, for real, between a fake Discord and a fake MindProxy gateway on 127.0.0.1.

The bot is the production `MindProxyBot` with the real engine, SQLite store and httpx client; only
the two remote services are fakes. A harness can be stopped and started again on the same database
and the same fakes, which is how restarts are tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bot.app.runtime import build_asset_client
from bot.engine.api.client import TaskApiClient
from bot.engine.config import EngineConfig
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.engine.task_engine import TaskEngine
from bot.frontend.client import MindProxyBot
from bot.frontend.delivery.notifier import DiscordNotifier
from bot.settings import Settings
from bot.testing.fake_gateway.script import FakeTask
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord, run_bot
from tests.fakes.discord_model import FakeInteraction, FakeMessage

CANCEL_PREFIX = "mindproxy:cancel:"


def make_settings(discord: FakeDiscord, gateway: FakeGateway, db_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_token": discord.token,
        "tt_api_key": gateway.api_key,
        "mindproxy_base_url": gateway.base_url,
        "database_url": f"sqlite:///{db_path}",
        "poll_interval": 0.1,
        "status_edit_interval": 0.2,
        "gateway_timeout": 2.0,
        "gateway_max_rps": 500.0,
        "imagine_models": "flux-1-dev,midjourney-v7:midjourney",
        "video_models": "kling-v2",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]  # never read a developer's .env


@contextlib.asynccontextmanager
async def running_bot(
    discord: FakeDiscord,
    gateway: FakeGateway,
    db_path: Path,
    *,
    engine: dict[str, Any] | None = None,
    notifier: dict[str, Any] | None = None,
    **overrides: Any,
) -> AsyncIterator[MindProxyBot]:
    """The bot, ready; `engine` overrides EngineConfig fields, `notifier` DiscordNotifier options, and
    the rest Settings fields."""
    settings = make_settings(discord, gateway, db_path, **overrides)
    config = EngineConfig(
        **{
            "poll_interval": settings.poll_interval,
            "max_in_flight": settings.gateway_max_in_flight,
            "task_max_age": settings.task_max_age,
            "progress_interval": 0.2,
            "notify_retry": 0.2,
            "max_backoff": 0.5,
            **(engine or {}),
        }
    )
    async with (
        SqliteTaskStore(db_path) as store,
        TaskApiClient(
            base_url=settings.mindproxy_base_url,
            api_key=settings.tt_api_key,
            timeout=settings.gateway_timeout,
            max_retry_wait=0.5,
            backoff_base=0.05,
        ) as client,
        build_asset_client(settings) as asset_http,
    ):
        engine = TaskEngine(client, store, config=config)
        bot = MindProxyBot(settings=settings, engine=engine, asset_http=asset_http)
        if notifier:
            bot.notifier = DiscordNotifier(
                bot,
                bot.engine,
                min_edit_interval=settings.status_edit_interval,
                downloader=bot.downloader,
                **notifier,
            )
        async with bot, run_bot(bot, discord):
            yield bot


# ---- reading what a user sees -------------------------------------------------------------------


def embed_text(message: FakeMessage) -> str:
    """Everything visible in a message, as one string to search."""
    return message.content + "\n" + json.dumps(message.embeds, ensure_ascii=False)


def cancel_custom_ids(message: FakeMessage) -> list[str]:
    ids = []
    for row in message.components:
        for component in row.get("components", []):
            custom_id = component.get("custom_id", "")
            if custom_id.startswith(CANCEL_PREFIX):
                ids.append(custom_id)
    return ids


def custom_ids(message: FakeMessage) -> list[str]:
    """The custom_id of every button on the message, in order."""
    return [
        component["custom_id"]
        for row in message.components
        for component in row.get("components", [])
        if "custom_id" in component
    ]


def status_message(discord: FakeDiscord, interaction_id: int) -> FakeMessage | None:
    interaction = discord.interactions_by_id[interaction_id]
    if interaction.original_message_id is None:
        return None
    return discord.messages_by_id.get(interaction.original_message_id)


def replies_to(discord: FakeDiscord, message_id: int) -> list[FakeMessage]:
    return [
        m
        for m in discord.messages_by_id.values()
        if m.message_reference and int(m.message_reference.get("message_id", 0)) == message_id
    ]


def standalone_results(discord: FakeDiscord, message: FakeMessage) -> list[FakeMessage]:
    """Messages the bot posted in the status message's channel that are neither it nor replies to it."""
    return [
        m
        for m in discord.messages_by_id.values()
        if m.channel_id == message.channel_id
        and m.id != message.id
        and not m.message_reference
        and m.author.id == discord.bot_user.id
        and m.interaction_id is None
    ]


def direct_messages(discord: FakeDiscord, user: str) -> list[FakeMessage]:
    return discord.messages_in(discord.dm_channel(discord.user(user)))


def ephemeral_texts(discord: FakeDiscord, interaction_id: int) -> list[str]:
    interaction = discord.interactions_by_id[interaction_id]
    return [str(r.data.get("content") or "") for r in interaction.responses if r.ephemeral]


async def start_job(
    discord: FakeDiscord, gateway: FakeGateway, command: str, prompt: str, *, user: str
) -> tuple[FakeInteraction, FakeMessage, FakeTask]:
    """Run a slash command and wait until its status message is shown and the gateway has the task."""
    interaction = await discord.slash_command(command, {"prompt": prompt}, user=user)
    message = await discord.wait_for(lambda: status_message(discord, interaction.id))
    task = await discord.wait_for(lambda: gateway.tasks_by_key.get(str(interaction.id)))
    return interaction, message, task


async def wait_until_reported(bot: MindProxyBot, key: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until the engine holds the task's final state as delivered: nothing more is owed, so no
    report of it can follow (a check of 'exactly once' needs no sleep after this)."""
    deadline = time.monotonic() + timeout
    while True:
        record = await bot.engine.get(key)
        if record is not None and record.is_finished and record.notify_due_at is None:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"task {key} was not reported as delivered within {timeout}s")
        await asyncio.sleep(0.02)


def has(predicate: Callable[[], object]) -> Callable[[], bool]:
    """Wrap a check so an exception (e.g. a message not there yet) reads as 'not yet'."""

    def check() -> bool:
        try:
            return bool(predicate())
        except (KeyError, AttributeError, IndexError):
            return False

    return check

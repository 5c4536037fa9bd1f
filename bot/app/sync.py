"""`python -m bot sync [--guild ID]`: publish the slash commands without running the bot.

Global commands take up to an hour to show everywhere; a guild sync is instant, for testing. Discord
allows about 200 command creates a day per guild, which is why the bot does not sync on every start.
"""

from __future__ import annotations

import logging

import discord

from bot.app.runtime import apply_discord_api_base, build_client, configure_logging, engine_config
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.engine.task_engine import TaskEngine
from bot.frontend.client import MindProxyBot
from bot.settings import Settings

log = logging.getLogger(__name__)


async def run_sync(settings: Settings, *, guild_id: int | None) -> int:
    configure_logging(settings)
    apply_discord_api_base(settings)
    store = SqliteTaskStore(":memory:")  # the commands need a bot, the bot needs an engine; no real work here
    async with store, build_client(settings) as client:
        bot = MindProxyBot(
            settings=settings, engine=TaskEngine(client, store, config=engine_config(settings))
        )
        async with bot:
            try:
                # login() runs setup_hook, which loads the cogs that declare the commands.
                await bot.login(settings.discord_token.get_secret_value())
            except discord.LoginFailure:
                log.error("Discord refused DISCORD_TOKEN: check the bot token in the Developer Portal")
                return 1
            try:
                count = await bot.sync_commands(guild_id)
            except discord.Forbidden:
                log.error(
                    "Discord refused the sync: is the bot in guild %s with applications.commands?", guild_id
                )
                return 1
    where = f"guild {guild_id} (available now)" if guild_id else "all guilds (may take up to an hour)"
    print(f"synced {count} commands to {where}")  # noqa: T201
    return 0

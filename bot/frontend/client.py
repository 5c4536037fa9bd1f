"""The Discord client: wiring of the cogs, the notifier and the poller."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord
import httpx
from discord.ext import commands

from bot.engine.task_engine import TaskEngine
from bot.frontend.command_tree import BotCommandTree
from bot.frontend.delivery.downloads import AssetDownloader
from bot.frontend.delivery.notifier import DiscordNotifier
from bot.settings import Settings

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = ("cogs.generate", "cogs.cancel", "cogs.results", "cogs.history", "cogs.notify")


def minimal_intents() -> discord.Intents:
    """Slash commands and buttons arrive as interactions, which need no intent; `guilds` keeps the
    channel and permission cache that discord.py's app-command machinery expects."""
    return discord.Intents(guilds=True)


class MindProxyBot(commands.Bot):
    """Everything is built outside and handed in; `setup_hook` starts it and `close` undoes it."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: TaskEngine,
        asset_http: httpx.AsyncClient | None = None,
        extensions: Sequence[str] = EXTENSIONS,
        sync_commands: bool = False,
    ) -> None:
        """`asset_http` downloads result files to re-host them (a client without credentials, built
        with `asset_http_client`); without it results stay links (as for `python -m bot sync`)."""
        super().__init__(
            # No text commands: a mention prefix avoids needing the message-content intent.
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=minimal_intents(),
            # Merged by discord.py into every send and edit: a prompt can never ping anyone.
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=BotCommandTree,
        )
        self.settings = settings
        self.engine = engine
        self.downloader = (
            AssetDownloader(asset_http, timeout=settings.result_download_timeout) if asset_http else None
        )
        self.notifier = DiscordNotifier(
            self, engine, min_edit_interval=settings.status_edit_interval, downloader=self.downloader
        )
        self._extensions = tuple(extensions)
        self._sync_commands = sync_commands

    async def setup_hook(self) -> None:
        for extension in self._extensions:
            # A cog that fails to load stops the start: a half-working bot is worse than none.
            await self.load_extension(extension)
        self.engine.set_notifier(self.notifier)
        await self.engine.start()
        resumed = await self.notifier.resume_media()
        if resumed:
            log.info("re-hosting %d result file(s) left pending by the last run", resumed)
        if self._sync_commands:
            await self.sync_commands(self.settings.sync_guild_id)
        log.info("bot set up: %d extensions, poller running", len(self._extensions))

    async def sync_commands(self, guild_id: int | None) -> int:
        """Publish the slash commands, to one guild (instant) or globally."""
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d commands %s", len(synced), f"to guild {guild_id}" if guild_id else "globally")
        return len(synced)

    async def close(self) -> None:
        # Reverse of setup_hook: stop producing work, then take the pieces down.
        await self.engine.stop()
        await self.notifier.close()
        await super().close()  # BotBase.close unloads the extensions, whose cog_unload stop their work

    async def on_ready(self) -> None:
        user = self.user
        log.info("logged in as %s (id %s) in %d guilds", user, user.id if user else "?", len(self.guilds))

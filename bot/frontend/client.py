"""The Discord client: wiring of the cogs, the notifier and the poller."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
import httpx
import yarl
from discord.ext import commands

from bot.engine.task_engine import TaskEngine
from bot.frontend.command_tree import BotCommandTree
from bot.frontend.delivery.downloads import AssetDownloader
from bot.frontend.delivery.notifier import DiscordNotifier
from bot.settings import Settings

log = logging.getLogger(__name__)

SYNC_JOB = "sync-commands-on-start"
SYNC_JOB_HOLD = 600.0  # processes started within ten minutes of one another sync once

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
        **client_options: Any,  # noqa: ANN401  # discord.py's own keyword options, passed through
    ) -> None:
        """`asset_http` downloads result files to re-host them (a client without credentials, built
        with `asset_http_client`); without it results stay links (as for `python -m bot sync`).
        `client_options` go to discord.py's client (the shards of `ShardedMindProxyBot`)."""
        super().__init__(
            # No text commands: a mention prefix avoids needing the message-content intent.
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=minimal_intents(),
            # Merged by discord.py into every send and edit: a prompt can never ping anyone.
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=BotCommandTree,
            **client_options,
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
            # Several processes may start together: one of them publishes the commands.
            if await self.engine.claim_cluster_job(SYNC_JOB, hold_for=SYNC_JOB_HOLD):
                await self.sync_commands(self.settings.sync_guild_id)
            else:
                log.info("another bot process syncs the commands")
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


class ShardedMindProxyBot(MindProxyBot, commands.AutoShardedBot):
    """The bot over some of Discord's shards (`SHARD_COUNT`, `SHARD_IDS`): one websocket per shard
    in this process; the other shards' servers are served by other processes sharing the store."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: TaskEngine,
        asset_http: httpx.AsyncClient | None = None,
        sync_commands: bool = False,
        shard_count: int,
        shard_ids: Sequence[int] | None,
    ) -> None:
        super().__init__(
            settings=settings,
            engine=engine,
            asset_http=asset_http,
            sync_commands=sync_commands,
            shard_count=shard_count,
            shard_ids=list(shard_ids) if shard_ids else None,
        )

    async def launch_shards(self) -> None:
        """As discord.py's, but the gateway's address comes from `GET /gateway/bot`, as Discord
        recommends, also when the shard count is fixed (discord.py then takes its built-in default):
        so it follows `DISCORD_API_BASE_URL` to whatever answers there."""
        if self.is_closed():
            return
        shard_count = self.shard_count or 1
        _, gateway_url, _ = await self.http.get_bot_gateway()
        self._connection.shard_count = shard_count
        shard_ids = self.shard_ids or list(range(shard_count))
        self._connection.shard_ids = shard_ids
        for shard_id in shard_ids:
            await self.launch_shard(yarl.URL(gateway_url), shard_id, initial=shard_id == shard_ids[0])


def build_bot(
    *,
    settings: Settings,
    engine: TaskEngine,
    asset_http: httpx.AsyncClient | None = None,
    sync_commands: bool = False,
) -> MindProxyBot:
    """The bot the settings ask for: over some shards when SHARD_COUNT is set, else one connection."""
    if settings.shard_count is None:
        return MindProxyBot(
            settings=settings, engine=engine, asset_http=asset_http, sync_commands=sync_commands
        )
    log.info("running shards %s of %d", settings.shard_ids or "all", settings.shard_count)
    return ShardedMindProxyBot(
        settings=settings,
        engine=engine,
        asset_http=asset_http,
        sync_commands=sync_commands,
        shard_count=settings.shard_count,
        shard_ids=settings.shard_ids,
    )

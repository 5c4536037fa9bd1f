"""Builds the long-lived resources once and runs the bot until SIGTERM/SIGINT.

Settings, the task store and the two httpx clients (the gateway's, and one without credentials for
result files) are made here, handed to the engine and the bot, and closed here in reverse order
(python-discord/bot and discord.py's advanced_startup.py style).

`DATABASE_URL` picks the store: a SQLite file serves one process (a second one is refused by a lock
file); a PostgreSQL database is shared by any number of processes, which split the polling with
leases and the gateway ceiling with heartbeats (`SharedCeiling`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

import discord
import httpx
from discord.utils import setup_logging

from bot.app.heartbeat import beat, heartbeat_path
from bot.app.single_process import DatabaseInUseError, exclusive_database_lock
from bot.background import create_task
from bot.engine.api.client import TaskApiClient
from bot.engine.api.rate_limit import RequestRateLimiter
from bot.engine.api.redaction import install_redaction
from bot.engine.config import EngineConfig
from bot.engine.shared_ceiling import SharedCeiling
from bot.engine.store.interface import SchemaTooNewError
from bot.engine.store.postgres.store import PostgresTaskStore
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.engine.task_engine import TaskEngine
from bot.frontend.client import build_bot
from bot.frontend.delivery.downloads import asset_http_client
from bot.frontend.log_redaction import INTERACTION_TOKEN_PATTERNS
from bot.settings import Settings

log = logging.getLogger(__name__)


def configure_logging(settings: Settings) -> None:
    """discord.py's own handler and format, plus a filter that keeps the bot token, the API key and
    interaction tokens out of every line."""
    setup_logging(level=logging.getLevelNamesMapping()[settings.log_level], root=True)
    # One line per poll or query would drown the log; their warnings still show.
    for chatty in ("httpx", "httpcore", "aiosqlite", "asyncpg"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    install_redaction(
        [settings.discord_token.get_secret_value(), settings.tt_api_key.get_secret_value()],
        patterns=INTERACTION_TOKEN_PATTERNS,
    )


def apply_discord_api_base(settings: Settings) -> None:
    """Point discord.py's REST calls (webhook and interaction routes included) at a proxy, if set."""
    if settings.discord_api_base_url:
        discord.http.Route.BASE = settings.discord_api_base_url


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        poll_interval=settings.poll_interval,
        max_in_flight=settings.gateway_max_in_flight,
        task_max_age=settings.task_max_age,
        retention=settings.task_retention_days * 86400,
        lease_seconds=settings.lease_seconds,
    )


def build_asset_client(settings: Settings) -> httpx.AsyncClient:
    """The client that downloads result files: separate from the gateway's, which carries the API key."""
    return asset_http_client(timeout=settings.result_download_timeout)


def build_client(settings: Settings, rate_limiter: RequestRateLimiter | None = None) -> TaskApiClient:
    return TaskApiClient(
        base_url=settings.mindproxy_base_url,
        api_key=settings.tt_api_key,
        timeout=settings.gateway_timeout,
        rate_limiter=rate_limiter or RequestRateLimiter(settings.gateway_max_rps),
    )


def build_store(settings: Settings) -> SqliteTaskStore | PostgresTaskStore:
    """The store DATABASE_URL names (not opened yet)."""
    if settings.database_kind == "postgresql":
        return PostgresTaskStore(settings.database_url, pool_size=settings.database_pool_size)
    return SqliteTaskStore(settings.database_path)


async def run_bot(settings: Settings) -> int:
    """Run until a signal or a fatal error; the exit status for the process."""
    settings.local_dir.mkdir(parents=True, exist_ok=True)
    apply_discord_api_base(settings)
    with contextlib.ExitStack() as held:
        if settings.database_kind == "sqlite":
            try:
                held.enter_context(exclusive_database_lock(settings.database_path))
            except DatabaseInUseError as error:
                log.error("%s", error)
                return 1
        try:
            return await _run_with_database(settings)
        except SchemaTooNewError as error:
            log.error("%s", error)
            return 1


@contextlib.asynccontextmanager
async def shared_ceiling(
    store: SqliteTaskStore | PostgresTaskStore, limiter: RequestRateLimiter, settings: Settings, owner: str
) -> AsyncIterator[None]:
    """With PostgreSQL, hold this process to its share of GATEWAY_MAX_RPS for as long as the block runs
    (leaving the heartbeat table at the end); with SQLite the one process has the whole ceiling."""
    if not isinstance(store, PostgresTaskStore):
        yield
        return
    ceiling = SharedCeiling(store, limiter, ceiling=settings.gateway_max_rps, owner=owner)
    await ceiling.start()
    try:
        yield
    finally:
        await ceiling.stop()


async def _run_with_database(settings: Settings) -> int:
    limiter = RequestRateLimiter(settings.gateway_max_rps)
    async with (
        build_store(settings) as store,
        build_client(settings, limiter) as client,
        build_asset_client(settings) as asset_http,
    ):
        engine = TaskEngine(client, store, config=engine_config(settings), report_scope=settings.report_scope)
        bot = build_bot(
            settings=settings,
            engine=engine,
            asset_http=asset_http,
            sync_commands=settings.sync_commands_on_start,
        )
        # The ceiling is left after the bot closed, which stops the engine: no request follows.
        async with shared_ceiling(store, limiter, settings, engine.owner), bot:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            # The runner's and stopper's ends are awaited right here, so they are not background tasks.
            runner = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()), name="discord")
            stopper = asyncio.create_task(stop.wait(), name="signal")
            heartbeat = create_task(
                beat(lambda: bot.is_ready() and bot.engine.running, heartbeat_path(settings)),
                name="heartbeat",
            )
            try:
                await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                log.info("shutting down")
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
                for task in (stopper, heartbeat):
                    task.cancel()
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
            if runner.done() and not runner.cancelled() and runner.exception() is not None:
                error = runner.exception()
                if isinstance(error, discord.LoginFailure):
                    log.error("Discord refused DISCORD_TOKEN: check the bot token in the Developer Portal")
                    return 1
                if isinstance(error, discord.PrivilegedIntentsRequired):
                    log.error("Discord refused an intent: %s", error)
                    return 1
                log.error("the bot stopped on an error", exc_info=error)
                return 1
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
    log.info("stopped cleanly")
    return 0

"""`python -m bot check`: is this bot ready to run? One line per check, exit 1 on any problem.

Tells apart: a missing or invalid setting, a database folder that cannot be written (SQLite) or a
database that cannot be reached or has a newer schema (PostgreSQL), a MindProxy key that is refused, a
gateway that cannot be reached, a Discord token that is refused, and Discord being unreachable, so a
new operator knows which value to fix.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TextIO

import aiohttp
import discord

from bot.app.runtime import apply_discord_api_base, build_client
from bot.engine.api.errors import AuthenticationError, GatewayUnavailableError, TaskApiError
from bot.engine.store.interface import SchemaTooNewError
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.settings import ConfigurationError, Settings, load_settings

OK, FAIL = "ok  ", "FAIL"

_Report = Callable[[bool, str, str], None]


async def run_check(out: TextIO = sys.stdout) -> int:
    # The report below says everything; the clients' own retry warnings would only repeat it.
    logging.disable(logging.WARNING)
    try:
        return await _run_checks(out)
    finally:
        logging.disable(logging.NOTSET)


async def _run_checks(out: TextIO) -> int:
    def report(ok: bool, what: str, detail: str) -> None:
        print(f"[{OK if ok else FAIL}] {what}: {detail}", file=out)

    try:
        settings = load_settings()
    except ConfigurationError as error:
        report(False, "configuration", str(error))
        return 2
    models = ", ".join(m.name for m in [*settings.imagine_models, *settings.video_models])
    report(True, "configuration", f"valid (models: {models})")

    results = [
        await _check_database(settings, report),
        await _check_gateway(settings, report),
        await _check_discord(settings, report),
    ]
    ok = all(results)
    print("all checks passed" if ok else "some checks failed: fix the lines marked FAIL", file=out)
    return 0 if ok else 1


async def _check_database(settings: Settings, report: _Report) -> bool:
    if settings.database_kind == "postgresql":
        return await _check_postgres(settings, report)
    path = settings.database_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        async with SqliteTaskStore(path) as store:
            unfinished = await store.count_unfinished()
    except Exception as error:
        report(False, "database", f"cannot open {path}: {error}")
        return False
    report(True, "database", f"{path} ({unfinished} unfinished tasks)")
    return True


async def _check_postgres(settings: Settings, report: _Report) -> bool:
    """Connection and schema, without changing anything (the first start migrates)."""
    from bot.engine.store.postgres.connection import describe_url
    from bot.engine.store.postgres.migrations import LATEST_VERSION
    from bot.engine.store.postgres.transfer import inspect_database

    where = describe_url(settings.database_url)
    try:
        state = await inspect_database(settings.database_url)
    except SchemaTooNewError as error:
        report(False, "database", f"{where}: {error}")
        return False
    except Exception as error:
        report(False, "database", f"cannot reach {where}: {type(error).__name__}: {error}")
        return False
    if state.version < LATEST_VERSION:
        pending = f"schema version {state.version}: migrated to {LATEST_VERSION} at the first start"
        report(True, "database", f"{where} ({pending})")
    else:
        report(
            True,
            "database",
            f"{where} (schema version {state.version}, {state.unfinished} unfinished tasks, "
            f"{state.live_processes} bot processes running)",
        )
    return True


async def _check_gateway(settings: Settings, report: _Report) -> bool:
    where = settings.mindproxy_base_url
    async with build_client(settings) as client:
        try:
            await client.verify_access()
        except AuthenticationError:
            report(False, "MindProxy gateway", f"{where} refused TT_API_KEY: check the key in the console")
            return False
        except GatewayUnavailableError as error:
            report(False, "MindProxy gateway", f"{where} is unreachable ({error}): check MINDPROXY_BASE_URL")
            return False
        except TaskApiError as error:
            report(False, "MindProxy gateway", f"{where} answered unexpectedly: {error}")
            return False
    report(True, "MindProxy gateway", f"{where} accepted TT_API_KEY")
    return True


async def _check_discord(settings: Settings, report: _Report) -> bool:
    apply_discord_api_base(settings)
    client = discord.Client(intents=discord.Intents.none())
    try:
        async with client:
            await client.login(settings.discord_token.get_secret_value())
            user = client.user
            report(True, "Discord", f"logged in as {user} (application id {client.application_id})")
            return True
    except discord.LoginFailure:
        report(
            False, "Discord", "DISCORD_TOKEN was refused: copy the bot token again from the Developer Portal"
        )
    except (aiohttp.ClientError, OSError, discord.HTTPException) as error:
        report(False, "Discord", f"Discord is unreachable: {type(error).__name__}")
    return False

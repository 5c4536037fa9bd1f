"""`python -m bot [run|check|sync|health|simulate|migrate-store]`: parse the command line, load settings,
hand over."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.settings import ConfigurationError, load_settings


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description="MindProxy Discord bot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser("check", help="check the configuration, the MindProxy key and the Discord token")
    sync = commands.add_parser("sync", help="publish the slash commands to Discord")
    sync.add_argument(
        "--guild", type=int, metavar="ID", help="sync to one guild (instant) instead of globally"
    )
    commands.add_parser("health", help="exit 0 when the running bot is healthy (for Docker HEALTHCHECK)")
    simulate = commands.add_parser(
        "simulate", help="run a simulated MindProxy gateway on this machine (try the bot without a key)"
    )
    from bot.app.simulate import add_arguments

    add_arguments(simulate)
    migrate = commands.add_parser(
        "migrate-store", help="move a SQLite database into PostgreSQL (every task and every other table)"
    )
    migrate.add_argument("--from", dest="source", required=True, metavar="sqlite:///PATH")
    migrate.add_argument("--to", dest="target", required=True, metavar="postgresql://USER@HOST:PORT/DB")
    migrate.add_argument(
        "--into-non-empty",
        action="store_true",
        help="add to a database that already holds data (keys it has already are kept as they are)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = args.command or "run"
    if command == "check":
        from bot.app.check import run_check

        return asyncio.run(run_check())
    if command == "simulate":  # needs no settings: it stands in for the gateway
        from bot.app.simulate import run_simulator

        return asyncio.run(run_simulator(args))
    if command == "migrate-store":  # needs no settings: both databases are named on the command line
        from bot.app.migrate_store import run_migrate_store

        return asyncio.run(run_migrate_store(args.source, args.target, into_non_empty=args.into_non_empty))
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(f"configuration error: {error}", file=sys.stderr)  # noqa: T201
        return 2
    if command == "health":
        from bot.app.health import check_health

        return check_health(settings)
    if command == "sync":
        from bot.app.sync import run_sync

        return asyncio.run(run_sync(settings, guild_id=args.guild))
    from bot.app.runtime import configure_logging, run_bot

    configure_logging(settings)
    return asyncio.run(run_bot(settings))


if __name__ == "__main__":
    sys.exit(main())

"""The heartbeat file: written by the running bot, read by `python -m bot health` (Docker HEALTHCHECK).

Kept apart from the runtime so that `health`, which Docker runs every 30 s, imports neither discord.py
nor httpx nor aiosqlite.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.settings import Settings

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 15.0  # seconds; `python -m bot health` calls the bot unhealthy after 6 missed beats
HEARTBEAT_MAX_AGE = 90.0


def heartbeat_path(settings: Settings) -> Path:
    return settings.local_dir / "heartbeat"


async def beat(alive: Callable[[], bool], path: Path) -> None:
    """Write the time whenever `alive()` (connected to Discord, poller running), every interval."""
    while True:
        if alive():
            try:
                await asyncio.to_thread(path.write_text, datetime.now(UTC).isoformat(), encoding="utf-8")
            except OSError:
                log.warning("cannot write the heartbeat file %s", path, exc_info=True)
        await asyncio.sleep(HEARTBEAT_INTERVAL)

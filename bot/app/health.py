"""`python -m bot health`: is the running bot alive? (Docker HEALTHCHECK)"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from bot.app.heartbeat import HEARTBEAT_MAX_AGE, heartbeat_path
from bot.settings import Settings


def check_health(settings: Settings) -> int:
    path = heartbeat_path(settings)
    try:
        beat = datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        print(f"unhealthy: no heartbeat at {path}", file=sys.stderr)  # noqa: T201
        return 1
    age = (datetime.now(UTC) - beat).total_seconds()
    if age > HEARTBEAT_MAX_AGE:
        print(f"unhealthy: last heartbeat {age:.0f} s ago", file=sys.stderr)  # noqa: T201
        return 1
    print(f"healthy: last heartbeat {age:.0f} s ago")  # noqa: T201
    return 0

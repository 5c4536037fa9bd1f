"""The task engine: MindProxy task API client (`api/`), task store (`store/`) and poller (`polling/`).

Nothing in this package imports discord: another front end can reuse it as is. Its public names are
importable from here (`from bot.engine import TaskEngine, NewTask`), as openai-python's package root
exports its client and errors. They load lazily, on first use, so that importing a light module of
the engine (the task types, read by the settings) does not pull in httpx, aiosqlite or asyncpg:
`python -m bot health` runs every 30 s in Docker and imports none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.api.client import TaskApiClient
    from bot.engine.api.errors import (
        AuthenticationError,
        GatewayUnavailableError,
        MalformedResponseError,
        RateLimitedError,
        RequestRejectedError,
        TaskApiError,
        TaskNotFoundError,
    )
    from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus, TaskType
    from bot.engine.config import EngineConfig
    from bot.engine.notifier import TaskNotifier, TaskUpdate, UpdateKind
    from bot.engine.polling.cancellation import CancelOutcome, CancelResult
    from bot.engine.store.interface import (
        ActiveLimitError,
        DuplicateTaskError,
        NewTask,
        TaskRecord,
        TaskStore,
        UnknownTaskError,
    )
    from bot.engine.store.postgres.store import PostgresTaskStore
    from bot.engine.store.sqlite.store import SqliteTaskStore
    from bot.engine.task_engine import TaskEngine

_EXPORTS: dict[str, str] = {
    "TaskApiClient": "bot.engine.api.client",
    "AuthenticationError": "bot.engine.api.errors",
    "GatewayUnavailableError": "bot.engine.api.errors",
    "MalformedResponseError": "bot.engine.api.errors",
    "RateLimitedError": "bot.engine.api.errors",
    "RequestRejectedError": "bot.engine.api.errors",
    "TaskApiError": "bot.engine.api.errors",
    "TaskNotFoundError": "bot.engine.api.errors",
    "LocalOutcome": "bot.engine.api.models",
    "ResultAssets": "bot.engine.api.models",
    "TaskStatus": "bot.engine.api.models",
    "TaskType": "bot.engine.api.models",
    "EngineConfig": "bot.engine.config",
    "TaskNotifier": "bot.engine.notifier",
    "TaskUpdate": "bot.engine.notifier",
    "UpdateKind": "bot.engine.notifier",
    "CancelOutcome": "bot.engine.polling.cancellation",
    "CancelResult": "bot.engine.polling.cancellation",
    "ActiveLimitError": "bot.engine.store.interface",
    "DuplicateTaskError": "bot.engine.store.interface",
    "NewTask": "bot.engine.store.interface",
    "TaskRecord": "bot.engine.store.interface",
    "TaskStore": "bot.engine.store.interface",
    "UnknownTaskError": "bot.engine.store.interface",
    "PostgresTaskStore": "bot.engine.store.postgres.store",
    "SqliteTaskStore": "bot.engine.store.sqlite.store",
    "TaskEngine": "bot.engine.task_engine",
}

__all__ = [
    "ActiveLimitError",
    "AuthenticationError",
    "CancelOutcome",
    "CancelResult",
    "DuplicateTaskError",
    "EngineConfig",
    "GatewayUnavailableError",
    "LocalOutcome",
    "MalformedResponseError",
    "NewTask",
    "PostgresTaskStore",
    "RateLimitedError",
    "RequestRejectedError",
    "ResultAssets",
    "SqliteTaskStore",
    "TaskApiClient",
    "TaskApiError",
    "TaskEngine",
    "TaskNotFoundError",
    "TaskNotifier",
    "TaskRecord",
    "TaskStatus",
    "TaskStore",
    "TaskType",
    "TaskUpdate",
    "UnknownTaskError",
    "UpdateKind",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

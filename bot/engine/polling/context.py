"""What every step on a task row shares: the collaborators, the gateway slots and the common moves."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from bot.engine.api.client import TaskApiClient
from bot.engine.api.errors import TaskApiError
from bot.engine.api.models import LocalOutcome
from bot.engine.config import EngineConfig
from bot.engine.polling.progress import EventsReader
from bot.engine.polling.reporting import Reporter
from bot.engine.polling.scheduling import SchedulePolicy
from bot.engine.store.interface import TaskRecord, TaskStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

PERSISTENT_FAILURES = 3  # consecutive failures of one row after which they are logged as warnings


@dataclass
class StepContext:
    client: TaskApiClient
    store: TaskStore
    policy: SchedulePolicy
    config: EngineConfig
    clock: Callable[[], datetime]
    reporter: Reporter
    events: EventsReader = field(init=False)
    # Keys whose gateway cancel went out in this process (a second one is not sent).
    cancel_sent: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # One semaphore bounds the engine's concurrent gateway calls to `max_in_flight`.
        self._gateway_slots = asyncio.Semaphore(self.config.max_in_flight)
        self.events = EventsReader(self.client, self.gateway, self.config.progress_interval)

    async def gateway(self, call: Callable[[], Awaitable[T]]) -> T:
        async with self._gateway_slots:
            return await call()

    def age(self, record: TaskRecord) -> float:
        return (self.clock() - record.created_at).total_seconds()

    def report_if_owed(self, record: TaskRecord) -> None:
        if record.notify_due_at is not None:
            self.reporter.report_owed(record.key)

    def forget(self, key: str) -> None:
        self.events.forget(key)
        self.cancel_sent.discard(key)

    async def end(self, record: TaskRecord, outcome: LocalOutcome, code: str, message: str) -> TaskRecord:
        """End the task here (the gateway gave no terminal status we can use) and report it."""
        updated = await self.store.record_outcome(
            record.key, outcome=outcome, error_code=code, error_message=message, now=self.clock()
        )
        self.forget(record.key)
        self.report_if_owed(updated)
        return updated

    async def retry_later(
        self, call: str, record: TaskRecord, error: TaskApiError, *, bad_read: bool = False
    ) -> None:
        """A call failed in a way that may pass: try the row again after its backoff."""
        now = self.clock()
        self.log_failure(call, record, error)
        await self.store.record_failure(
            record.key,
            now=now,
            next_poll_at=self.policy.backoff_until(now, record.attempts + 1, error),
            bad_read=bad_read,
        )

    @staticmethod
    def log_failure(call: str, record: TaskRecord, error: TaskApiError) -> None:
        """Single transient failures are routine (DEBUG); permanent or repeated ones need a look."""
        attempt = record.attempts + 1
        persistent = not error.transient or attempt == PERSISTENT_FAILURES or attempt % 50 == 0
        level = logging.WARNING if persistent else logging.DEBUG
        logger.log(level, "task %s %s failed (attempt %d), retrying: %r", record.key, call, attempt, error)


def created_task_id(record: TaskRecord) -> str:
    """The gateway's id of a row the caller knows was created."""
    if record.task_id is None:
        raise RuntimeError(f"task {record.key} has no gateway task id yet")
    return record.task_id

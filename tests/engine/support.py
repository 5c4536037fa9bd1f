"""Helpers shared by the engine tests: a recording notifier, task factories, a counting transport."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from bot.engine.api.client import TaskApiClient
from bot.engine.api.models import LocalOutcome, TaskStatus, TaskType
from bot.engine.config import EngineConfig
from bot.engine.notifier import TaskUpdate, UpdateKind
from bot.engine.store.interface import NewTask, TaskRecord, TaskStore
from bot.engine.task_engine import TaskEngine
from bot.testing.fake_gateway.server import FakeGateway

_ids = itertools.count(1)

FAST = EngineConfig(
    poll_interval=0.05,
    max_in_flight=8,
    task_max_age=60.0,
    progress_interval=0.05,
    max_backoff=0.3,
    confirm_grace=30.0,
    notify_retry=0.05,
    batch_size=64,
    stop_timeout=3.0,
)


def config_with(**changes: Any) -> EngineConfig:
    """FAST with some fields changed."""
    fields = {name: getattr(FAST, name) for name in EngineConfig.__dataclass_fields__}
    return EngineConfig(**{**fields, **changes})


def new_task(
    key: str | None = None,
    *,
    prompt: str = "a red fox",
    model: str = "flux-1-dev",
    task_type: TaskType = TaskType.ASYNC_IMAGE,
    requester_id: int = 42,
) -> NewTask:
    return NewTask(
        key=key or f"task-{next(_ids)}",
        task_type=task_type,
        model=model,
        prompt=prompt,
        requester_id=requester_id,
        channel_id=1000,
        guild_id=2000,
    )


class RecordingNotifier:
    """The front end's side of the boundary: records every update; can be told to fail."""

    def __init__(self) -> None:
        self.updates: list[TaskUpdate] = []
        self.failures_left: dict[str, int] = {}  # key -> how many calls for it raise before one works
        self.failed_calls = 0
        self.overlapping_calls = 0  # calls made while another call for the same key was running
        self.delay = 0.0
        self.abandoned: list[str] = []  # keys the engine gave up reporting
        self._active: set[str] = set()
        self._changed = asyncio.Condition()

    async def task_updated(self, update: TaskUpdate) -> None:
        key = update.record.key
        if key in self._active:
            self.overlapping_calls += 1
        self._active.add(key)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.failures_left.get(key, 0) > 0:
                self.failures_left[key] -= 1
                self.failed_calls += 1
                raise ConnectionError("Discord is unavailable (injected)")
            self.updates.append(update)
        finally:
            self._active.discard(key)
        async with self._changed:
            self._changed.notify_all()

    def task_abandoned(self, key: str) -> None:
        self.abandoned.append(key)

    def for_key(self, key: str) -> list[TaskUpdate]:
        return [u for u in self.updates if u.record.key == key]

    def states(self, key: str) -> list[TaskStatus | LocalOutcome | None]:
        """Status (or local outcome) of each STATUS update for the key, in order."""
        return [
            u.record.local_outcome or u.record.status
            for u in self.for_key(key)
            if u.kind is UpdateKind.STATUS
        ]

    def finals(self, key: str) -> list[TaskRecord]:
        return [u.record for u in self.for_key(key) if u.is_final]

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_final(self, key: str, within: float = 5.0) -> TaskRecord:
        await self.wait_for(lambda: bool(self.finals(key)), within)
        return self.finals(key)[0]


class ConcurrencyCountingTransport(httpx.AsyncHTTPTransport):
    """A real HTTP transport that also counts how many requests are open at once."""

    def __init__(self) -> None:
        super().__init__()
        self.open_now = 0
        self.max_open = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.open_now += 1
        self.max_open = max(self.max_open, self.open_now)
        try:
            response = await super().handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.open_now -= 1


def make_client(gateway: FakeGateway, api_key: str | None = None, **overrides: Any) -> TaskApiClient:
    options: dict[str, Any] = {
        "timeout": 2.0,
        "max_attempts": 2,
        "max_retry_wait": 0.2,
        "backoff_base": 0.01,
    }
    options.update(overrides)
    return TaskApiClient(base_url=gateway.base_url, api_key=api_key or gateway.api_key, **options)


@asynccontextmanager
async def running_engine(
    client: TaskApiClient,
    store: TaskStore,
    *,
    config: EngineConfig = FAST,
    notifier: RecordingNotifier | None = None,
) -> Any:
    engine = TaskEngine(client, store, config=config, notifier=notifier)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


async def submit_and_confirm(engine: TaskEngine, task: NewTask) -> TaskRecord:
    record = await engine.submit(task)
    await engine.confirm(task.key, message_id=555)
    return record


async def wait_for_row(
    store: TaskStore, key: str, predicate: Callable[[TaskRecord], bool], within: float = 5.0
) -> TaskRecord:
    async with asyncio.timeout(within):
        while True:
            record = await store.get(key)
            if record is not None and predicate(record):
                return record
            await asyncio.sleep(0.01)

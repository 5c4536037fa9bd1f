"""The engine's vocabulary around one task: the client it needs, cancel results, progress text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from bot.engine.errors import TaskApiError
from bot.engine.models import CreatedTask, GatewayTask, LocalOutcome, TaskEvent, TaskStatus, TaskType
from bot.engine.store import TaskRecord


class GatewayClient(Protocol):
    """The part of `TaskApiClient` the engine uses (the real client satisfies it as is)."""

    async def create_task(
        self,
        *,
        task_type: TaskType,
        model: str,
        prompt: str,
        idempotency_key: str,
        input_assets: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> CreatedTask: ...

    async def get_task(self, task_id: str) -> GatewayTask: ...

    async def list_events(self, task_id: str, *, limit: int = 50, offset: int = 0) -> list[TaskEvent]: ...

    async def cancel_task(self, task_id: str, *, reason: str) -> None: ...


class CancelOutcome(Enum):
    CANCELLED = "cancelled"
    ALREADY_FINISHED = "already_finished"
    NOT_FOUND = "not_found"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CancelResult:
    outcome: CancelOutcome
    record: TaskRecord | None
    error: TaskApiError | None = None


def ended_by_cancel(record: TaskRecord) -> bool:
    return (
        record.status is TaskStatus.CANCELLED or record.local_outcome is LocalOutcome.CANCELLED_BEFORE_START
    )


# Event messages that only restate a lifecycle step: showing them as progress would add nothing.
_LIFECYCLE_WORDS = frozenset(
    [status.name.lower() for status in TaskStatus] + ["queued", "pending", "started", "running"]
)


def informative_progress(event: TaskEvent) -> str | None:
    """The event's message if it is worth showing as progress: from the processing phase (or without
    a status), not empty and not just a lifecycle word again ("task processing")."""
    if event.message is None or event.status not in (None, TaskStatus.PROCESSING):
        return None
    text = " ".join(event.message.split())
    words = text.lower().rstrip(".!").split()
    if not words or (words[-1] in _LIFECYCLE_WORDS and len(words) <= 2):
        return None
    return text[:500]


def describe_age(seconds: float) -> str:
    if seconds >= 120:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds)} seconds"

"""What a cancel from the front end can come to, and how to tell a task that ended by a cancel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.engine.api.errors import TaskApiError
from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.engine.store.interface import TaskRecord


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

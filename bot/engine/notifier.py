"""The interface a front end implements to hear about task changes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from bot.engine.store.interface import TaskRecord


class UpdateKind(Enum):
    STATUS = "status"  # the status (or local outcome) changed; includes the final one
    PROGRESS = "progress"  # same status, new progress text


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    record: TaskRecord
    kind: UpdateKind

    @property
    def is_final(self) -> bool:
        return self.record.is_finished


class TaskNotifier(Protocol):
    async def task_updated(self, update: TaskUpdate) -> None:
        """Show the change. Return once it is delivered; raise to have the engine try again later.

        A final update is reported until this returns normally, so an implementation raises only for
        failures that may pass (network, 5xx) and handles permanent ones itself (fallbacks).
        """

    def task_abandoned(self, key: str) -> None:
        """The engine gave up reporting this task's final state (it kept failing for a bounded time):
        drop whatever is kept in memory for it. Not called after a normal delivery."""

"""Reading a task's events: progress text for the front end, and polls that cost one request.

Events are read from the offset already seen, so each call returns only what is new, and at most once
per `progress_interval` per task. While a task is processing, such a read replaces that round's GET:
new events carry the status as well as the message, and only a terminal event needs the GET after it
(for the result), so progress costs no extra request on most rounds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.engine.api.client import TaskApiClient
from bot.engine.api.errors import TaskApiError
from bot.engine.api.models import TaskEvent, TaskStatus
from bot.engine.store.interface import TaskRecord

logger = logging.getLogger(__name__)

EVENTS_PAGE = 50


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


@dataclass(frozen=True, slots=True)
class EventsRead:
    """What one events call told about a task."""

    progress: str | None  # the latest informative message, else the progress known before
    events_seen: int  # the offset for the next call
    statuses: tuple[TaskStatus, ...] = ()  # statuses of the new events, oldest first
    failed: bool = False  # the call failed; nothing new is known

    @property
    def reached_terminal(self) -> bool:
        return any(status.is_terminal for status in self.statuses)

    @property
    def latest_status(self) -> TaskStatus | None:
        return self.statuses[-1] if self.statuses else None


class EventsReader:
    def __init__(
        self,
        client: TaskApiClient,
        gateway_call: Callable[[Callable[[], Awaitable[list[TaskEvent]]]], Awaitable[list[TaskEvent]]],
        progress_interval: float,
    ) -> None:
        self._client = client
        self._gateway_call = gateway_call
        self._progress_interval = progress_interval
        self._last_call: dict[str, float] = {}  # key -> time.monotonic() of its last events call

    def due(self, key: str) -> bool:
        last = self._last_call.get(key)
        return last is None or time.monotonic() - last >= self._progress_interval

    def processing_started(self, key: str) -> None:
        """A GET just saw the task start processing: its first events read is one interval away.

        Jobs shorter than `progress_interval` then never need an events read at all: progress text
        only matters for long ones, and an events round that finds the end costs a second request.
        """
        self._last_call.setdefault(key, time.monotonic())

    def forget(self, key: str) -> None:
        self._last_call.pop(key, None)

    async def read(self, record: TaskRecord) -> EventsRead:
        task_id = record.task_id
        if task_id is None:
            raise RuntimeError(f"task {record.key} has no gateway task id yet")
        self._last_call[record.key] = time.monotonic()
        try:
            events = await self._gateway_call(
                lambda: self._client.list_events(task_id, limit=EVENTS_PAGE, offset=record.events_seen)
            )
        except TaskApiError as error:  # progress is a nicety: a GET still tells the status
            logger.debug("task %s events call failed: %r", record.key, error)
            return EventsRead(record.progress, record.events_seen, failed=True)
        # A terminal event is never counted as seen: if this read races the task's end (a GET just
        # said "processing"), the next read must find it again, or the end would only show on a GET.
        ending = next(
            (i for i, event in enumerate(events) if event.status and event.status.is_terminal), None
        )
        consumed = events if ending is None else events[:ending]
        progress = record.progress
        for event in reversed(consumed):
            text = informative_progress(event)
            if text is not None:
                progress = text
                break
        statuses = tuple(event.status for event in events if event.status is not None)
        return EventsRead(progress, record.events_seen + len(consumed), statuses)

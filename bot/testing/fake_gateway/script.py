"""Scripted task lifecycles of the fake gateway, evaluated lazily against the clock.

A task's state is never advanced by a timer: every read computes which scripted steps are due, so a
fake holding 10,000 tasks costs nothing between requests.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.engine.api.models import TaskStatus, TaskType

EVENT_TYPES = {
    TaskStatus.CREATED: "created",
    TaskStatus.SUBMITTED: "submitted",
    TaskStatus.PROCESSING: "processing",
    TaskStatus.SUCCEEDED: "succeeded",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELLED: "cancelled",
    TaskStatus.EXPIRED: "expired",
    TaskStatus.REFUNDED: "refunded",
}


@dataclass(frozen=True, slots=True)
class Step:
    """At `at` seconds after creation the task moves to `status`, with an event carrying `message`."""

    at: float
    status: TaskStatus
    message: str
    event_type: str | None = None


@dataclass(frozen=True, slots=True)
class Script:
    """A lifecycle: steps after creation, plus what the task ends with.

    `assets=None` on a success means "default assets derived from the task id and type".
    `raw_result_assets_json` overrides the stringified assets verbatim (to send broken JSON).
    """

    steps: tuple[Step, ...] = ()
    assets: dict[str, Any] | None = None
    raw_result_assets_json: str | None = None
    error: tuple[str, str] | None = None

    @classmethod
    def ending(
        cls,
        status: TaskStatus,
        after: float,
        *,
        progress: tuple[str, ...] | list[str] = (),
        assets: dict[str, Any] | None = None,
        raw_result_assets_json: str | None = None,
        error: tuple[str, str] | None = None,
        message: str | None = None,
    ) -> Script:
        steps = [
            Step(after * 0.1, TaskStatus.SUBMITTED, "task queued"),
            Step(after * 0.2, TaskStatus.PROCESSING, "task processing"),
        ]
        for index, text in enumerate(progress, start=1):
            at = after * (0.2 + 0.75 * index / (len(progress) + 1))
            steps.append(Step(at, TaskStatus.PROCESSING, text, event_type="progress"))
        steps.append(Step(after, status, message or f"task {EVENT_TYPES[status]}"))
        return cls(tuple(steps), assets, raw_result_assets_json, error)

    @classmethod
    def success(
        cls,
        after: float = 1.0,
        assets: dict[str, Any] | None = None,
        progress: tuple[str, ...] | list[str] = (),
    ) -> Script:
        return cls.ending(TaskStatus.SUCCEEDED, after, progress=progress, assets=assets)

    @classmethod
    def failure(
        cls, after: float = 1.0, code: str = "generation_failed", message: str = "generation failed"
    ) -> Script:
        return cls.ending(TaskStatus.FAILED, after, error=(code, message), message=message)

    @classmethod
    def expires(cls, after: float = 1.0) -> Script:
        return cls.ending(TaskStatus.EXPIRED, after, error=("task_expired", "task expired (TTL reached)"))

    @classmethod
    def refunded(cls, after: float = 1.0) -> Script:
        return cls.ending(TaskStatus.REFUNDED, after, error=("refunded", "hold released, not charged"))

    @classmethod
    def cancelled_by_gateway(cls, after: float = 1.0) -> Script:
        return cls.ending(TaskStatus.CANCELLED, after, error=("cancelled", "cancelled by the platform"))

    @classmethod
    def invalid_result(
        cls, after: float = 1.0, raw: str = '{"image_url": "https://cdn.fake.test/x.png"'
    ) -> Script:
        return cls.ending(TaskStatus.SUCCEEDED, after, raw_result_assets_json=raw)

    @classmethod
    def never_finishes(cls) -> Script:
        return cls(
            (
                Step(0.0, TaskStatus.SUBMITTED, "task queued"),
                Step(0.0, TaskStatus.PROCESSING, "task processing"),
            )
        )


def default_assets(task_id: str, task_type: TaskType) -> dict[str, Any]:
    base = f"https://cdn.fake.test/{task_id}"
    if task_type is TaskType.VIDEO:
        return {"video_url": f"{base}.mp4", "thumbnail_url": f"{base}.jpg", "seed": 7}
    return {"image_url": f"{base}.png", "seed": 12345}


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class TimedEvent:
    at_monotonic: float
    status: TaskStatus
    event_type: str
    message: str


@dataclass(slots=True)
class FakeTask:
    """One task held by the fake: what it was created with, and its (lazily computed) lifecycle."""

    task_id: str
    task_type: TaskType
    public_model: str | None
    prompt: str
    idempotency_key: str | None
    input_assets: object
    metadata: object
    script: Script
    created_monotonic: float
    created_wall: datetime
    request_id: str
    hold_id: str
    cancel_reason: str | None = None
    #: Manual changes (cancel, set_status) stop the script at `script_cutoff` and append events.
    script_cutoff: float | None = None
    manual_events: list[TimedEvent] = field(default_factory=list)
    assets_override: dict[str, Any] | None = None
    raw_assets_override: str | None = None
    error_override: tuple[str, str] | None = None
    #: Raw fields forced into GET answers (e.g. an unknown status number), for malformed-answer tests.
    api_overrides: dict[str, Any] = field(default_factory=dict)

    def wall_time(self, at_monotonic: float) -> datetime:
        return self.created_wall + timedelta(seconds=at_monotonic - self.created_monotonic)

    def events(self, now: float | None = None) -> list[TimedEvent]:
        """Every event that has happened by `now`, oldest first, ending at the first terminal one."""
        now = time.monotonic() if now is None else now
        horizon = now if self.script_cutoff is None else min(now, self.script_cutoff)
        happened = [TimedEvent(self.created_monotonic, TaskStatus.CREATED, "created", "task created")]
        for step in self.script.steps:
            at = self.created_monotonic + step.at
            if at <= horizon:
                event_type = step.event_type or EVENT_TYPES[step.status]
                happened.append(TimedEvent(at, step.status, event_type, step.message))
        happened.extend(event for event in self.manual_events if event.at_monotonic <= now)
        for index, event in enumerate(happened):
            if event.status.is_terminal:
                return happened[: index + 1]
        return happened

    def status(self, now: float | None = None) -> TaskStatus:
        return self.events(now)[-1].status

    def completed_monotonic(self, now: float | None = None) -> float | None:
        """When the task reached a terminal status (time.monotonic, system-wide on Linux), or None."""
        last = self.events(now)[-1]
        return last.at_monotonic if last.status.is_terminal else None

    def move_to(
        self,
        status: TaskStatus,
        message: str,
        *,
        event_type: str | None = None,
        assets: dict[str, Any] | None = None,
        raw_result_assets_json: str | None = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        self.move_at(time.monotonic(), status, message, event_type=event_type)
        if assets is not None:
            self.assets_override = assets
        if raw_result_assets_json is not None:
            self.raw_assets_override = raw_result_assets_json
        if error is not None:
            self.error_override = error

    def move_at(self, at: float, status: TaskStatus, message: str, *, event_type: str | None = None) -> None:
        """Move the task at `at` (time.monotonic(), maybe in the future); its script stops then."""
        if self.script_cutoff is None:
            self.script_cutoff = at
        self.manual_events.append(TimedEvent(at, status, event_type or EVENT_TYPES[status], message))

    def result_assets_json(self, status: TaskStatus) -> str | None:
        if status is not TaskStatus.SUCCEEDED:
            return None
        raw = self.raw_assets_override or self.script.raw_result_assets_json
        if raw is not None:
            return raw
        assets = self.assets_override or self.script.assets or default_assets(self.task_id, self.task_type)
        return json.dumps(assets)

    def to_api(self, now: float | None = None) -> dict[str, Any]:
        events = self.events(now)
        status = events[-1].status
        error = None
        if status in (TaskStatus.FAILED, TaskStatus.EXPIRED, TaskStatus.REFUNDED, TaskStatus.CANCELLED):
            error = self.error_override or self.script.error
            if status is TaskStatus.CANCELLED and self.cancel_reason is not None and error is None:
                error = ("cancelled", self.cancel_reason)
        answer = {
            "task_id": self.task_id,
            "task_type": self.task_type.code,
            "status": int(status),
            "public_model": self.public_model,
            "result_assets_json": self.result_assets_json(status),
            "error_code": error[0] if error else None,
            "error_message": error[1] if error else None,
            "created_at": iso_z(self.created_wall),
            "completed_at": iso_z(self.wall_time(events[-1].at_monotonic)) if status.is_terminal else None,
        }
        return answer | self.api_overrides

    def events_to_api(self, now: float | None = None) -> list[dict[str, Any]]:
        return [
            {
                "task_event_id": f"event-{self.task_id[:8]}-{index}",
                "event_type": event.event_type,
                "status": int(event.status),
                "message": event.message,
                "created_at": iso_z(self.wall_time(event.at_monotonic)),
            }
            for index, event in enumerate(self.events(now))
        ]

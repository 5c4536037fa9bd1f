"""Typed values of the MindProxy task API, shared by the client, the store and the poller."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, IntEnum
from typing import Any


class TaskStatus(IntEnum):
    """The gateway's numeric task status.

    A positive number the bot does not know (the gateway may add states) is still a `TaskStatus`: a
    pseudo-member named `STATUS_<n>`, never terminal, so the task is polled on until it ends or times
    out instead of being taken for finished.
    """

    CREATED = 1
    SUBMITTED = 2
    PROCESSING = 3
    SUCCEEDED = 4
    FAILED = 5
    CANCELLED = 6
    EXPIRED = 7
    REFUNDED = 8

    @classmethod
    def _missing_(cls, value: object) -> TaskStatus | None:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
            member = int.__new__(cls, value)
            member._name_ = f"STATUS_{value}"
            member._value_ = value
            return member
        return None

    @property
    def is_known(self) -> bool:
        return self.name in type(self).__members__

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def said_not_charged(self) -> bool:
        """The gateway's own word that nothing is charged: failed, cancelled, expired, refunded."""
        return self in _TERMINAL and self is not TaskStatus.SUCCEEDED


_TERMINAL = frozenset(
    {
        TaskStatus.SUCCEEDED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.EXPIRED,
        TaskStatus.REFUNDED,
    }
)


class TaskType(Enum):
    """A task type: sent by name on create, read back as a number."""

    MIDJOURNEY = "midjourney"
    VIDEO = "video"
    ASYNC_IMAGE = "async_image"

    @property
    def api_name(self) -> str:
        return self.value

    @property
    def code(self) -> int:
        return _TYPE_CODES[self]

    @classmethod
    def parse(cls, raw: object) -> TaskType:
        """Accept the create-side name or the read-side number; ValueError otherwise."""
        if isinstance(raw, bool):
            raise ValueError(f"not a task type: {raw!r}")  # noqa: TRY004 - callers catch ValueError
        if isinstance(raw, int):
            for member, code in _TYPE_CODES.items():
                if code == raw:
                    return member
            raise ValueError(f"unknown task type number: {raw}")
        if isinstance(raw, str):
            return cls(raw.strip().lower())
        raise ValueError(f"not a task type: {raw!r}")


_TYPE_CODES: dict[TaskType, int] = {
    TaskType.MIDJOURNEY: 1,
    TaskType.VIDEO: 2,
    TaskType.ASYNC_IMAGE: 3,
}


class LocalOutcome(Enum):
    """How a task ended when the gateway never gave it a terminal status."""

    # Still unfinished after TASK_MAX_AGE; a cancel was sent, but neither it nor a result was confirmed.
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"  # the gateway refused the create with a 4xx: no task exists, nothing charged
    # Every create attempt failed before it left this machine (connection refused, DNS): no task exists.
    UNREACHABLE = "unreachable"
    # A create may have reached the gateway (time-out, reset, 5xx) but none was ever confirmed: unknown.
    UNCONFIRMED = "unconfirmed"
    LOST = "lost"  # the gateway accepted the task, then kept answering 404 for it
    CANCELLED_BEFORE_START = "cancelled_before_start"  # cancelled before any create could reach the gateway


@dataclass(frozen=True, slots=True)
class ResultAssets:
    """The parsed `result_assets_json`; keys we do not know are kept in `extra`."""

    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    seed: int | str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    KNOWN_KEYS = ("image_url", "video_url", "thumbnail_url", "seed")

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> ResultAssets:
        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        seed = data.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int | str):
            seed = None
        extra = {k: v for k, v in data.items() if k not in cls.KNOWN_KEYS}
        return cls(
            image_url=text("image_url"),
            video_url=text("video_url"),
            thumbnail_url=text("thumbnail_url"),
            seed=seed,
            extra=extra,
        )

    def to_mapping(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        for key in self.KNOWN_KEYS:
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_mapping(), separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class CreatedTask:
    """The 202 answer to a create."""

    task_id: str
    status: TaskStatus
    request_id: str | None = None
    hold_id: str | None = None


@dataclass(frozen=True, slots=True)
class GatewayTask:
    """A task as read back with GET /v1/tasks/{task_id}."""

    task_id: str
    status: TaskStatus
    task_type: TaskType | None = None
    public_model: str | None = None
    result: ResultAssets | None = None
    # Why a success's result_assets_json could not be used (broken JSON, not an object, no URL); the
    # http(s) URLs found in it anyway are in `result.extra["found_urls"]`.
    result_problem: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One entry of GET /v1/tasks/{task_id}/events."""

    task_event_id: str
    event_type: str
    status: TaskStatus | None
    message: str | None
    created_at: datetime | None

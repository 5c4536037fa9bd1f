"""Typed values of the MindProxy task API, shared by the client, the store and the poller."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, IntEnum
from typing import Any


class TaskStatus(IntEnum):
    """The gateway's numeric task status."""

    CREATED = 1
    SUBMITTED = 2
    PROCESSING = 3
    SUCCEEDED = 4
    FAILED = 5
    CANCELLED = 6
    EXPIRED = 7
    REFUNDED = 8

    @property
    def is_terminal(self) -> bool:
        return self >= TaskStatus.SUCCEEDED


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

    TIMED_OUT = "timed_out"  # still unfinished after TASK_MAX_AGE; cancelled at the gateway
    REJECTED = "rejected"  # the gateway refused the create (bad model, type not enabled, bad key)
    UNREACHABLE = "unreachable"  # the create could not be delivered before we gave up
    CANCELLED_BEFORE_START = "cancelled_before_start"  # cancelled before the create was sent


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

"""Shared builders for the TaskStore tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.engine.api.models import TaskStatus, TaskType
from bot.engine.store.interface import NewTask, TaskRecord, TaskStore

T0 = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def new_task(key: str = "k1", **overrides: object) -> NewTask:
    fields: dict[str, object] = {
        "key": key,
        "task_type": TaskType.MIDJOURNEY,
        "model": "mj-v7",
        "prompt": "a lighthouse at dusk",
        "requester_id": 1001,
        "channel_id": 2002,
    }
    fields.update(overrides)
    return NewTask(**fields)  # type: ignore[arg-type]


async def created(store: TaskStore, key: str, *, status: TaskStatus = TaskStatus.SUBMITTED) -> TaskRecord:
    """A confirmed row the gateway accepted, with its creation report acknowledged."""
    await store.insert(new_task(key), now=T0, next_poll_at=None)
    await store.confirm(key, message_id=None, now=T0)
    await store.record_created(key, task_id=f"task-{key}", status=status, now=T0, next_poll_at=at(5))
    await store.mark_notified(key, status=status, outcome=None, progress=None)
    record = await store.get(key)
    assert record is not None
    assert record.notify_due_at is None
    return record


async def poll(store: TaskStore, key: str, status: TaskStatus, **overrides: object) -> TaskRecord:
    fields: dict[str, object] = {
        "status": status,
        "result": None,
        "error_code": None,
        "error_message": None,
        "progress": None,
        "events_seen": 0,
        "now": at(10),
        "next_poll_at": None if status.is_terminal else at(20),
        "completed_at": at(10) if status.is_terminal else None,
    }
    fields.update(overrides)
    return await store.record_poll(key, **fields)  # type: ignore[arg-type]

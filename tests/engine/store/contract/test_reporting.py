"""TaskStore: exactly-once reporting (mark_notified compare-and-clear)."""

from __future__ import annotations

import asyncio

from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.engine.store.interface import TaskStore
from tests.engine.store.contract.support import at, created, poll

# -- exactly-once reporting -----------------------------------------------------------------------


async def test_mark_notified_clears_only_when_the_row_did_not_move_on(store: TaskStore) -> None:
    await created(store, "k1", status=TaskStatus.SUBMITTED)
    await poll(store, "k1", TaskStatus.PROCESSING, progress="10%", now=at(10))
    # The notifier reads the row and starts reporting PROCESSING/10% ...
    [snapshot] = await store.due_for_notify(now=at(10), limit=5, exclude=set())
    # ... while a poll lands with the final status.
    await poll(store, "k1", TaskStatus.SUCCEEDED, progress="10%", now=at(11))
    await store.mark_notified(
        "k1", status=snapshot.status, outcome=snapshot.local_outcome, progress=snapshot.progress
    )

    record = await store.get("k1")
    assert record is not None
    assert record.notified_status is TaskStatus.PROCESSING
    assert record.notified_progress == "10%"
    assert record.notify_due_at == at(10)  # still owed: SUCCEEDED was never reported
    [owed] = await store.due_for_notify(now=at(12), limit=5, exclude=set())
    assert owed.status is TaskStatus.SUCCEEDED

    await store.mark_notified("k1", status=owed.status, outcome=owed.local_outcome, progress=owed.progress)
    record = await store.get("k1")
    assert record is not None
    assert record.notify_due_at is None
    assert record.notified_status is TaskStatus.SUCCEEDED
    assert await store.due_for_notify(now=at(100), limit=5, exclude=set()) == []


async def test_mark_notified_compares_progress_and_outcome(store: TaskStore) -> None:
    await created(store, "k1")
    await poll(store, "k1", TaskStatus.PROCESSING, progress="10%")
    await poll(store, "k1", TaskStatus.PROCESSING, progress="20%")
    await store.mark_notified("k1", status=TaskStatus.PROCESSING, outcome=None, progress="10%")
    record = await store.get("k1")
    assert record is not None
    assert record.notify_due_at is not None

    await store.record_outcome(
        "k1", outcome=LocalOutcome.TIMED_OUT, error_code=None, error_message=None, now=at(50)
    )
    await store.mark_notified("k1", status=TaskStatus.PROCESSING, outcome=None, progress="20%")
    record = await store.get("k1")
    assert record is not None
    assert record.notify_due_at is not None  # the outcome has not been reported
    await store.mark_notified(
        "k1", status=TaskStatus.PROCESSING, outcome=LocalOutcome.TIMED_OUT, progress="20%"
    )
    record = await store.get("k1")
    assert record is not None
    assert record.notify_due_at is None
    assert record.notified_outcome is LocalOutcome.TIMED_OUT
    await store.mark_notified("unknown", status=None, outcome=None, progress=None)  # ignored


async def test_concurrent_polls_and_reports_leave_no_change_unreported(store: TaskStore) -> None:
    """Pollers and a notifier race on many rows; afterwards nothing owed was lost or left dangling."""
    keys = [f"k{index}" for index in range(20)]
    for key in keys:
        await created(store, key)
    reported: dict[str, list[tuple[TaskStatus | None, str | None]]] = {key: [] for key in keys}
    steps = [(TaskStatus.PROCESSING, f"{pct}%") for pct in range(0, 100, 10)] + [
        (TaskStatus.SUCCEEDED, "100%")
    ]

    async def poller(key: str) -> None:
        for number, (status, progress) in enumerate(steps):
            await poll(store, key, status, progress=progress, now=at(10 + number))
            await asyncio.sleep(0)

    async def notifier(stop: asyncio.Event) -> None:
        while True:
            stopping = stop.is_set()
            for record in await store.due_for_notify(now=at(1000), limit=50, exclude=set()):
                reported[record.key].append((record.status, record.progress))
                await asyncio.sleep(0)  # the report takes a while; polls land meanwhile
                await store.mark_notified(
                    record.key, status=record.status, outcome=record.local_outcome, progress=record.progress
                )
            if stopping:
                return
            await asyncio.sleep(0)

    stop = asyncio.Event()
    notifying = asyncio.create_task(notifier(stop))
    await asyncio.gather(*(poller(key) for key in keys))
    stop.set()
    await notifying
    for key in keys:
        record = await store.get(key)
        assert record is not None
        assert record.notify_due_at is None
        assert (record.notified_status, record.notified_progress) == (TaskStatus.SUCCEEDED, "100%")
        assert reported[key][-1] == (TaskStatus.SUCCEEDED, "100%")
        assert reported[key].count((TaskStatus.SUCCEEDED, "100%")) == 1


async def test_defer_notify(store: TaskStore) -> None:
    await created(store, "k1")
    await poll(store, "k1", TaskStatus.PROCESSING, now=at(10))
    await store.defer_notify("k1", notify_due_at=at(70))
    assert await store.due_for_notify(now=at(69), limit=5, exclude=set()) == []
    assert [r.key for r in await store.due_for_notify(now=at(70), limit=5, exclude=set())] == ["k1"]
    await store.defer_notify("unknown", notify_due_at=at(1))  # ignored

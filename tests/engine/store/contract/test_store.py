"""TaskStore methods, against real SQLite files in tmp_path."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus, TaskType
from bot.engine.store.interface import ActiveLimitError, DuplicateTaskError, TaskStore, UnknownTaskError
from tests.engine.store.contract.support import T0, at, created, new_task, poll

# -- insert and get -------------------------------------------------------------------------------


async def test_insert_sets_initial_state_and_round_trips_every_field(store: TaskStore) -> None:
    expires = datetime(2026, 11, 29, 14, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2)))
    task = new_task(
        "interaction-1",
        task_type=TaskType.VIDEO,
        guild_id=3003,
        input_assets={"image_url": "https://x.test/a.png", "nested": {"list": [1, 2.5, None, "é"]}},
        metadata={"locale": "de", "flags": [True, False]},
        message_id=4004,
        reply_token="tok-abc",
        reply_token_expires_at=expires,
    )
    inserted = await store.insert(task, now=T0, next_poll_at=at(3))
    fetched = await store.get("interaction-1")
    assert fetched == inserted
    assert inserted.task_type is TaskType.VIDEO
    assert (inserted.guild_id, inserted.message_id, inserted.reply_token) == (3003, 4004, "tok-abc")
    assert inserted.input_assets == task.input_assets
    assert inserted.metadata == task.metadata
    # Aware datetimes come back as the same instant, in UTC, to the microsecond.
    assert inserted.reply_token_expires_at == expires
    assert inserted.reply_token_expires_at is not None
    assert inserted.reply_token_expires_at.tzinfo is UTC
    assert inserted.reply_token_expires_at.hour == 12
    assert inserted.created_at == inserted.updated_at == T0
    assert inserted.created_at.tzinfo is UTC
    assert inserted.next_poll_at == at(3)
    # Initial state
    assert inserted.status is None
    assert inserted.task_id is None
    assert inserted.confirmed is False
    assert inserted.cancel_requested is False
    assert inserted.attempts == 0
    assert inserted.events_seen == 0
    assert inserted.notify_due_at is None
    assert inserted.local_outcome is None
    assert inserted.result is None
    assert inserted.completed_at is None
    assert inserted.extra == {}
    assert await store.get("unknown") is None


async def test_insert_duplicate_key_raises(store: TaskStore) -> None:
    await store.insert(new_task(prompt="first"), now=T0, next_poll_at=None)
    with pytest.raises(DuplicateTaskError):
        await store.insert(new_task(prompt="second"), now=at(1), next_poll_at=None)
    record = await store.get("k1")
    assert record is not None
    assert record.prompt == "first"
    # The failed insert rolled back cleanly: the connection takes new transactions.
    await store.insert(new_task("k2"), now=T0, next_poll_at=None)


async def test_naive_datetime_is_refused(store: TaskStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        await store.insert(new_task(), now=datetime(2026, 1, 1), next_poll_at=None)  # noqa: DTZ001
    assert await store.get("k1") is None


# -- confirm, delete, set_message -----------------------------------------------------------------


async def test_confirm_makes_uncreated_row_due_now(store: TaskStore) -> None:
    await store.insert(new_task(message_id=5), now=T0, next_poll_at=None)
    confirmed = await store.confirm("k1", message_id=None, now=at(2))
    assert confirmed is not None
    assert confirmed.confirmed is True
    assert confirmed.message_id == 5  # None keeps the known id
    assert confirmed.next_poll_at == at(2)
    assert confirmed.updated_at == at(2)
    again = await store.confirm("k1", message_id=6, now=at(3))
    assert again is not None
    assert again.message_id == 6
    assert await store.confirm("unknown", message_id=1, now=T0) is None


async def test_confirm_keeps_schedule_of_created_row(store: TaskStore) -> None:
    await store.insert(new_task(), now=T0, next_poll_at=None)
    await store.record_created("k1", task_id="t", status=TaskStatus.SUBMITTED, now=T0, next_poll_at=at(30))
    confirmed = await store.confirm("k1", message_id=9, now=at(1))
    assert confirmed is not None
    assert confirmed.next_poll_at == at(30)
    assert confirmed.message_id == 9


async def test_delete_unconfirmed_only_deletes_unshown_uncreated_rows(store: TaskStore) -> None:
    await store.insert(new_task("plain"), now=T0, next_poll_at=None)
    await store.insert(new_task("shown"), now=T0, next_poll_at=None)
    await store.confirm("shown", message_id=1, now=T0)
    await store.insert(new_task("sent"), now=T0, next_poll_at=None)
    await store.record_created("sent", task_id="t", status=TaskStatus.CREATED, now=T0, next_poll_at=at(1))

    assert await store.delete_unconfirmed("plain") is True
    assert await store.get("plain") is None
    assert await store.delete_unconfirmed("plain") is False
    assert await store.delete_unconfirmed("shown") is False
    assert await store.delete_unconfirmed("sent") is False
    assert await store.delete_unconfirmed("unknown") is False
    assert await store.get("shown") is not None
    assert await store.get("sent") is not None


async def test_set_message_and_clear_reply_token(store: TaskStore) -> None:
    await store.insert(
        new_task(message_id=1, reply_token="tok", reply_token_expires_at=at(900)), now=T0, next_poll_at=None
    )
    await store.set_message("k1", message_id=2, clear_reply_token=False)
    record = await store.get("k1")
    assert record is not None
    assert (record.message_id, record.reply_token, record.reply_token_expires_at) == (2, "tok", at(900))
    await store.set_message("k1", message_id=None, clear_reply_token=True)
    record = await store.get("k1")
    assert record is not None
    assert (record.message_id, record.reply_token, record.reply_token_expires_at) == (2, None, None)
    await store.set_message("unknown", message_id=3, clear_reply_token=True)  # ignored


# -- due lists and wakeup -------------------------------------------------------------------------


async def test_due_for_poll_filters_orders_limits_and_excludes(store: TaskStore) -> None:
    for index, due_in in enumerate([5, 1, 3, 2, 4, 100]):
        await store.insert(new_task(f"k{index}"), now=T0, next_poll_at=at(due_in))
    await store.insert(new_task("never"), now=T0, next_poll_at=None)
    # Finished rows are never due, whatever their next_poll_at says.
    await store.insert(new_task("done"), now=T0, next_poll_at=at(0))
    await store.record_created("done", task_id="t", status=TaskStatus.SUCCEEDED, now=T0, next_poll_at=at(0))
    await store.insert(new_task("outcome"), now=T0, next_poll_at=at(0))
    await store.record_outcome(
        "outcome", outcome=LocalOutcome.REJECTED, error_code=None, error_message=None, now=T0
    )

    due = await store.due_for_poll(now=at(10), limit=10, exclude=set())
    assert [r.key for r in due] == ["k1", "k3", "k2", "k4", "k0"]
    assert [r.key for r in await store.due_for_poll(now=at(10), limit=2, exclude=set())] == ["k1", "k3"]
    excluded = await store.due_for_poll(now=at(10), limit=2, exclude={"k1", "k3", "k99"})
    assert [r.key for r in excluded] == ["k2", "k4"]
    assert [r.key for r in await store.due_for_poll(now=at(2), limit=10, exclude=set())] == ["k1", "k3"]
    assert await store.due_for_poll(now=at(10), limit=0, exclude=set()) == []


async def test_due_for_poll_with_large_exclude_still_fills_the_limit(store: TaskStore) -> None:
    for index in range(300):
        await store.insert(new_task(f"k{index:03d}"), now=T0, next_poll_at=at(index))
    exclude = {f"k{index:03d}" for index in range(0, 290)}
    due = await store.due_for_poll(now=at(1000), limit=5, exclude=exclude)
    assert [r.key for r in due] == ["k290", "k291", "k292", "k293", "k294"]


async def test_due_for_notify_and_next_wakeup(store: TaskStore) -> None:
    assert await store.next_wakeup() is None
    await store.insert(new_task("a"), now=T0, next_poll_at=at(50))
    assert await store.next_wakeup() == at(50)
    await created(store, "b")  # next_poll_at = at(5), nothing owed
    assert await store.next_wakeup() == at(5)
    await store.defer_notify("a", notify_due_at=at(3))
    assert await store.next_wakeup() == at(3)
    await store.defer_notify("b", notify_due_at=at(8))

    assert [r.key for r in await store.due_for_notify(now=at(10), limit=10, exclude=set())] == ["a", "b"]
    assert [r.key for r in await store.due_for_notify(now=at(5), limit=10, exclude=set())] == ["a"]
    assert [r.key for r in await store.due_for_notify(now=at(10), limit=10, exclude={"a"})] == ["b"]
    assert [r.key for r in await store.due_for_notify(now=at(10), limit=1, exclude=set())] == ["a"]

    # A finished row's poll time no longer counts; its owed report does.
    await store.record_outcome(
        "a", outcome=LocalOutcome.TIMED_OUT, error_code=None, error_message=None, now=at(1)
    )
    await store.mark_notified("a", status=None, outcome=LocalOutcome.TIMED_OUT, progress=None)
    await store.mark_notified("b", status=TaskStatus.SUBMITTED, outcome=None, progress=None)
    assert await store.next_wakeup() == at(5)
    await poll(store, "b", TaskStatus.SUCCEEDED, now=at(9))
    assert await store.next_wakeup() == at(9)  # only the owed final report remains
    await store.mark_notified("b", status=TaskStatus.SUCCEEDED, outcome=None, progress=None)
    assert await store.next_wakeup() is None


# -- what the gateway said ------------------------------------------------------------------------


async def test_record_created_owes_a_report_only_for_a_new_status(store: TaskStore) -> None:
    await store.insert(new_task(), now=T0, next_poll_at=at(0))
    await store.record_failure("k1", now=at(1), next_poll_at=at(2))
    record = await store.record_created(
        "k1", task_id="t-9", status=TaskStatus.CREATED, now=at(3), next_poll_at=at(8)
    )
    assert (record.task_id, record.status, record.attempts) == ("t-9", TaskStatus.CREATED, 0)
    assert record.next_poll_at == at(8)
    assert record.notify_due_at == at(3)
    assert record.updated_at == at(3)
    # Already reported as CREATED: the same status again owes nothing.
    await store.mark_notified("k1", status=TaskStatus.CREATED, outcome=None, progress=None)
    again = await store.record_created(
        "k1", task_id="t-9", status=TaskStatus.CREATED, now=at(4), next_poll_at=at(9)
    )
    assert again.notify_due_at is None
    with pytest.raises(UnknownTaskError):
        await store.record_created("nope", task_id="t", status=TaskStatus.CREATED, now=T0, next_poll_at=T0)


async def test_record_poll_stores_fields_and_owes_reports_on_change(store: TaskStore) -> None:
    await created(store, "k1", status=TaskStatus.SUBMITTED)
    await store.record_failure("k1", now=at(6), next_poll_at=at(9))

    same = await poll(store, "k1", TaskStatus.SUBMITTED, now=at(9), events_seen=2)
    assert same.notify_due_at is None  # nothing new to say
    assert same.attempts == 0
    assert same.events_seen == 2
    assert same.next_poll_at == at(20)

    progressed = await poll(store, "k1", TaskStatus.SUBMITTED, progress="42%", now=at(11))
    assert progressed.notify_due_at == at(11)
    # Still owed from at(11): a later change keeps the earlier due time.
    moved = await poll(store, "k1", TaskStatus.PROCESSING, progress="50%", now=at(12))
    assert moved.notify_due_at == at(11)
    assert moved.status is TaskStatus.PROCESSING

    result = ResultAssets(
        image_url="https://cdn.test/i.png", seed=7, extra={"grid": [1, 2, 3, 4], "meta": {"w": 1024}}
    )
    final = await poll(
        store,
        "k1",
        TaskStatus.FAILED,
        result=result,
        error_code="upstream_error",
        error_message="boom",
        progress="50%",
        events_seen=5,
        now=at(13),
    )
    assert final.is_finished
    assert final.next_poll_at is None
    assert final.completed_at == at(10)
    assert (final.error_code, final.error_message) == ("upstream_error", "boom")
    assert final.result == result
    assert final.result is not None
    assert final.result.extra == {"grid": [1, 2, 3, 4], "meta": {"w": 1024}}
    assert await store.get("k1") == final
    with pytest.raises(UnknownTaskError):
        await poll(store, "nope", TaskStatus.PROCESSING)


async def test_record_poll_on_a_deferred_report_brings_it_forward(store: TaskStore) -> None:
    await created(store, "k1")
    await poll(store, "k1", TaskStatus.PROCESSING, now=at(10))
    await store.defer_notify("k1", notify_due_at=at(60))
    record = await poll(store, "k1", TaskStatus.SUCCEEDED, now=at(15))
    assert record.notify_due_at == at(15)


async def test_record_outcome_ends_the_task_and_owes_a_report(store: TaskStore) -> None:
    await created(store, "k1")
    record = await store.record_outcome(
        "k1", outcome=LocalOutcome.TIMED_OUT, error_code="timeout", error_message="too slow", now=at(40)
    )
    assert record.local_outcome is LocalOutcome.TIMED_OUT
    assert record.is_finished
    assert (record.error_code, record.error_message) == ("timeout", "too slow")
    assert record.next_poll_at is None
    assert record.completed_at == at(40)
    assert record.notify_due_at == at(40)
    assert await store.count_unfinished() == 0
    with pytest.raises(UnknownTaskError):
        await store.record_outcome(
            "nope", outcome=LocalOutcome.REJECTED, error_code=None, error_message=None, now=T0
        )


async def test_record_failure_counts_and_reschedules(store: TaskStore) -> None:
    await store.insert(new_task(), now=T0, next_poll_at=at(0))
    first = await store.record_failure("k1", now=at(1), next_poll_at=at(3))
    second = await store.record_failure("k1", now=at(3), next_poll_at=at(7))
    assert (first.attempts, second.attempts) == (1, 2)
    assert second.next_poll_at == at(7)
    assert second.updated_at == at(3)
    with pytest.raises(UnknownTaskError):
        await store.record_failure("nope", now=T0, next_poll_at=T0)


async def test_request_cancel(store: TaskStore) -> None:
    await created(store, "live")
    record = await store.request_cancel("live", now=at(2))
    assert record is not None
    assert record.cancel_requested is True
    assert record.next_poll_at == at(2)

    await created(store, "done")
    await poll(store, "done", TaskStatus.SUCCEEDED)
    finished = await store.request_cancel("done", now=at(30))
    assert finished is not None
    assert finished.cancel_requested is False
    assert finished.next_poll_at is None
    assert await store.request_cancel("unknown", now=T0) is None


# -- front-end queries ----------------------------------------------------------------------------


async def test_active_for_requester_and_count_unfinished(store: TaskStore) -> None:
    await store.insert(new_task("old", requester_id=1), now=at(1), next_poll_at=None)
    await store.insert(new_task("new", requester_id=1), now=at(3), next_poll_at=None)
    await store.insert(new_task("mid", requester_id=1), now=at(2), next_poll_at=None)
    await store.insert(new_task("other", requester_id=2), now=at(4), next_poll_at=None)
    await store.insert(new_task("ended", requester_id=1), now=at(5), next_poll_at=None)
    await store.record_outcome(
        "ended", outcome=LocalOutcome.UNREACHABLE, error_code=None, error_message=None, now=at(6)
    )
    await store.insert(new_task("succeeded", requester_id=1), now=at(7), next_poll_at=None)
    await store.record_created(
        "succeeded", task_id="t", status=TaskStatus.SUCCEEDED, now=at(7), next_poll_at=at(8)
    )

    assert [r.key for r in await store.active_for_requester(1)] == ["new", "mid", "old"]
    assert [r.key for r in await store.active_for_requester(2)] == ["other"]
    assert await store.active_for_requester(3) == []
    assert await store.count_unfinished() == 4


# -- the per-requester limit ----------------------------------------------------------------------


async def test_insert_refuses_past_the_requesters_unfinished_limit(store: TaskStore) -> None:
    for key in ("a1", "a2"):
        await store.insert(
            new_task(key, requester_id=1), now=T0, next_poll_at=at(1), max_unfinished_for_requester=2
        )
    with pytest.raises(ActiveLimitError):
        await store.insert(
            new_task("a3", requester_id=1), now=T0, next_poll_at=at(1), max_unfinished_for_requester=2
        )
    assert await store.get("a3") is None
    # Another requester is not affected, and a finished task frees a place.
    await store.insert(
        new_task("b1", requester_id=2), now=T0, next_poll_at=at(1), max_unfinished_for_requester=2
    )
    await store.record_outcome(
        "a1", outcome=LocalOutcome.REJECTED, error_code="x", error_message="no", now=at(1)
    )
    await store.insert(
        new_task("a3", requester_id=1), now=T0, next_poll_at=at(1), max_unfinished_for_requester=2
    )
    # Without a limit, nothing is counted.
    await store.insert(new_task("a4", requester_id=1), now=T0, next_poll_at=at(1))


async def test_concurrent_inserts_cannot_exceed_the_limit(store: TaskStore) -> None:
    async def attempt(key: str) -> bool:
        try:
            await store.insert(
                new_task(key, requester_id=7), now=T0, next_poll_at=at(1), max_unfinished_for_requester=3
            )
        except ActiveLimitError:
            return False
        return True

    results = await asyncio.gather(*(attempt(f"c{n}") for n in range(10)))
    assert sum(results) == 3
    assert len(await store.active_for_requester(7)) == 3

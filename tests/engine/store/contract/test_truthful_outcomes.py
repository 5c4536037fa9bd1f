"""What the store keeps so every outcome can be told truthfully (issue 8): notes while a create is
retried, bad reads, when processing started, unknown statuses, token clean-up and pruning."""

from __future__ import annotations

from datetime import timedelta

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus
from bot.engine.store.interface import TaskStore
from tests.engine.store.contract.support import T0, at, created, new_task, poll

NOTE = "Still trying to reach the generation service…"


async def test_a_failed_create_records_a_note_once_and_whether_it_may_exist(store: TaskStore):
    await store.insert(new_task("k"), now=T0, next_poll_at=T0)
    first = await store.record_failure("k", now=at(1), next_poll_at=at(5), note=NOTE, maybe_created=True)
    assert (first.progress, first.maybe_created, first.attempts) == (NOTE, True, 1)
    assert first.notify_due_at == at(1)  # the note is shown once
    await store.mark_notified("k", status=None, outcome=None, progress=NOTE)
    again = await store.record_failure("k", now=at(6), next_poll_at=at(9), note=NOTE)
    assert again.notify_due_at is None  # the same note: nothing new to show
    assert again.maybe_created is True  # never cleared by a later attempt that did not leave

    # The create finally answers: the note goes, and the message must be updated to drop it.
    done = await store.record_created(
        "k", task_id="t", status=TaskStatus.SUBMITTED, now=at(10), next_poll_at=at(13)
    )
    assert done.progress is None
    assert done.notify_due_at == at(10)


async def test_a_terminal_create_answer_is_stored_without_a_status_and_owes_no_report(store):
    await store.insert(new_task("k"), now=T0, next_poll_at=T0)
    record = await store.record_created("k", task_id="t", status=None, now=at(1), next_poll_at=at(1))
    assert (record.task_id, record.status, record.notify_due_at) == ("t", None, None)
    assert [r.key for r in await store.due_for_poll(now=at(1), limit=5, exclude=set())] == ["k"]


async def test_bad_reads_count_up_and_a_good_poll_resets_them(store):
    await created(store, "k")
    for n in (1, 2):
        record = await store.record_failure("k", now=at(n), next_poll_at=at(n + 1), bad_read=True)
        assert record.bad_reads == n
    polled = await poll(store, "k", TaskStatus.PROCESSING)
    assert (polled.bad_reads, polled.attempts) == (0, 0)


async def test_processing_start_is_the_first_time_processing_was_seen(store):
    await created(store, "k")
    await poll(store, "k", TaskStatus.SUBMITTED, now=at(3))
    first = await poll(store, "k", TaskStatus.PROCESSING, now=at(7))
    later = await poll(store, "k", TaskStatus.PROCESSING, now=at(12), progress="50%")
    assert first.processing_started_at == at(7)
    assert later.processing_started_at == at(7)


async def test_an_unknown_status_keeps_the_row_unfinished_and_due(store):
    await created(store, "k")
    record = await poll(store, "k", TaskStatus(42), next_poll_at=at(20))
    assert not record.is_finished
    assert [r.key for r in await store.due_for_poll(now=at(20), limit=5, exclude=set())] == ["k"]
    assert await store.count_unfinished() == 1
    assert [r.key for r in await store.active_for_requester(record.requester_id)] == ["k"]


async def test_an_unreadable_success_is_stored_with_its_problem(store):
    await created(store, "k")
    found = ResultAssets(extra={"found_urls": ["https://a.test/x.png"]})
    record = await poll(store, "k", TaskStatus.SUCCEEDED, result=found, result_problem="not valid JSON")
    again = await store.get("k")
    assert again is not None and again.result_problem == "not valid JSON"
    assert again.result == found and record.is_finished


async def test_the_reply_token_is_cleared_once_the_final_state_is_acknowledged(store):
    expires = T0 + timedelta(minutes=15)
    await store.insert(
        new_task("k", reply_token="tok", reply_token_expires_at=expires), now=T0, next_poll_at=T0
    )
    await store.record_created("k", task_id="t", status=TaskStatus.SUBMITTED, now=T0, next_poll_at=at(3))
    await store.mark_notified("k", status=TaskStatus.SUBMITTED, outcome=None, progress=None)
    running = await store.get("k")
    assert running is not None and running.reply_token == "tok"  # still needed for edits
    await poll(store, "k", TaskStatus.SUCCEEDED)
    await store.mark_notified("k", status=TaskStatus.SUCCEEDED, outcome=None, progress=None)
    done = await store.get("k")
    assert done is not None
    assert (done.reply_token, done.reply_token_expires_at, done.notify_due_at) == (None, None, None)


async def test_pruning_deletes_only_old_finished_rows_whose_reports_are_delivered(store):
    for key in ("old-done", "old-owed", "new-done", "running"):
        await created(store, key)
    await poll(store, "old-done", TaskStatus.SUCCEEDED, completed_at=at(10))
    await store.mark_notified("old-done", status=TaskStatus.SUCCEEDED, outcome=None, progress=None)
    await store.record_outcome(
        "old-owed", outcome=LocalOutcome.LOST, error_code="lost", error_message="x", now=at(10)
    )
    await poll(store, "new-done", TaskStatus.FAILED, completed_at=at(500))
    await store.mark_notified("new-done", status=TaskStatus.FAILED, outcome=None, progress=None)

    assert await store.prune_finished(completed_before=at(100), now=at(1000)) == 1
    assert await store.was_forgotten("old-done") and await store.was_forgotten("TASK-OLD-DONE")
    assert not await store.was_forgotten("new-done")
    assert await store.get("old-done") is None
    for kept in ("old-owed", "new-done", "running"):
        assert await store.get(kept) is not None

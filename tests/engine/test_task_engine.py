"""`TaskEngine`'s front-end calls against the real fake gateway and a real SQLite store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.engine.api.errors import GatewayUnavailableError
from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.engine.polling.cancellation import CancelOutcome
from bot.engine.store.interface import DuplicateTaskError
from bot.engine.store.sqlite.store import SqliteTaskStore
from bot.engine.task_engine import TaskEngine
from bot.testing.fake_gateway.server import Script
from tests.engine.support import (
    FAST,
    config_with,
    new_task,
    running_engine,
    submit_and_confirm,
    wait_for_row,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def engine(client, store, notifier) -> AsyncIterator[TaskEngine]:
    async with running_engine(client, store, notifier=notifier) as started:
        yield started


# ----------------------------------------------------------------------- submit / confirm / withdraw


async def test_submit_writes_an_unconfirmed_row_before_any_gateway_call(fake_gateway, engine, store):
    before = datetime.now(UTC)
    record = await engine.submit(new_task("k-new"))
    await asyncio.sleep(0.2)
    assert fake_gateway.requests == []
    assert record.key == "k-new"
    assert not record.confirmed
    assert record.task_id is None
    assert record.status is None
    assert record.next_poll_at is not None
    assert record.next_poll_at >= before + timedelta(seconds=FAST.confirm_grace)
    assert await store.get("k-new") == record


async def test_duplicate_submit_raises(engine):
    await engine.submit(new_task("k-dup"))
    with pytest.raises(DuplicateTaskError):
        await engine.submit(new_task("k-dup"))


async def test_confirm_sends_the_create_within_milliseconds(fake_gateway, engine, store):
    await engine.submit(new_task("k-quick"))
    await asyncio.sleep(0.3)  # the loop is idle, sleeping up to its cap
    started = time.monotonic()
    await engine.confirm("k-quick", message_id=777)
    created = await fake_gateway.wait_for_request("create")
    assert created[0].received_at - started < 0.15
    assert created[0].json_body["idempotency_key"] == "k-quick"
    row = await wait_for_row(store, "k-quick", lambda r: r.is_created)
    assert row.message_id == 777
    assert row.confirmed


async def test_unconfirmed_row_is_sent_anyway_after_the_grace(fake_gateway, client, store, notifier):
    async with running_engine(
        client, store, notifier=notifier, config=config_with(confirm_grace=0.3)
    ) as engine:
        submitted = time.monotonic()
        await engine.submit(new_task("k-orphan"))
        created = await fake_gateway.wait_for_request("create")
        final = await notifier.wait_final("k-orphan")
    assert created[0].received_at - submitted >= 0.29
    assert final.status is TaskStatus.SUCCEEDED
    assert not final.confirmed


async def test_withdraw_deletes_only_a_row_that_was_never_shown_or_sent(fake_gateway, engine, store):
    await engine.submit(new_task("k-gone"))
    assert await engine.withdraw("k-gone") is True
    assert await store.get("k-gone") is None
    assert await engine.withdraw("k-gone") is False
    await submit_and_confirm(engine, new_task("k-kept"))
    assert await engine.withdraw("k-kept") is False
    assert await store.get("k-kept") is not None
    await asyncio.sleep(0.1)
    assert [r.json_body["idempotency_key"] for r in fake_gateway.requests_of("create")] == ["k-kept"]


async def test_queries_and_message_updates(engine, store):
    await engine.submit(new_task("k-a", requester_id=7))
    await engine.submit(new_task("k-b", requester_id=7))
    await engine.submit(new_task("k-c", requester_id=8))
    active = await engine.active_for_requester(7)
    assert sorted(r.key for r in active) == ["k-a", "k-b"]
    await engine.update_message("k-a", message_id=9001, drop_reply_token=True)
    record = await engine.get("k-a")
    assert record is not None
    assert record.message_id == 9001
    assert record.reply_token is None
    assert await engine.get("k-missing") is None


async def test_start_and_stop_are_idempotent_and_the_engine_can_start_again(client, store, notifier):
    engine = TaskEngine(client, store, config=FAST, notifier=notifier)
    assert not engine.running
    await engine.stop()
    await engine.start()
    await engine.start()
    assert engine.running
    await engine.stop()
    await engine.stop()
    assert not engine.running
    await engine.start()
    try:
        await submit_and_confirm(engine, new_task("k-again"))
        final = await notifier.wait_final("k-again")
    finally:
        await engine.stop()
    assert final.status is TaskStatus.SUCCEEDED


# -------------------------------------------------------------------------------------------- cancel


async def test_cancel_unknown_key_is_not_found(engine):
    result = await engine.cancel("k-nobody", reason="user asked")
    assert result.outcome is CancelOutcome.NOT_FOUND
    assert result.record is None


async def test_cancel_a_created_task_cancels_it_at_the_gateway_and_reports_once(
    fake_gateway, engine, notifier
):
    fake_gateway.script_when("long", Script.never_finishes())
    await submit_and_confirm(engine, new_task("k-cancel", prompt="long"))
    await notifier.wait_for(lambda: TaskStatus.PROCESSING in notifier.states("k-cancel"))
    result = await engine.cancel("k-cancel", reason="user pressed cancel")
    assert result.outcome is CancelOutcome.CANCELLED
    assert result.error is None
    assert result.record is not None
    assert result.record.status is TaskStatus.CANCELLED
    cancels = fake_gateway.requests_of("cancel")
    assert len(cancels) == 1
    assert cancels[0].json_body == {"reason": "user pressed cancel"}
    final = await notifier.wait_final("k-cancel")
    await asyncio.sleep(0.2)
    assert final.status is TaskStatus.CANCELLED
    assert len(notifier.finals("k-cancel")) == 1
    again = await engine.cancel("k-cancel", reason="twice")
    assert again.outcome is CancelOutcome.ALREADY_FINISHED
    assert len(fake_gateway.requests_of("cancel")) == 1


async def test_cancel_before_the_create_never_sends_it(fake_gateway, engine, notifier, store):
    await engine.submit(new_task("k-early"))  # not confirmed: the create waits for the grace
    result = await engine.cancel("k-early", reason="changed my mind")
    assert result.outcome is CancelOutcome.CANCELLED
    assert result.record is not None
    assert result.record.local_outcome is LocalOutcome.CANCELLED_BEFORE_START
    await engine.confirm("k-early", message_id=1)  # a late confirm must not revive it
    final = await notifier.wait_final("k-early")
    await asyncio.sleep(0.2)
    assert final.local_outcome is LocalOutcome.CANCELLED_BEFORE_START
    assert fake_gateway.requests == []
    assert notifier.states("k-early") == [LocalOutcome.CANCELLED_BEFORE_START]
    row = await store.get("k-early")
    assert row is not None
    assert row.notify_due_at is None


async def test_cancel_of_a_finished_task_is_already_finished(fake_gateway, engine, notifier):
    fake_gateway.script_when("short", Script.success(after=0.1))
    await submit_and_confirm(engine, new_task("k-done", prompt="short"))
    await notifier.wait_final("k-done")
    result = await engine.cancel("k-done", reason="too late")
    assert result.outcome is CancelOutcome.ALREADY_FINISHED
    assert result.record is not None
    assert result.record.status is TaskStatus.SUCCEEDED
    assert fake_gateway.requests_of("cancel") == []


async def test_cancel_of_a_task_that_finished_unseen_polls_it_and_reports_the_result(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("unseen", Script.never_finishes())
    config = config_with(poll_interval=5.0)  # the poller will not look again during the test
    async with running_engine(client, store, notifier=notifier, config=config) as engine:
        await submit_and_confirm(engine, new_task("k-unseen", prompt="unseen"))
        row = await wait_for_row(store, "k-unseen", lambda r: r.is_created)
        assert row.task_id is not None
        fake_gateway.set_status(row.task_id, TaskStatus.SUCCEEDED)
        result = await engine.cancel("k-unseen", reason="user")
        final = await notifier.wait_final("k-unseen")
    assert result.outcome is CancelOutcome.ALREADY_FINISHED
    assert result.record is not None
    assert result.record.status is TaskStatus.SUCCEEDED
    assert [r.status for r in fake_gateway.requests_of("cancel")] == [409]
    assert final.status is TaskStatus.SUCCEEDED
    assert final.result is not None
    assert len(notifier.finals("k-unseen")) == 1


async def test_cancel_that_the_gateway_fails_returns_failed_with_a_user_message(
    fake_gateway, engine, notifier
):
    fake_gateway.script_when("stuck", Script.never_finishes())
    await submit_and_confirm(engine, new_task("k-503", prompt="stuck"))
    await notifier.wait_for(lambda: TaskStatus.PROCESSING in notifier.states("k-503"))
    fake_gateway.fail_next(10, 503, kind="cancel")
    result = await engine.cancel("k-503", reason="user")
    assert result.outcome is CancelOutcome.FAILED
    assert isinstance(result.error, GatewayUnavailableError)
    assert result.error.user_message
    assert not notifier.finals("k-503")


async def test_cancel_racing_the_create_cancels_the_one_task_it_created(fake_gateway, engine, notifier):
    fake_gateway.script_when("race", Script.never_finishes())
    hold = fake_gateway.hold("create")
    await submit_and_confirm(engine, new_task("k-race", prompt="race"))
    await hold.wait_held()
    cancelling = asyncio.create_task(engine.cancel("k-race", reason="raced"))
    await asyncio.sleep(0.1)
    assert not cancelling.done()  # waits for the create's answer rather than guessing
    hold.release()
    result = await asyncio.wait_for(cancelling, 5)
    assert result.outcome is CancelOutcome.CANCELLED
    assert len(fake_gateway.tasks) == 1
    task = next(iter(fake_gateway.tasks.values()))
    assert task.status() is TaskStatus.CANCELLED
    final = await notifier.wait_final("k-race")
    assert final.status is TaskStatus.CANCELLED
    assert len(notifier.finals("k-race")) == 1


async def test_cancel_flag_left_by_a_crash_is_sent_by_the_poller(fake_gateway, client, tmp_path, notifier):
    """A cancel flagged in the store (the process died before calling the gateway) is still sent."""
    fake_gateway.script_when("flagged", Script.never_finishes())
    path = tmp_path / "flag.sqlite3"
    async with SqliteTaskStore(path) as store:
        async with running_engine(client, store, notifier=notifier) as engine:
            await submit_and_confirm(engine, new_task("k-flag", prompt="flagged"))
            await wait_for_row(store, "k-flag", lambda r: r.is_created)
        await store.request_cancel("k-flag", now=datetime.now(UTC))  # as cancel() does first
        async with running_engine(client, store, notifier=notifier):
            final = await notifier.wait_final("k-flag")
    assert final.status is TaskStatus.CANCELLED
    assert len(fake_gateway.requests_of("cancel")) == 1


async def test_cancel_does_not_double_report_with_a_busy_poller(fake_gateway, client, store, notifier):
    fake_gateway.default_script = Script.never_finishes()
    async with running_engine(
        client, store, notifier=notifier, config=config_with(poll_interval=0.02)
    ) as engine:
        keys = [f"k-busy-{i}" for i in range(10)]
        for key in keys:
            await submit_and_confirm(engine, new_task(key))
        for key in keys:
            await wait_for_row(store, key, lambda r: r.status is TaskStatus.PROCESSING)
        results = await asyncio.gather(*(engine.cancel(key, reason="bulk") for key in keys))
        await notifier.wait_for(lambda: all(notifier.finals(k) for k in keys))
        await asyncio.sleep(0.2)
    assert {r.outcome for r in results} == {CancelOutcome.CANCELLED}
    assert all(len(notifier.finals(k)) == 1 for k in keys)
    assert len(fake_gateway.requests_of("cancel")) == 10
    assert notifier.overlapping_calls == 0

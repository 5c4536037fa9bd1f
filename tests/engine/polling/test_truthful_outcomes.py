"""Issue 8, the engine's half: no charged result is lost, and every ending tells only what is known.

Each test drives the real engine (SQLite store, httpx client) against the fake gateway over HTTP and
asserts on what the notifier (the front end) was told.
"""

from __future__ import annotations

import socket

from bot.engine.api.client import TaskApiClient
from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.engine.polling.cancellation import CancelOutcome
from bot.engine.polling.creating import TRYING_NOTE
from bot.testing.fake_gateway.server import Script
from tests.engine.support import (
    config_with,
    make_client,
    new_task,
    running_engine,
    submit_and_confirm,
    wait_for_row,
)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- 1. a create answer that is already final --------------------------------------------------


async def test_a_replayed_create_answered_succeeded_is_read_before_anything_is_reported(
    fake_gateway, store, notifier
):
    # The first create reaches the gateway but its answer comes too late; the task finishes at once,
    # so the re-sent create (same key) is answered with status 4 and, as always, no result.
    fake_gateway.script_when("fox", Script.success(after=0.0))
    fake_gateway.slow_next(1, delay=1.0, kind="create")
    async with (
        make_client(fake_gateway, timeout=0.2, max_attempts=1) as client,
        running_engine(client, store, notifier=notifier) as engine,
    ):
        await submit_and_confirm(engine, new_task("k-replay"))
        final = await notifier.wait_final("k-replay")
    task = fake_gateway.tasks_by_key["k-replay"]
    assert final.status is TaskStatus.SUCCEEDED
    assert final.result is not None
    assert final.result.image_url == f"https://cdn.fake.test/{task.task_id}.png"  # the result reached them
    kinds = [r.kind for r in fake_gateway.requests]
    assert kinds[:3] == ["create", "create", "get"]  # the replay's status 4 is never reported alone
    assert len(notifier.finals("k-replay")) == 1
    assert all(u.record.result is not None for u in notifier.for_key("k-replay") if u.is_final)


# ---- 2. a create whose fate is unknown is never abandoned --------------------------------------


async def test_a_create_whose_fate_is_unknown_is_resent_with_its_key_and_says_so_meanwhile(
    fake_gateway, store, notifier
):
    fake_gateway.fail_next(6, status=503, kind="create")
    async with (
        make_client(fake_gateway, max_attempts=1) as client,
        running_engine(client, store, notifier=notifier) as engine,
    ):
        await submit_and_confirm(engine, new_task("k-flaky", prompt="fox"))
        shown = await wait_for_row(store, "k-flaky", lambda r: r.notified_progress == TRYING_NOTE)
        assert shown.maybe_created and not shown.is_finished
        final = await notifier.wait_final("k-flaky", within=15)
    assert final.status is TaskStatus.SUCCEEDED and final.result is not None
    creates = fake_gateway.requests_of("create")
    assert len(creates) == 7
    assert {r.json_body["idempotency_key"] for r in creates} == {"k-flaky"}
    assert len(fake_gateway.tasks) == 1
    notes = [u.record.progress for u in notifier.for_key("k-flaky") if not u.is_final]
    assert TRYING_NOTE in notes


async def test_a_create_that_may_exist_ends_unconfirmed_at_the_maximum_age_promising_nothing(
    fake_gateway, store, notifier
):
    fake_gateway.fail_next(10_000, status=503, kind="create")
    async with (
        make_client(fake_gateway, max_attempts=1) as client,
        running_engine(client, store, notifier=notifier, config=config_with(task_max_age=0.6)) as engine,
    ):
        await submit_and_confirm(engine, new_task("k-unknown"))
        final = await notifier.wait_final("k-unknown")
    assert final.local_outcome is LocalOutcome.UNCONFIRMED
    assert final.maybe_created


async def test_a_create_that_never_left_the_machine_ends_unreachable_at_the_maximum_age(store, notifier):
    async with (
        TaskApiClient(base_url=f"http://127.0.0.1:{closed_port()}", api_key="k", max_attempts=1) as client,
        running_engine(client, store, notifier=notifier, config=config_with(task_max_age=0.6)) as engine,
    ):
        await submit_and_confirm(engine, new_task("k-down"))
        final = await notifier.wait_final("k-down")
    assert final.local_outcome is LocalOutcome.UNREACHABLE
    assert not final.maybe_created  # so "nothing was charged" is true


async def test_cancelling_a_create_that_never_left_ends_it_at_once(store, notifier):
    async with (
        TaskApiClient(base_url=f"http://127.0.0.1:{closed_port()}", api_key="k", max_attempts=1) as client,
        running_engine(client, store, notifier=notifier) as engine,
    ):
        await submit_and_confirm(engine, new_task("k-cancel-down"))
        await wait_for_row(store, "k-cancel-down", lambda r: r.attempts >= 1)
        result = await engine.cancel("k-cancel-down", reason="user")
    assert result.outcome is CancelOutcome.CANCELLED
    assert result.record is not None
    assert result.record.local_outcome is LocalOutcome.CANCELLED_BEFORE_START


async def test_cancelling_a_create_that_may_exist_waits_for_the_gateway_then_cancels_it_there(
    fake_gateway, store, notifier
):
    fake_gateway.script_when("fox", Script.never_finishes())
    fake_gateway.fail_next(2, status=503, kind="create")
    async with (
        make_client(fake_gateway, max_attempts=1) as client,
        running_engine(client, store, notifier=notifier) as engine,
    ):
        await submit_and_confirm(engine, new_task("k-pending"))
        await wait_for_row(store, "k-pending", lambda r: r.maybe_created)
        result = await engine.cancel("k-pending", reason="user")
        assert result.outcome is CancelOutcome.PENDING
        final = await notifier.wait_final("k-pending", within=10)
    assert final.status is TaskStatus.CANCELLED  # the gateway's own word
    task = fake_gateway.tasks_by_key["k-pending"]
    assert task.status() is TaskStatus.CANCELLED
    assert len(fake_gateway.requests_of("cancel")) == 1


# ---- 3. a success the bot cannot read, unknown statuses, 404s -----------------------------------


async def test_an_unreadable_success_is_read_three_times_then_final_with_what_was_found(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("fox", Script.invalid_result(after=0.0))
    async with running_engine(client, store, notifier=notifier) as engine:
        await submit_and_confirm(engine, new_task("k-broken"))
        final = await notifier.wait_final("k-broken")
        await wait_for_row(store, "k-broken", lambda r: r.notify_due_at is None)
    assert final.status is TaskStatus.SUCCEEDED
    assert final.result_problem == "result_assets_json is not valid JSON"
    assert final.result is not None
    assert final.result.extra["found_urls"] == ["https://cdn.fake.test/x.png"]
    assert len(fake_gateway.requests_of("get")) == 3  # bounded, never a two-hour loop
    assert len(notifier.finals("k-broken")) == 1


async def test_an_unknown_status_is_reported_as_not_final_and_polled_until_it_ends(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("fox", Script.never_finishes())
    reads_by_get = config_with(progress_interval=60.0)  # the override below shows in GET answers only
    async with running_engine(client, store, notifier=notifier, config=reads_by_get) as engine:
        await submit_and_confirm(engine, new_task("k-new-state"))
        task = await _created(fake_gateway, "k-new-state")
        fake_gateway.override_task_fields(task.task_id, status=42)
        await notifier.wait_for(
            lambda: 42 in [int(s) for s in notifier.states("k-new-state") if s is not None]
        )
        assert not notifier.finals("k-new-state")
        fake_gateway.override_task_fields(task.task_id, status=4)
        final = await notifier.wait_final("k-new-state")
    assert final.status is TaskStatus.SUCCEEDED


async def test_repeated_404s_for_an_accepted_task_end_as_lost_with_its_id(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("fox", Script.never_finishes())
    async with running_engine(client, store, notifier=notifier) as engine:
        await submit_and_confirm(engine, new_task("k-lost"))
        task = await _created(fake_gateway, "k-lost")
        del fake_gateway.tasks[task.task_id]  # the gateway forgets it
        final = await notifier.wait_final("k-lost")
    assert final.local_outcome is LocalOutcome.LOST
    assert final.error_message is not None and task.task_id in final.error_message


# ---- 4. giving up: cancel, read once more, tell what is known -----------------------------------


async def test_a_timed_out_task_whose_cancel_is_confirmed_is_shown_cancelled(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("fox", Script.never_finishes())
    async with running_engine(
        client, store, notifier=notifier, config=config_with(task_max_age=0.5)
    ) as engine:
        await submit_and_confirm(engine, new_task("k-slow"))
        final = await notifier.wait_final("k-slow")
    assert final.status is TaskStatus.CANCELLED and final.local_outcome is None
    assert fake_gateway.tasks_by_key["k-slow"].cancel_reason == "timed out waiting for a result"


async def test_a_task_that_succeeds_as_it_times_out_is_delivered_as_a_success(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("fox", Script.never_finishes())
    async with running_engine(
        client, store, notifier=notifier, config=config_with(task_max_age=0.5)
    ) as engine:
        await submit_and_confirm(engine, new_task("k-late"))
        task = await _created(fake_gateway, "k-late")
        fake_gateway.before_next(
            "cancel", lambda: fake_gateway.set_status(task.task_id, TaskStatus.SUCCEEDED)
        )
        final = await notifier.wait_final("k-late")
    assert final.status is TaskStatus.SUCCEEDED
    assert final.result is not None and final.result.image_url is not None


async def test_a_timed_out_task_with_no_confirmed_end_is_unknown_not_free(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("fox", Script.never_finishes())
    fake_gateway.fail_next(10_000, status=500, kind="cancel")
    async with running_engine(
        client, store, notifier=notifier, config=config_with(task_max_age=0.5)
    ) as engine:
        await submit_and_confirm(engine, new_task("k-stuck"))
        final = await notifier.wait_final("k-stuck")
    assert final.local_outcome is LocalOutcome.TIMED_OUT
    assert final.error_message is not None
    assert "not known" in final.error_message and final.task_id in final.error_message


async def test_a_refused_create_keeps_the_gateways_own_words(fake_gateway, client, store, notifier):
    async with running_engine(client, store, notifier=notifier) as engine:
        await submit_and_confirm(engine, new_task("k-bad-model", model="no-such-model"))
        final = await notifier.wait_final("k-bad-model")
    assert final.local_outcome is LocalOutcome.REJECTED
    assert final.error_code == "model_not_found"
    assert final.error_message is not None
    assert "`no-such-model` is not available" in final.error_message
    assert "model 'no-such-model' not found" in final.error_message  # what the gateway said


# ---- 8, 9: processing start, racing cancels -----------------------------------------------------


async def test_processing_start_is_recorded_when_processing_is_first_seen(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("fox", Script.success(after=1.0))
    async with running_engine(client, store, notifier=notifier) as engine:
        submitted = await submit_and_confirm(engine, new_task("k-start"))
        processing = await wait_for_row(store, "k-start", lambda r: r.status is TaskStatus.PROCESSING)
        await notifier.wait_final("k-start")
    assert processing.processing_started_at is not None
    assert processing.processing_started_at > submitted.created_at


async def test_a_cancel_racing_an_earlier_cancel_is_answered_as_cancelled(
    fake_gateway, client, store, notifier
):
    # The gateway takes a moment to stop a task: a second cancel meanwhile is refused (409).
    fake_gateway.script_when("fox", Script.never_finishes())
    fake_gateway.cancel_delay = 0.5
    async with running_engine(client, store, notifier=notifier) as engine:
        await submit_and_confirm(engine, new_task("k-race"))
        await _created(fake_gateway, "k-race")
        first = await engine.cancel("k-race", reason="owner")
        second = await engine.cancel("k-race", reason="moderator")
        final = await notifier.wait_final("k-race")
    assert first.outcome is CancelOutcome.CANCELLED
    assert second.outcome is CancelOutcome.CANCELLED
    assert final.status is TaskStatus.CANCELLED


async def _created(fake_gateway, key: str):
    """The gateway's task for `key`, once the engine has polled it at least once."""
    await fake_gateway.wait_for_tasks(len(fake_gateway.tasks_by_key) or 1)
    await fake_gateway.wait_for_request(None, count=len(fake_gateway.requests) + 1)
    return fake_gateway.tasks_by_key[key]

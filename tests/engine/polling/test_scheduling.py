"""Scheduling: bounded concurrency, the rps ceiling, spread first polls, events pacing, learned
durations (against the fake gateway and a real store), and the pure timing policy."""

from __future__ import annotations

import itertools
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.engine.api.errors import RateLimitedError
from bot.engine.api.models import TaskStatus, TaskType
from bot.engine.api.rate_limit import RequestRateLimiter
from bot.engine.config import EngineConfig
from bot.engine.notifier import UpdateKind
from bot.engine.polling.scheduling import SchedulePolicy
from bot.testing.fake_gateway.server import FakeGateway, Script
from tests.engine.support import (
    ConcurrencyCountingTransport,
    config_with,
    make_client,
    new_task,
    running_engine,
    submit_and_confirm,
    wait_for_row,
)

pytestmark = pytest.mark.timeout(30)


# --------------------------------------------------------------------------------- load and limits


async def test_in_flight_gateway_calls_are_bounded(fake_gateway, store, notifier):
    fake_gateway.default_script = Script.success(after=0.3)
    fake_gateway.slow_next(40, 0.05, kind="get")
    transport = ConcurrencyCountingTransport()
    config = config_with(max_in_flight=4)
    async with (
        make_client(fake_gateway, transport=transport) as client,
        running_engine(client, store, notifier=notifier, config=config) as engine,
    ):
        keys = [f"k-many-{i}" for i in range(30)]
        for key in keys:
            await submit_and_confirm(engine, new_task(key))
        await notifier.wait_for(lambda: all(notifier.finals(k) for k in keys), within=20)
    assert transport.max_open == 4  # saturated, and never above the bound
    assert all(len(notifier.finals(k)) == 1 for k in keys)


async def test_requests_per_second_stay_under_the_client_ceiling(fake_gateway, store, notifier):
    fake_gateway.default_script = Script.success(after=0.8)
    async with (
        make_client(fake_gateway, rate_limiter=RequestRateLimiter(10)) as client,
        running_engine(client, store, notifier=notifier) as engine,
    ):
        keys = [f"k-rps-{i}" for i in range(12)]
        for key in keys:
            await submit_and_confirm(engine, new_task(key))
        await notifier.wait_for(lambda: all(notifier.finals(k) for k in keys), within=20)
    arrivals = [r.received_at for r in fake_gateway.requests]
    assert max(arrivals) - min(arrivals) > 2.0  # long enough to span several 1-second windows
    assert fake_gateway.stats()["max_requests_in_any_1s_window"] <= 10


async def test_first_polls_of_a_burst_are_spread_out(fake_gateway, client, store, notifier):
    fake_gateway.default_script = Script.success(after=5.0)
    config = config_with(poll_interval=0.4, max_in_flight=32)
    async with running_engine(client, store, notifier=notifier, config=config) as engine:
        for i in range(20):
            await submit_and_confirm(engine, new_task(f"k-burst-{i}"))
        rows = [await wait_for_row(store, f"k-burst-{i}", lambda r: r.is_created) for i in range(20)]
    delays = [(r.next_poll_at - r.updated_at).total_seconds() for r in rows if r.next_poll_at]
    assert all(0.35 <= d <= 0.45 for d in delays)
    assert max(delays) - min(delays) > 0.02  # not one synchronised wave


async def test_events_are_read_at_most_once_per_progress_interval_and_only_while_processing(
    fake_gateway, client, store, notifier
):
    fake_gateway.script_when("paced", Script.success(after=1.5, progress=["10%", "40%", "70%"]))
    config = config_with(progress_interval=0.4)
    async with running_engine(client, store, notifier=notifier, config=config) as engine:
        await submit_and_confirm(engine, new_task("k-paced", prompt="paced"))
        final = await notifier.wait_final("k-paced")
    events = fake_gateway.requests_of("events")
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(events)]
    assert events
    assert all(gap >= 0.39 for gap in gaps)
    assert len(events) <= 4  # PROCESSING lasts 1.2 s
    assert len(fake_gateway.requests_of("get")) > 3 * len(events)
    task = fake_gateway.tasks[final.task_id]
    processing_from = next(e.at_monotonic for e in task.events() if e.status is TaskStatus.PROCESSING)
    assert all(r.received_at >= processing_from for r in events)
    # The offsets move forward: events already read are not fetched again.
    offsets = [int(r.query["offset"]) for r in events]
    assert offsets == sorted(offsets)
    assert len(set(offsets)) == len(offsets)
    progress = [u.record.progress for u in notifier.for_key("k-paced") if u.kind is UpdateKind.PROGRESS]
    assert progress
    assert set(progress) <= {"10%", "40%", "70%"}


def polls(gateway: FakeGateway) -> int:
    """Rounds of polling so far: GETs and the events reads that stand in for them."""
    return len(gateway.requests_of("get")) + len(gateway.requests_of("events"))


async def test_learned_durations_save_polls_without_delaying_results(fake_gateway, client, store, notifier):
    fake_gateway.default_script = Script.success(after=0.8)
    async with running_engine(client, store, notifier=notifier) as engine:
        first = [f"k-learn-{i}" for i in range(5)]
        for key in first:
            await submit_and_confirm(engine, new_task(key, model="kling-video", task_type=TaskType.VIDEO))
        await notifier.wait_for(lambda: all(notifier.finals(k) for k in first))
        polls_before = polls(fake_gateway)
        await submit_and_confirm(engine, new_task("k-learned", model="kling-video", task_type=TaskType.VIDEO))
        final = await notifier.wait_final("k-learned")
        reported_at = time.monotonic()
    polls_for_last = polls(fake_gateway) - polls_before
    per_task_before = polls_before / len(first)
    assert polls_for_last < per_task_before / 2  # no polls before ~75% of the fastest duration seen
    completed = fake_gateway.completion_time(final.task_id)
    assert completed is not None
    assert reported_at - completed < 0.3  # still seen within about one poll interval


# ------------------------------------------------------------------------------ scheduling policy


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    policy = SchedulePolicy(EngineConfig(poll_interval=1.0, max_backoff=10.0), rng=random.Random(7))
    for attempts, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (50, 10.0), (10**6, 10.0)]:
        delays = [policy.backoff_delay(attempts) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_backoff_honours_retry_after():
    policy = SchedulePolicy(EngineConfig(poll_interval=1.0, max_backoff=10.0))
    assert 30.0 <= policy.backoff_delay(1, RateLimitedError("slow down", retry_after=30.0)) <= 33.0
    assert policy.backoff_delay(1, RateLimitedError("slow down", retry_after=None)) <= 1.0


def test_learned_minimum_duration_delays_only_the_early_polls():
    policy = SchedulePolicy(EngineConfig(poll_interval=3.0))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    kind = (TaskType.VIDEO, "kling-video")
    for seconds in [100.0, 120.0, 90.0, 150.0]:
        policy.learn_duration(*kind, seconds)
    assert policy.minimum_duration(*kind) == 0.0  # too few samples to trust
    assert policy.first_poll_at(now, *kind) <= now + timedelta(seconds=3.3)
    policy.learn_duration(*kind, 110.0)
    assert policy.minimum_duration(*kind) == pytest.approx(90.0 * 0.75)
    assert policy.minimum_duration(TaskType.VIDEO, "other-model") == 0.0
    assert policy.first_poll_at(now, *kind) == now + timedelta(seconds=67.5)
    # Past the learned minimum, polls come every interval again.
    later = now + timedelta(seconds=70)
    assert policy.next_poll_at(later, created_at=now, task_type=kind[0], model=kind[1]) == later + timedelta(
        seconds=3
    )
    early = now + timedelta(seconds=10)
    assert policy.next_poll_at(early, created_at=now, task_type=kind[0], model=kind[1]) == now + timedelta(
        seconds=67.5
    )


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="poll_interval"):
        EngineConfig(poll_interval=0)
    with pytest.raises(ValueError, match="max_in_flight"):
        EngineConfig(max_in_flight=0)


async def test_an_events_read_replaces_that_rounds_get(fake_gateway, client, store, notifier):
    fake_gateway.script_when("swap", Script.success(after=1.5, progress=["a quarter", "half way"]))
    config = config_with(poll_interval=0.1, progress_interval=0.3)
    async with running_engine(client, store, notifier=notifier, config=config) as engine:
        await submit_and_confirm(engine, new_task("k-swap", prompt="swap"))
        final = await notifier.wait_final("k-swap")
    task_requests = sorted(
        (r for r in fake_gateway.requests if final.task_id in r.path and r.kind in {"get", "events"}),
        key=lambda r: r.received_at,
    )
    kinds = [r.kind for r in task_requests]
    assert kinds.count("events") >= 3
    # Two requests in one round (within a fraction of the interval) happen only once: when the events
    # read found the end and the GET fetches the result. Every other round is one request, not two.
    back_to_back = [b for a, b in itertools.pairwise(task_requests) if b.received_at - a.received_at < 0.05]
    assert len(back_to_back) <= 1
    assert kinds[-1] == "get"
    completed = fake_gateway.completion_time(final.task_id)
    assert completed is not None
    assert task_requests[-1].received_at - completed < 0.2  # the end is seen within about one round

"""RequestRateLimiter: even spacing, the per-second ceiling, FIFO fairness; and pacing seen by a server."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import time

import pytest

from bot.engine.api.client import TaskApiClient
from bot.engine.api.models import TaskType
from bot.engine.api.rate_limit import RequestRateLimiter
from bot.testing.fake_gateway.server import FakeGateway


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0)


async def run_acquirers(limiter: RequestRateLimiter, count: int) -> tuple[list[float], list[int]]:
    starts: list[float] = []
    order: list[int] = []

    async def acquirer(index: int) -> None:
        await limiter.acquire()
        starts.append(time.monotonic())
        order.append(index)

    tasks = []
    for index in range(count):
        tasks.append(asyncio.create_task(acquirer(index)))
        await asyncio.sleep(0)  # let each one queue up before the next, so arrival order is known
    await asyncio.gather(*tasks)
    return starts, order


@pytest.mark.parametrize("rate", [40.0, 7.5])
async def test_concurrent_acquirers_are_paced_fifo_under_the_ceiling(rate):
    limiter = RequestRateLimiter(rate)
    count = math.ceil(rate) + 2  # one more than a window may hold, plus one
    began = time.monotonic()
    starts, order = await run_acquirers(limiter, count)
    assert order == list(range(count))  # first come, first served
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= limiter.interval - 1e-6  # no bursts
    assert max_in_any_window(starts) <= math.ceil(rate)
    # ...and not needlessly slow: roughly one interval per start, plus scheduling noise.
    assert time.monotonic() - began < (count - 1) * limiter.interval + 0.25


async def test_first_acquire_is_immediate_and_idle_time_is_not_banked():
    limiter = RequestRateLimiter(10)
    started = time.monotonic()
    await limiter.acquire()
    assert time.monotonic() - started < 0.02
    await asyncio.sleep(0.3)  # idle: must not allow a burst afterwards
    starts, _ = await run_acquirers(limiter, 3)
    assert min(b - a for a, b in itertools.pairwise(starts)) >= limiter.interval - 1e-6


async def test_cancelled_waiter_does_not_block_the_queue():
    limiter = RequestRateLimiter(20)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    started = time.monotonic()
    await limiter.acquire()
    assert time.monotonic() - started < limiter.interval + 0.05


def test_rate_validation_and_interval():
    assert RequestRateLimiter(20).rate_per_second == 20
    assert RequestRateLimiter(0.5).interval == pytest.approx(2.0)
    assert RequestRateLimiter(20).interval > 1 / 20  # margin so 21 starts never fit in one second
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="rate_per_second"):
            RequestRateLimiter(bad)


async def test_client_requests_arrive_under_the_ceiling_at_the_server(gateway_api_key):
    rate = 25.0
    async with FakeGateway(api_key=gateway_api_key, max_rps=rate) as gateway:
        limiter = RequestRateLimiter(rate)
        async with TaskApiClient(
            base_url=gateway.base_url, api_key=gateway_api_key, rate_limiter=limiter
        ) as client:
            created = await client.create_task(
                task_type=TaskType.ASYNC_IMAGE, model="m", prompt="p", idempotency_key="rate-test"
            )
            await asyncio.gather(*(client.get_task(created.task_id) for _ in range(35)))
        arrivals = [r.received_at for r in gateway.requests]
        assert len(arrivals) == 36
        assert client.requests_sent == 36
        assert all(r.status in (200, 202) for r in gateway.requests)  # the gateway never had to say 429
        assert max_in_any_window(arrivals) <= math.ceil(rate)
        assert gateway.stats()["max_requests_in_any_1s_window"] <= math.ceil(rate)


async def test_the_rate_can_be_changed_while_requests_wait_and_the_new_spacing_holds_at_once():
    limiter = RequestRateLimiter(10)
    await limiter.acquire()
    limiter.set_rate(4)  # another process joined: this one's share shrank
    assert limiter.rate_per_second == 4
    assert limiter.interval >= 0.25
    starts, _ = await run_acquirers(limiter, 3)
    assert min(b - a for a, b in itertools.pairwise(starts)) >= limiter.interval - 1e-6
    limiter.set_rate(40)
    starts, _ = await run_acquirers(limiter, 5)
    assert max_in_any_window(starts) <= 40
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="rate_per_second"):
            limiter.set_rate(bad)


async def test_a_paused_limiter_starts_nothing_until_a_rate_is_set_again():
    limiter = RequestRateLimiter(50)
    limiter.pause()
    assert limiter.paused
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(limiter.interval * 5)
    assert not waiter.done()  # paused: not even the first start goes
    limiter.set_rate(50)
    await asyncio.wait_for(waiter, 1)
    assert not limiter.paused

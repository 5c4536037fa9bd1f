"""GATEWAY_MAX_RPS shared by every process on one PostgreSQL database: each live process paces at
ceiling / live processes, from the heartbeat table; a joiner starts only once the others have counted
it, and a process that dies or leaves gives its share back. Asserted from the heartbeat rows, the
limiters' rates and the fake gateway's request log."""

from __future__ import annotations

import asyncio
import math

import asyncpg
import pytest

from bot.engine.api.client import TaskApiClient
from bot.engine.api.models import TaskType
from bot.engine.api.rate_limit import RequestRateLimiter
from bot.engine.shared_ceiling import SharedCeiling
from bot.engine.store.postgres.store import PostgresTaskStore
from bot.testing.fake_gateway.server import FakeGateway

CEILING = 30.0


@pytest.fixture
async def registry(postgres_url):
    async with PostgresTaskStore(postgres_url, pool_size=4) as store:
        yield store


def ceiling_for(registry, name: str, *, expiry: float = 5.0) -> SharedCeiling:
    """A ceiling whose beats the test makes itself (`beat_once`), in the order it wants."""
    limiter = RequestRateLimiter(CEILING)
    return SharedCeiling(registry, limiter, ceiling=CEILING, owner=name, interval=0.1, expiry=expiry)


async def live_counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {row[0]: row[1] for row in await conn.fetch("SELECT owner, live_count FROM engine_processes")}
    finally:
        await conn.close()


def rates(*ceilings: SharedCeiling) -> list[float | None]:
    return [None if c.limiter.paused else c.limiter.rate_per_second for c in ceilings]


async def test_a_joiner_waits_until_the_others_counted_it_then_all_take_an_equal_share(
    registry, postgres_url
):
    first, second, third = (ceiling_for(registry, name) for name in ("p1", "p2", "p3"))
    await first.beat_once()
    assert rates(first) == [CEILING]  # alone: the whole ceiling
    await second.beat_once()
    assert rates(first, second) == [CEILING, None]  # first still paces for one: second must wait
    await first.beat_once()
    assert rates(first, second) == [CEILING / 2, None]
    await second.beat_once()
    assert rates(first, second) == [CEILING / 2, CEILING / 2]
    await third.beat_once()
    await first.beat_once()
    await second.beat_once()
    await third.beat_once()
    assert rates(first, second, third) == [CEILING / 3] * 3
    assert await live_counts(postgres_url) == {"p1": 3, "p2": 3, "p3": 3}


async def test_a_process_that_leaves_or_dies_gives_its_share_back(registry, postgres_url):
    ceilings = [ceiling_for(registry, f"p{n}", expiry=0.5) for n in range(3)]
    for _ in range(3):
        for ceiling in ceilings:
            await ceiling.beat_once()
    assert rates(*ceilings) == [CEILING / 3] * 3
    leaving, _dying, staying = ceilings
    await leaving.stop()  # a clean stop: its row goes at once
    await staying.beat_once()
    assert rates(staying) == [CEILING / 2]
    await asyncio.sleep(0.6)  # `dying` beats no more: its row expires
    await staying.beat_once()
    assert rates(staying) == [CEILING]
    assert await live_counts(postgres_url) == {"p2": 1}


async def test_a_process_that_cannot_beat_stops_sending(registry):
    ceiling = ceiling_for(registry, "p1", expiry=0.4)
    await ceiling.beat_once()
    assert rates(ceiling) == [CEILING]
    await registry.close()  # the database is gone for this process
    await asyncio.sleep(0.25)  # past half the expiry: the others may soon count it dead
    await ceiling.beat_once()
    assert ceiling.limiter.paused


async def test_three_processes_stay_under_the_ceiling_at_the_gateway_while_one_dies(postgres_url):
    async with FakeGateway(api_key="k", max_rps=CEILING) as gateway:
        stores = [PostgresTaskStore(postgres_url, pool_size=2) for _ in range(3)]
        clients, ceilings, loads = [], [], []
        try:
            for number, store in enumerate(stores):
                await store.open()
                limiter = RequestRateLimiter(CEILING)
                ceiling = SharedCeiling(
                    store, limiter, ceiling=CEILING, owner=f"p{number}", interval=0.1, expiry=0.6
                )
                client = TaskApiClient(base_url=gateway.base_url, api_key="k", rate_limiter=limiter)
                clients.append(client)
                ceilings.append(ceiling)
                await ceiling.start()
            created = await clients[0].create_task(
                task_type=TaskType.ASYNC_IMAGE, model="m", prompt="p", idempotency_key="shared"
            )

            async def hammer(client: TaskApiClient) -> None:
                while True:  # as fast as its limiter lets it
                    await client.get_task(created.task_id)

            loads = [asyncio.create_task(hammer(client)) for client in clients]
            await asyncio.sleep(1.5)
            await ceilings[2].kill()  # dies: stops beating without leaving
            loads[2].cancel()
            await asyncio.sleep(1.5)
            shares = [c.limiter.rate_per_second for c in ceilings[:2]]
        finally:
            for load in loads:
                load.cancel()
            await asyncio.gather(*loads, return_exceptions=True)
            for ceiling in ceilings[:2]:
                await ceiling.stop()
            for client in clients:
                await client.aclose()
            for store in stores:
                await store.close()
        stats = gateway.stats(include_tasks=False)
    assert stats["requests_by_status"].get("429", 0) == 0
    assert stats["max_requests_in_any_1s_window"] <= math.ceil(CEILING)
    assert shares == [CEILING / 2, CEILING / 2]  # the dead one's share was taken back
    assert stats["requests_total"] > CEILING * 1.5  # and the ceiling was used, not just respected

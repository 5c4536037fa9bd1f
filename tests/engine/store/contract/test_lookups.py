"""Finding a task by an id a user can see (issue 9): whole ids of either kind, prefixes among one's own."""

from __future__ import annotations

from bot.engine.api.models import TaskStatus
from bot.engine.store.interface import TaskStore
from tests.engine.store.contract.support import T0, at, new_task

GUILD, OTHER_GUILD = 10, 11


async def add(store: TaskStore, key: str, task_id: str | None, **fields: object) -> None:
    await store.insert(
        new_task(key, guild_id=fields.pop("guild_id", GUILD), **fields), now=T0, next_poll_at=None
    )
    if task_id is not None:
        await store.record_created(
            key, task_id=task_id, status=TaskStatus.SUBMITTED, now=at(1), next_poll_at=at(2)
        )


async def test_a_whole_id_is_a_key_or_a_gateway_task_id_in_any_case(store: TaskStore):
    await add(store, "1300000000000000001", "F47AC10B-58CC-4372-A567-0E02B2C3D479")
    by_key = await store.find_by_id("1300000000000000001")
    by_task_id = await store.find_by_id("f47ac10b-58cc-4372-a567-0e02b2c3d479")
    assert by_key is not None and by_task_id is not None
    assert by_key.key == by_task_id.key == "1300000000000000001"
    assert await store.find_by_id("f47ac10b") is None  # a prefix is not a whole id


async def test_a_prefix_matches_only_the_requesters_own_tasks_in_that_guild_or_that_channel(store):
    await add(store, "k-mine", "abcdef12-0000", requester_id=1, channel_id=100)
    await add(store, "k-theirs-here", "abcdef12-1111", requester_id=2, channel_id=100)
    await add(store, "k-theirs-elsewhere", "abcdef12-2222", requester_id=2, channel_id=200)
    await add(
        store, "k-mine-other-guild", "abcdef12-3333", requester_id=1, channel_id=300, guild_id=OTHER_GUILD
    )

    mine = await store.find_by_prefix("ABCDEF12", guild_id=GUILD, requester_id=1)
    assert [r.key for r in mine] == ["k-mine"]
    as_moderator = await store.find_by_prefix(
        "abcdef12", guild_id=GUILD, requester_id=1, channel_id=100, limit=5
    )
    assert sorted(r.key for r in as_moderator) == ["k-mine", "k-theirs-here"]


async def test_a_prefix_with_sql_wildcards_or_odd_characters_matches_nothing(store):
    await add(store, "k1", "abcdef12-0000", requester_id=1)
    for prefix in ("%", "abc%", "a_cdef12", "abc def", "abc'--"):
        assert await store.find_by_prefix(prefix, guild_id=GUILD, requester_id=1) == []


async def test_the_first_canceller_is_kept(store):
    await add(store, "k", "t-1", requester_id=1)
    first = await store.request_cancel("k", now=at(3), by=1, by_name="alice")
    second = await store.request_cancel("k", now=at(4), by=9, by_name="mod")
    assert first is not None and second is not None
    assert (second.cancelled_by, second.cancelled_by_name) == (1, "alice")

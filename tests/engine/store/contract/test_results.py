"""What the store keeps for results, history and users (issue 10's foundations)."""

from __future__ import annotations

import pytest

from bot.engine.api.models import TaskStatus
from bot.engine.store.interface import TaskStore
from tests.engine.store.contract.support import T0, at, created, new_task, poll


async def test_upload_limit_and_origin_are_kept_from_the_request(store: TaskStore):
    task = new_task("k-vary", upload_limit=25 * 1024 * 1024, origin_key="k-first", origin_action="vary")
    record = await store.insert(task, now=T0, next_poll_at=None)
    assert (record.upload_limit, record.origin_key, record.origin_action) == (
        25 * 1024 * 1024,
        "k-first",
        "vary",
    )


async def test_media_state_and_the_reply_are_recorded_and_pending_media_is_found_again(store):
    await created(store, "k")
    await poll(store, "k", TaskStatus.SUCCEEDED)
    pending = await store.set_media("k", state="pending")
    assert pending is not None and pending.media_state == "pending"
    assert [r.key for r in await store.media_pending(limit=5)] == ["k"]
    attached = await store.set_media("k", state="attached", filename="k.png")
    assert attached is not None and (attached.media_state, attached.media_filename) == ("attached", "k.png")
    assert await store.media_pending(limit=5) == []
    await store.set_reply_message("k", message_id=777)
    row = await store.get("k")
    assert row is not None and row.reply_message_id == 777
    with pytest.raises(ValueError, match="unknown media state"):
        await store.set_media("k", state="weird")


async def test_a_requesters_history_in_one_guild_pages_newest_first(store):
    for n in range(5):
        await store.insert(new_task(f"k{n}", guild_id=1, requester_id=7), now=at(n), next_poll_at=None)
    await store.insert(new_task("elsewhere", guild_id=2, requester_id=7), now=at(9), next_poll_at=None)
    first = await store.recent_for_requester(7, guild_id=1, offset=0, limit=2)
    second = await store.recent_for_requester(7, guild_id=1, offset=2, limit=2)
    assert [r.key for r in first] == ["k4", "k3"]
    assert [r.key for r in second] == ["k2", "k1"]
    assert await store.count_for_requester(7, guild_id=1) == 5


async def test_the_dm_preference_defaults_to_off_and_can_be_switched(store):
    assert await store.notify_dm(5) is False
    await store.set_notify_dm(5, enabled=True, now=T0)
    assert await store.notify_dm(5) is True
    await store.set_notify_dm(5, enabled=False, now=at(1))
    assert await store.notify_dm(5) is False


async def test_a_deleted_result_stays_deleted_and_the_first_deletion_is_kept(store):
    await created(store, "k")
    await poll(store, "k", TaskStatus.SUCCEEDED)
    await store.mark_deleted("k", by=7, now=at(20))
    await store.mark_deleted("k", by=8, now=at(30))
    row = await store.get("k")
    assert row is not None and (row.deleted_by, row.deleted_at) == (7, at(20))

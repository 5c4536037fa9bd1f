"""Leases, on every store: which process may poll a row and which may report it, and until when.
Asserted from the lease columns the store returns."""

from __future__ import annotations

import asyncio

from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.engine.store.interface import ReportScope, TaskStore
from bot.engine.store.sqlite.store import SqliteTaskStore
from tests.engine.store.contract.support import T0, at, created, new_task, poll

A, B = "host-a:1:aaaa", "host-b:2:bbbb"


async def due_rows(store: TaskStore, count: int) -> list[str]:
    keys = [f"k{index}" for index in range(count)]
    for index, key in enumerate(keys):
        await store.insert(new_task(key), now=T0, next_poll_at=at(index))
    return keys


async def test_a_claim_leases_the_due_rows_and_another_owner_gets_none_of_them(store: TaskStore):
    await due_rows(store, 4)
    await store.insert(new_task("later"), now=T0, next_poll_at=at(100))
    claimed = await store.claim_due_for_poll(owner=A, now=at(10), lease_until=at(40), limit=3, exclude=set())
    assert [r.key for r in claimed] == ["k0", "k1", "k2"]  # earliest first, at most `limit`
    assert {(r.lease_owner, r.lease_until) for r in claimed} == {(A, at(40))}
    row = await store.get("k0")
    assert row is not None and (row.lease_owner, row.lease_until) == (A, at(40))

    others = await store.claim_due_for_poll(owner=B, now=at(10), lease_until=at(40), limit=10, exclude=set())
    assert [r.key for r in others] == ["k3"]  # the one A left; "later" is not due
    # A's own rows stay claimable by A (a claim renews them); excluded keys are skipped.
    again = await store.claim_due_for_poll(owner=A, now=at(11), lease_until=at(50), limit=10, exclude={"k1"})
    assert [r.key for r in again] == ["k0", "k2"]
    assert (await store.get("k0")).lease_until == at(50)  # type: ignore[union-attr]
    assert (
        await store.claim_due_for_poll(owner=A, now=at(11), lease_until=at(50), limit=0, exclude=set()) == []
    )


async def test_an_expired_lease_is_taken_over(store: TaskStore):
    await due_rows(store, 2)
    await store.claim_due_for_poll(owner=A, now=at(10), lease_until=at(40), limit=10, exclude=set())
    assert (
        await store.claim_due_for_poll(owner=B, now=at(39), lease_until=at(69), limit=10, exclude=set()) == []
    )
    taken = await store.claim_due_for_poll(owner=B, now=at(40), lease_until=at(70), limit=10, exclude=set())
    assert [(r.key, r.lease_owner, r.lease_until) for r in taken] == [("k0", B, at(70)), ("k1", B, at(70))]


async def test_finished_rows_and_rows_not_due_are_never_claimed(store: TaskStore):
    await created(store, "done")
    await poll(store, "done", TaskStatus.SUCCEEDED)
    await store.insert(new_task("ended"), now=T0, next_poll_at=at(0))
    await store.record_outcome(
        "ended", outcome=LocalOutcome.REJECTED, error_code=None, error_message=None, now=T0
    )
    await store.insert(new_task("unscheduled"), now=T0, next_poll_at=None)
    assert (
        await store.claim_due_for_poll(owner=A, now=at(1000), lease_until=at(2000), limit=10, exclude=set())
        == []
    )


async def test_concurrent_claims_never_return_one_row_twice(store: TaskStore):
    keys = await due_rows(store, 60)
    owners = [f"owner-{n}" for n in range(6)]

    async def claim_all(owner: str) -> list[str]:
        got: list[str] = []  # in flight, as the poller's are: excluded from its next claims
        while batch := await store.claim_due_for_poll(
            owner=owner, now=at(100), lease_until=at(130), limit=4, exclude=set(got)
        ):
            got += [r.key for r in batch]
            await asyncio.sleep(0)
        return got

    results = await asyncio.gather(*(claim_all(owner) for owner in owners))
    everything = [key for got in results for key in got]
    assert sorted(everything) == sorted(keys)  # every row once, none twice
    for owner, got in zip(owners, results, strict=True):
        for key in got:
            row = await store.get(key)
            assert row is not None and row.lease_owner == owner


async def test_claiming_one_row_out_of_schedule(store: TaskStore):
    await store.insert(new_task("k"), now=T0, next_poll_at=at(500))  # not due: a cancel claims it anyway
    mine = await store.claim_task("k", owner=A, now=at(1), lease_until=at(31))
    assert mine is not None and (mine.lease_owner, mine.lease_until) == (A, at(31))
    assert await store.claim_task("k", owner=B, now=at(2), lease_until=at(32)) is None
    assert await store.claim_task("k", owner=A, now=at(2), lease_until=at(32)) is not None
    taken = await store.claim_task("k", owner=B, now=at(32), lease_until=at(62))
    assert taken is not None and taken.lease_owner == B
    assert await store.claim_task("unknown", owner=A, now=at(1), lease_until=at(31)) is None


async def test_renewing_and_releasing_touch_only_the_owners_leases(store: TaskStore):
    await due_rows(store, 3)
    await store.claim_due_for_poll(owner=A, now=at(10), lease_until=at(40), limit=2, exclude=set())
    await store.claim_due_for_poll(owner=B, now=at(10), lease_until=at(40), limit=1, exclude=set())
    assert await store.renew_leases(["k0", "k2", "unknown"], owner=A, lease_until=at(70)) == {("k0", "poll")}
    rows = {key: await store.get(key) for key in ("k0", "k1", "k2")}
    assert {key: (r.lease_owner, r.lease_until) for key, r in rows.items() if r} == {
        "k0": (A, at(70)),
        "k1": (A, at(40)),
        "k2": (B, at(40)),  # B's lease is not A's to renew
    }
    assert await store.renew_leases([], owner=A, lease_until=at(70)) == set()
    await store.record_failure("k1", now=at(10), next_poll_at=at(1), note="retrying")  # a report owed
    await store.claim_report("k1", owner=B, now=at(10), lease_until=at(40))
    renewed = await store.renew_leases(["k1", "k2"], owner=B, lease_until=at(80))
    assert renewed == {("k1", "report"), ("k2", "poll")}  # which lease of each row, by kind
    assert await store.renew_leases(["k1"], owner=A, lease_until=at(70)) == {("k1", "poll")}
    assert await store.release_leases(owner=A) == 2
    rows = {key: await store.get(key) for key in ("k0", "k1", "k2")}
    assert {key: (r.lease_owner, r.lease_until) for key, r in rows.items() if r} == {
        "k0": (None, None),
        "k1": (None, None),
        "k2": (B, at(80)),
    }
    # Released rows are anyone's at once.
    taken = await store.claim_due_for_poll(owner=B, now=at(11), lease_until=at(41), limit=10, exclude=set())
    assert [r.key for r in taken] == ["k0", "k1", "k2"]


async def test_a_row_that_ends_drops_its_poll_lease(store: TaskStore):
    await created(store, "polled")
    await created(store, "ended")
    await store.claim_task("polled", owner=A, now=at(1), lease_until=at(31))
    await store.claim_task("ended", owner=A, now=at(1), lease_until=at(31))
    running = await poll(store, "polled", TaskStatus.PROCESSING)
    assert running.lease_owner == A  # still being worked on
    finished = await poll(store, "polled", TaskStatus.SUCCEEDED)
    assert (finished.lease_owner, finished.lease_until) == (None, None)
    outcome = await store.record_outcome(
        "ended", outcome=LocalOutcome.TIMED_OUT, error_code=None, error_message=None, now=at(2)
    )
    assert (outcome.lease_owner, outcome.lease_until) == (None, None)


async def test_reports_are_claimed_apart_from_polls(store: TaskStore):
    await created(store, "k")
    await store.claim_task("k", owner=A, now=at(1), lease_until=at(31))
    await poll(store, "k", TaskStatus.PROCESSING, now=at(10))  # a report is owed from at(10)
    assert await store.claim_report("k", owner=B, now=at(9), lease_until=at(39)) is None  # not due yet
    report = await store.claim_report("k", owner=B, now=at(10), lease_until=at(40))
    assert report is not None
    assert (report.report_owner, report.report_until, report.lease_owner) == (B, at(40), A)
    assert await store.claim_report("k", owner=A, now=at(11), lease_until=at(41)) is None
    assert (
        await store.claim_due_for_notify(owner=A, now=at(11), lease_until=at(41), limit=10, exclude=set())
        == []
    )
    # Acknowledging a state that is not final keeps the lease: the next change is B's to report too.
    await store.mark_notified("k", status=TaskStatus.PROCESSING, outcome=None, progress=None)
    await poll(store, "k", TaskStatus.SUCCEEDED, now=at(12))
    again = await store.claim_due_for_notify(owner=B, now=at(12), lease_until=at(42), limit=10, exclude=set())
    assert [(r.key, r.report_owner) for r in again] == [("k", B)]
    await store.mark_notified("k", status=TaskStatus.SUCCEEDED, outcome=None, progress=None)
    done = await store.get("k")
    assert done is not None and (done.report_owner, done.report_until, done.notify_due_at) == (
        None,
        None,
        None,
    )
    assert await store.claim_report("k", owner=A, now=at(100), lease_until=at(130)) is None  # nothing owed


async def test_an_expired_report_lease_is_taken_over_and_exclude_is_honoured(store: TaskStore):
    for key in ("a", "b"):
        await created(store, key)
        await poll(store, key, TaskStatus.PROCESSING, now=at(10))
    first = await store.claim_due_for_notify(owner=A, now=at(10), lease_until=at(40), limit=10, exclude={"b"})
    assert [r.key for r in first] == ["a"]
    assert [
        r.key
        for r in await store.claim_due_for_notify(
            owner=B, now=at(39), lease_until=at(69), limit=10, exclude=set()
        )
    ] == ["b"]
    late = await store.claim_due_for_notify(owner=B, now=at(40), lease_until=at(70), limit=10, exclude=set())
    assert [(r.key, r.report_owner) for r in late] == [("a", B), ("b", B)]


async def test_a_report_scope_keeps_other_shards_rows_out(store: TaskStore):
    shard_of = {0: 0, 1: 1 << 22, 2: 2 << 22, 3: 3 << 22}  # guild ids on shards 0..3 of 4
    for shard, guild_id in shard_of.items():
        await store.insert(new_task(f"g{shard}", guild_id=guild_id), now=T0, next_poll_at=None)
        await store.record_failure(f"g{shard}", now=at(1), next_poll_at=at(50), note="retrying")
    await store.insert(new_task("dm"), now=T0, next_poll_at=None)  # no guild: shard 0
    await store.record_failure("dm", now=at(1), next_poll_at=at(50), note="retrying")
    scope = ReportScope(shard_ids=frozenset({0, 2}), shard_count=4)
    assert scope.covers(None) and scope.covers(2 << 22) and not scope.covers(1 << 22)
    claimed = await store.claim_due_for_notify(
        owner=A, now=at(5), lease_until=at(35), limit=10, exclude=set(), scope=scope
    )
    assert sorted(r.key for r in claimed) == ["dm", "g0", "g2"]
    assert await store.claim_report("g1", owner=A, now=at(5), lease_until=at(35), scope=scope) is None
    assert await store.claim_report("g3", owner=B, now=at(5), lease_until=at(35)) is not None  # any scope


async def test_the_next_wakeup_of_an_owner_leaves_out_rows_others_hold(store: TaskStore):
    await store.insert(new_task("theirs"), now=T0, next_poll_at=at(5))
    await store.insert(new_task("mine"), now=T0, next_poll_at=at(20))
    await store.claim_task("theirs", owner=B, now=at(1), lease_until=at(31))
    assert await store.next_wakeup() == at(5)
    assert await store.next_wakeup(owner=A) == at(20)
    assert await store.next_wakeup(owner=B) == at(5)


async def test_a_cluster_job_runs_in_one_process_and_is_taken_over_when_its_lease_runs_out(store):
    first = await store.claim_cluster_job("prune", owner="a", now=T0, until=at(60))
    assert first is True
    if isinstance(store, SqliteTaskStore):
        return  # one process per SQLite file: it always runs the job
    assert await store.claim_cluster_job("prune", owner="b", now=at(30), until=at(90)) is False
    assert await store.claim_cluster_job("prune", owner="a", now=at(30), until=at(90)) is True  # renewed
    assert await store.claim_cluster_job("prune", owner="b", now=at(91), until=at(150)) is True  # taken over
    assert await store.claim_cluster_job("prune", owner="a", now=at(100), until=at(160)) is False

"""The engine's one background loop: finds due rows and owed reports, and hands them to workers.

There is one loop task for the whole process, not one coroutine per task. Each pass claims the rows
that are due (at most as many as there are free worker slots), starts a tracked worker per row
(`TaskLifecycle.advance`), claims owed reports and starts report tasks for them, renews the leases of
what is still being worked on, and then sleeps until the store's next wake-up (capped, so rows
written by other means or released by other processes are seen) or until `wake()` is called.
The loop survives any single failure: it logs it, backs off a little and carries on.

Claims are leases (polling/leases.py): a row another process holds is neither polled nor reported
here until that process releases it or its lease expires. A row stays with the process that leased it
(each claim renews a process's own leases), which keeps per-task memory such as progress pacing in
one place; a clean stop releases every lease so the other processes take over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.background import create_task
from bot.engine.config import EngineConfig
from bot.engine.polling.leases import Leasing
from bot.engine.polling.lifecycle import TaskLifecycle
from bot.engine.polling.reporting import Reporter, finish_or_cancel
from bot.engine.store.interface import TaskRecord, TaskStore

logger = logging.getLogger(__name__)

MAX_IDLE_SLEEP = 1.0  # the longest the loop sleeps without looking at the store again
PASS_FAILURE_BACKOFF_CAP = 5.0
PRUNE_BATCH = 500
PRUNE_JOB = "prune-finished-tasks"


class Poller:
    def __init__(
        self,
        store: TaskStore,
        lifecycle: TaskLifecycle,
        reporter: Reporter,
        config: EngineConfig,
        clock: Callable[[], datetime],
        *,
        leasing: Leasing,
    ) -> None:
        self._store = store
        self._leasing = leasing
        self._lifecycle = lifecycle
        self._reporter = reporter
        self._config = config
        self._clock = clock
        self._wake = asyncio.Event()
        self._in_flight: set[str] = set()  # keys with a worker running
        self._workers: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._next_prune: datetime | None = None  # None: prune on the first pass
        self._next_renewal: datetime | None = None
        # When every due row is already being worked on, the store's next wake-up is in the past;
        # this floor keeps the loop from spinning until those workers finish (they also wake it).
        self._min_sleep = min(max(config.poll_interval / 20, 0.005), 0.1)

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    @property
    def in_flight(self) -> frozenset[str]:
        return frozenset(self._in_flight)

    def wake(self) -> None:
        """Run a pass now (a row was confirmed, a worker finished, a notifier was set)."""
        self._wake.set()

    def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._reporter.resume()
        self._loop_task = create_task(self._run(), name="task-engine-poller")

    async def stop(self) -> None:
        """Stop scheduling; let running workers and reports finish (bounded), then cancel the rest."""
        loop_task = self._loop_task
        if loop_task is None:
            return
        self._stopping = True
        self._wake.set()
        deadline = time.monotonic() + self._config.stop_timeout
        # The loop leaves at its next check; a pass in progress finishes its store call first.
        _, pending = await asyncio.wait({loop_task}, timeout=self._config.stop_timeout)
        if pending:
            loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop_task
        await finish_or_cancel(self._workers, max(0.0, deadline - time.monotonic()))
        await self._reporter.stop(max(0.0, deadline - time.monotonic()))
        self._loop_task = None
        await self._release_leases()
        logger.info("task engine poller stopped")

    async def _release_leases(self) -> None:
        """Let the other processes sharing the store take this one's rows now, not when leases expire."""
        try:
            released = await self._store.release_leases(owner=self._leasing.owner)
        except Exception:
            logger.exception("could not release this process's leases; they expire on their own")
            return
        if released:
            logger.info("released the leases of %d task(s)", released)

    async def _run(self) -> None:
        logger.info("task engine poller started")
        failures = 0
        while not self._stopping:
            self._wake.clear()  # before reading: a wake() during the pass triggers the next one
            try:
                delay = await self._pass()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                delay = min(PASS_FAILURE_BACKOFF_CAP, 0.05 * 2.0 ** min(failures, 10))
                logger.exception("scheduling pass failed (%d in a row); retrying in %.2fs", failures, delay)
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _pass(self) -> float:
        """One scheduling pass; returns how long to sleep before the next one."""
        now = self._clock()
        leasing = self._leasing
        free = self._config.max_in_flight - len(self._in_flight)
        if free > 0:
            due = await self._store.claim_due_for_poll(
                owner=leasing.owner,
                now=now,
                lease_until=leasing.until(now),
                limit=min(self._config.batch_size, free),
                exclude=set(self._in_flight),
            )
            for record in due:
                self._spawn_worker(record)
        report_slots = self._reporter.free_slots
        if report_slots > 0:
            owed = await self._store.claim_due_for_notify(
                owner=leasing.owner,
                now=now,
                lease_until=leasing.until(now),
                limit=min(self._config.batch_size, report_slots),
                exclude=set(self._reporter.active_keys),
                scope=leasing.report_scope,
            )
            self._reporter.start_due(owed)
        await self._renew_if_due(now)
        await self._prune_if_due(now)
        wakeup = await self._store.next_wakeup(owner=leasing.owner)
        if wakeup is None:
            return MAX_IDLE_SLEEP
        delay = (wakeup - self._clock()).total_seconds()
        return min(max(delay, self._min_sleep), MAX_IDLE_SLEEP)

    async def _renew_if_due(self, now: datetime) -> None:
        """Keep the leases of rows still being worked on (a slow gateway call, a long report)."""
        if self._next_renewal is not None and now < self._next_renewal:
            return
        self._next_renewal = now + timedelta(seconds=self._leasing.renew_every)
        working = self._in_flight | self._reporter.active_keys
        if not working:
            return
        renewed = await self._store.renew_leases(
            working, owner=self._leasing.owner, lease_until=self._leasing.until(now)
        )
        lost = self._in_flight - {key for key, kind in renewed if kind == "poll"}
        if lost:
            # Its lease expired (the database was out of reach longer than a lease) and another
            # process may be on these rows now: this step's write still lands, the next is theirs.
            logger.warning("lost the lease of %d task(s) still being worked on: %s", len(lost), sorted(lost))

    async def _prune_if_due(self, now: datetime) -> None:
        """Once a day (and at start): forget finished rows older than the retention period. With
        several processes on one store, one of them does it (a lease on the job, taken over once the
        process holding it stopped renewing it)."""
        retention = self._config.retention
        if retention is None or (self._next_prune is not None and now < self._next_prune):
            return
        self._next_prune = now + timedelta(seconds=self._config.prune_every)
        # Held a little longer than the period, so the process doing it keeps it from day to day.
        held_until = now + timedelta(seconds=self._config.prune_every * 1.5)
        if not await self._store.claim_cluster_job(
            PRUNE_JOB, owner=self._leasing.owner, now=now, until=held_until
        ):
            return
        cutoff = now - timedelta(seconds=retention)
        pruned = 0
        while True:  # in batches: each a short transaction, so the poll loop's queries are not held up
            batch = await self._store.prune_finished(completed_before=cutoff, now=now, limit=PRUNE_BATCH)
            pruned += batch
            if batch < PRUNE_BATCH:
                break
            await asyncio.sleep(0)
        if pruned:
            logger.info("pruned %d finished task(s) older than %.0f days", pruned, retention / 86400)

    def _spawn_worker(self, record: TaskRecord) -> None:
        key = record.key
        if key in self._in_flight:
            return
        self._in_flight.add(key)
        create_task(self._work(key), name=f"task-step:{key}", group=self._workers)

    async def _work(self, key: str) -> None:
        try:
            await self._lifecycle.advance(key)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.exception("task %s: step failed; delaying it", key)
            try:
                await self._lifecycle.push_back(key, error)
            except Exception:
                logger.exception("task %s: could not delay it after a failure", key)
        finally:
            self._in_flight.discard(key)
            self._wake.set()

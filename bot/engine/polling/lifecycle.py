"""What the engine does for one task row, one step at a time: create it, read it, cancel it.

Every step runs under the row's lock (one `asyncio.Lock` per key), so the poller and a user's cancel
never act on the same row at once and never report the same change twice; and only while this
process holds the row's lease (claimed by the poller, or here for a cancel or a withdraw), so no
other process sharing the store acts on it meanwhile. The steps themselves live
in creating.py, reading.py and cancellation.py; this class picks the step a row needs.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from datetime import datetime

from bot.engine.api.client import TaskApiClient
from bot.engine.config import EngineConfig
from bot.engine.polling.cancellation import Canceller, CancelOutcome, CancelResult, outcome_of_finished
from bot.engine.polling.context import StepContext
from bot.engine.polling.creating import Creator
from bot.engine.polling.leases import Leasing
from bot.engine.polling.reading import Reader
from bot.engine.polling.reporting import Reporter
from bot.engine.polling.scheduling import SchedulePolicy
from bot.engine.store.interface import TaskRecord, TaskStore

logger = logging.getLogger(__name__)


class TaskLifecycle:
    def __init__(
        self,
        client: TaskApiClient,
        store: TaskStore,
        *,
        policy: SchedulePolicy,
        config: EngineConfig,
        clock: Callable[[], datetime],
        reporter: Reporter,
        leasing: Leasing,
    ) -> None:
        self._ctx = StepContext(client, store, policy, config, clock, reporter)
        self._store = store
        self._clock = clock
        self._leasing = leasing
        self._creator = Creator(self._ctx)
        self._reader = Reader(self._ctx)
        self._canceller = Canceller(self._ctx, self._creator, self._reader)
        # Weak values: a lock lives as long as someone holds or waits for it, so idle keys cost nothing.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def _claim(self, key: str) -> TaskRecord | None:
        """Lease one row out of schedule: the record, or None if unknown or another process holds it."""
        now = self._clock()
        return await self._store.claim_task(
            key, owner=self._leasing.owner, now=now, lease_until=self._leasing.until(now)
        )

    async def advance(self, key: str) -> None:
        """One scheduled step of a due row (leased by the poller): send its create, its owed cancel,
        or read it."""
        async with self.lock(key):
            record = await self._store.get(key)
            now = self._clock()
            if record is None or record.is_finished:
                return
            if record.next_poll_at is None or record.next_poll_at > now:
                return  # a cancel handled this row while the step waited for the lock
            if record.task_id is None:
                if record.cancel_requested and not record.maybe_created:
                    await self._creator.end_before_start(record)
                else:
                    await self._creator.create(record)
                return
            if record.cancel_requested and key not in self._ctx.cancel_sent:
                sent = await self._canceller.send_flagged(record)
                if not sent and self._ctx.age(record) <= self._ctx.config.task_max_age:
                    return  # retried after a backoff; past the max age the time-out below takes over
            await self._reader.poll(record)

    async def push_back(self, key: str, error: BaseException | None = None) -> None:
        """After an unexpected failure of a step: delay the row so a poison row cannot spin the loop."""
        record = await self._store.get(key)
        if record is None or record.is_finished:
            return
        now = self._clock()
        await self._store.record_failure(
            key, now=now, next_poll_at=self._ctx.policy.backoff_until(now, record.attempts + 1, error)
        )

    async def cancel(
        self, key: str, *, reason: str, by: int | None = None, by_name: str | None = None
    ) -> CancelResult:
        record = await self._store.get(key)
        if record is None:
            return CancelResult(CancelOutcome.NOT_FOUND, None)
        if record.is_finished:
            return CancelResult(CancelOutcome.ALREADY_FINISHED, record)
        # Flag it first (durably): if the process dies now, the poller sends the cancel after a restart.
        if await self._store.request_cancel(key, now=self._clock(), by=by, by_name=by_name) is None:
            return CancelResult(CancelOutcome.NOT_FOUND, None)
        async with self.lock(key):
            record = await self._claim(key)
            if record is None:
                record = await self._store.get(key)
                if record is None:
                    return CancelResult(CancelOutcome.NOT_FOUND, None)
                if not record.is_finished:
                    # Another process is working on it: it sends the flagged cancel at its next step,
                    # which the flag made due now.
                    logger.info("task %s: cancel flagged for the process holding it", key)
                    return CancelResult(CancelOutcome.PENDING, record)
            if record.is_finished:
                return outcome_of_finished(record)
            return await self._canceller.cancel_flagged(record, reason)

    async def withdraw(self, key: str) -> bool:
        async with self.lock(key):
            record = await self._claim(key)  # None also when another process is sending it now
            # A row that was shown, sent, or may have reached the gateway (a failed create) is kept.
            if record is None or record.confirmed or record.task_id is not None or record.attempts > 0:
                return False
            deleted = await self._store.delete_unconfirmed(key)
        if deleted:
            logger.info("task %s withdrawn before it was sent", key)
        return deleted

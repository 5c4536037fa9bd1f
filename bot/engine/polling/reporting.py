"""Delivering owed reports to the notifier: at most one call per task at a time, in order, exactly once.

A row owes a report while its `notify_due_at` is set. A report task reads the row, hands it to the
notifier and, once the notifier returned normally, tells the store what was acknowledged
(`mark_notified` is compare-and-clear, so a change that landed meanwhile stays owed and is sent next).

Several processes may share the store: a report is delivered only by the process holding its report
lease (`claim_report`, or `claim_due_for_notify` for a batch), in the scope of rows it may report
(`Leasing.report_scope`), so no two processes ever report one row at once.

Exactly once: a change is reported once when the notifier returns normally. The only way to repeat
it is a crash in the tiny window after the notifier returned and before `mark_notified` committed;
the report is then sent again after the restart (at least once beats never for a final result).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.background import create_task
from bot.engine.config import EngineConfig
from bot.engine.notifier import TaskNotifier, TaskUpdate, UpdateKind
from bot.engine.polling.leases import Leasing
from bot.engine.polling.scheduling import SchedulePolicy
from bot.engine.store.interface import TaskRecord, TaskStore

logger = logging.getLogger(__name__)


def update_kind(record: TaskRecord) -> UpdateKind:
    """STATUS when the status or local outcome differs from what was last reported, else PROGRESS."""
    if record.status != record.notified_status or record.local_outcome != record.notified_outcome:
        return UpdateKind.STATUS
    return UpdateKind.PROGRESS


class Reporter:
    """Runs report tasks; the poller feeds it keys (`report_owed`) and due rows (`start_due`)."""

    def __init__(
        self,
        store: TaskStore,
        policy: SchedulePolicy,
        config: EngineConfig,
        clock: Callable[[], datetime],
        *,
        leasing: Leasing,
        notifier: TaskNotifier | None = None,
    ) -> None:
        self._store = store
        self._leasing = leasing
        self._policy = policy
        self._config = config
        self._clock = clock
        self._notifier = notifier
        self._active: set[str] = set()  # keys with a report task running
        self._again: set[str] = set()  # keys that got a new change while their report task ran
        self._failures: dict[str, int] = {}  # consecutive notifier failures per key (drives the backoff)
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepting = True

    @property
    def notifier(self) -> TaskNotifier | None:
        return self._notifier

    def set_notifier(self, notifier: TaskNotifier) -> None:
        self._notifier = notifier

    def resume(self) -> None:
        """Accept reports again (the engine is started after a stop)."""
        self._accepting = True

    @property
    def active_keys(self) -> set[str]:
        return self._active

    @property
    def free_slots(self) -> int:
        if self._notifier is None or not self._accepting:
            return 0
        return max(0, self._config.max_in_flight - len(self._active))

    def report_owed(self, key: str) -> None:
        """A change of this row was recorded: report it now (or right after the running report)."""
        if self._notifier is None or not self._accepting:
            return  # stays owed in the store; picked up by due_for_notify later
        if key in self._active:
            self._again.add(key)
            return
        self._spawn(key)

    def start_due(self, records: list[TaskRecord]) -> None:
        """Report these rows, whose report leases this process has just claimed."""
        for record in records:
            if record.key not in self._active:
                self._spawn(record.key, record)

    def _spawn(self, key: str, claimed: TaskRecord | None = None) -> None:
        self._active.add(key)
        create_task(self._report(key, claimed), name=f"report:{key}", group=self._tasks)

    async def _report(self, key: str, claimed: TaskRecord | None) -> None:
        try:
            while True:
                self._again.discard(key)
                delivered = await self._report_once(key, claimed)
                claimed = None  # a further change is claimed afresh
                # No await between this check and leaving `_active`: a change recorded meanwhile
                # either is seen here or finds the key inactive and spawns a new report task.
                if not delivered or key not in self._again:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            # A store failure: the report stays owed in the store and due_for_notify retries it.
            logger.exception("reporting task %s failed; will retry", key)
        finally:
            self._active.discard(key)
            self._again.discard(key)

    async def _report_once(self, key: str, claimed: TaskRecord | None) -> bool:
        """Deliver the owed report of one row; True when the row is now up to date. `claimed` is the row
        as a batch claim returned it; without it the row's report is claimed here."""
        notifier = self._notifier
        if notifier is None:
            return False
        now = self._clock()
        record = claimed or await self._store.claim_report(
            key,
            owner=self._leasing.owner,
            now=now,
            lease_until=self._leasing.until(now),
            scope=self._leasing.report_scope,
        )
        if record is None or record.notify_due_at is None or record.notify_due_at > now:
            return False  # nothing due, or not this process's to report
        update = TaskUpdate(record, update_kind(record))
        try:
            await notifier.task_updated(update)
        except asyncio.CancelledError:
            raise
        except Exception:
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            if self._past_giving_up(record, now):
                await self._abandon(record, notifier)
                return True
            delay = self._policy.notify_retry_delay(failures)
            logger.exception(
                "notifier failed for task %s (attempt %d); retrying in %.1fs", key, failures, delay
            )
            await self._store.defer_notify(key, notify_due_at=self._clock() + timedelta(seconds=delay))
            return False
        self._failures.pop(key, None)
        await self._store.mark_notified(
            key, status=record.status, outcome=record.local_outcome, progress=record.progress
        )
        logger.debug("reported %s of task %s", update.kind.value, key)
        return True

    def _past_giving_up(self, record: TaskRecord, now: datetime) -> bool:
        """A final report keeps failing long after the task ended: nothing suggests it will pass."""
        ended = record.completed_at
        return (
            record.is_finished
            and ended is not None
            and (now - ended).total_seconds() >= self._config.report_give_up_after
        )

    async def _abandon(self, record: TaskRecord, notifier: TaskNotifier) -> None:
        key = record.key
        logger.error(
            "task %s: giving up delivering its final state (%s) after %d failed attempts over %.0f s; "
            "the user was not told",
            key,
            (record.local_outcome or record.status or "?"),
            self._failures.get(key, 0),
            self._config.report_give_up_after,
        )
        await self._store.mark_notified(
            key, status=record.status, outcome=record.local_outcome, progress=record.progress
        )
        self._failures.pop(key, None)
        notifier.task_abandoned(key)

    async def stop(self, grace: float) -> None:
        """Take no new reports; let running notifier calls finish (bounded), then cancel the rest."""
        self._accepting = False
        await finish_or_cancel(self._tasks, grace)


async def finish_or_cancel(tasks: set[asyncio.Task[None]], grace: float) -> None:
    pending = set(tasks)
    if not pending:
        return
    _, still_running = await asyncio.wait(pending, timeout=grace)
    for task in still_running:
        task.cancel()
    if still_running:
        await asyncio.wait(still_running)

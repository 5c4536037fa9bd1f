"""What the engine does for one task row: send its create, poll it, cancel it, time it out.

Every step runs under the row's lock (one `asyncio.Lock` per key), so the poller and a user's cancel
never act on the same row at once and never report the same change twice. Every gateway call goes
through one semaphore, which bounds the engine's concurrent gateway calls to `max_in_flight`.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from bot.engine.api.client import TaskApiClient
from bot.engine.api.errors import RequestRejectedError, TaskApiError
from bot.engine.api.models import GatewayTask, LocalOutcome, TaskStatus
from bot.engine.config import EngineConfig
from bot.engine.polling.cancellation import CancelOutcome, CancelResult, ended_by_cancel
from bot.engine.polling.progress import EventsRead, EventsReader
from bot.engine.polling.reporting import Reporter
from bot.engine.polling.scheduling import SchedulePolicy, describe_age
from bot.engine.store.interface import TaskRecord, TaskStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

CANCEL_REASON_REQUESTER = "cancelled by the requester"
CANCEL_REASON_TIMEOUT = "timed out waiting for a result"
PERSISTENT_FAILURES = 3  # consecutive failures of one row after which they are logged as warnings


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
    ) -> None:
        self._client = client
        self._store = store
        self._policy = policy
        self._config = config
        self._clock = clock
        self._reporter = reporter
        self._gateway_slots = asyncio.Semaphore(config.max_in_flight)
        # Weak values: a lock lives as long as someone holds or waits for it, so idle keys cost nothing.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._cancel_sent: set[str] = set()  # keys whose gateway cancel went out in this process
        self._events = EventsReader(client, self._gateway, config.progress_interval)

    def lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def _gateway(self, call: Callable[[], Awaitable[T]]) -> T:
        async with self._gateway_slots:
            return await call()

    # ------------------------------------------------------------------------------ scheduled steps

    async def advance(self, key: str) -> None:
        """One scheduled step of a due row: send its create or poll it."""
        async with self.lock(key):
            record = await self._store.get(key)
            now = self._clock()
            if record is None or record.is_finished:
                return
            if record.next_poll_at is None or record.next_poll_at > now:
                return  # a cancel handled this row while the step waited for the lock
            if record.task_id is None:
                if record.cancel_requested:
                    await self._end_before_start(record)
                else:
                    await self._create(record)
            else:
                await self._poll_scheduled(record)

    async def push_back(self, key: str, error: BaseException | None = None) -> None:
        """After an unexpected failure of a step: delay the row so a poison row cannot spin the loop."""
        record = await self._store.get(key)
        if record is None or record.is_finished:
            return
        now = self._clock()
        await self._store.record_failure(
            key, now=now, next_poll_at=self._policy.backoff_until(now, record.attempts + 1, error)
        )

    async def _create(self, record: TaskRecord) -> None:
        key = record.key
        if not record.confirmed:
            logger.info(
                "task %s was never confirmed by the front end; sending it after the grace period", key
            )
        try:
            created = await self._gateway(
                lambda: self._client.create_task(
                    task_type=record.task_type,
                    model=record.model,
                    prompt=record.prompt,
                    idempotency_key=key,
                    input_assets=record.input_assets,
                    metadata=record.metadata,
                )
            )
        except TaskApiError as error:
            await self._create_failed(record, error)
            return
        now = self._clock()
        updated = await self._store.record_created(
            key,
            task_id=created.task_id,
            status=created.status,
            now=now,
            next_poll_at=self._policy.first_poll_at(now, record.task_type, record.model),
        )
        logger.info("task %s created task_id=%s status=%s", key, created.task_id, created.status.name)
        self._report_if_owed(updated)
        if updated.cancel_requested:  # a cancel arrived while the create was on its way
            await self._cancel_scheduled(updated)

    async def _create_failed(self, record: TaskRecord, error: TaskApiError) -> None:
        key = record.key
        now = self._clock()
        if not error.transient:
            logger.info("task %s create rejected: %r", key, error)
            code = error.error_code or ("unauthorized" if error.status_code in (401, 403) else "rejected")
            await self._end(record, LocalOutcome.REJECTED, code, error.user_message)
            return
        waited = (now - record.created_at).total_seconds()
        if waited >= self._config.create_give_up_after:
            logger.info(
                "task %s create still failing after %s, giving up: %r", key, describe_age(waited), error
            )
            await self._end(record, LocalOutcome.UNREACHABLE, "unreachable", error.user_message)
            return
        retry_at = self._policy.backoff_until(now, record.attempts + 1, error)
        self._log_failure("create", record, error)
        await self._store.record_failure(key, now=now, next_poll_at=retry_at)

    async def _poll_scheduled(self, record: TaskRecord) -> None:
        key = record.key
        age = (self._clock() - record.created_at).total_seconds()
        if record.cancel_requested and key not in self._cancel_sent:
            sent = await self._cancel_scheduled(record)
            if not sent and age <= self._config.task_max_age:
                return  # retried after a backoff; past the max age the time-out below takes over
        events: EventsRead | None = None
        in_time = age <= self._config.task_max_age  # past it, the GET below decides the time-out
        if record.status is TaskStatus.PROCESSING and in_time and self._events.due(key):
            events = await self._events.read(record)
            if not (events.failed or events.reached_terminal):
                await self._record_events(record, events)
                return
        task_id = created_task_id(record)
        try:
            task = await self._gateway(lambda: self._client.get_task(task_id))
        except TaskApiError as error:
            if age > self._config.task_max_age:
                await self._time_out(record)
                return
            now = self._clock()
            self._log_failure("poll", record, error)
            await self._store.record_failure(
                key, now=now, next_poll_at=self._policy.backoff_until(now, record.attempts + 1, error)
            )
            return
        if not task.status.is_terminal and age > self._config.task_max_age:
            await self._time_out(record)
            return
        await self._record_seen(record, task, events)

    async def _record_events(self, record: TaskRecord, events: EventsRead) -> None:
        """A round settled by the events call alone: the task is still running (see progress.py)."""
        now = self._clock()
        updated = await self._store.record_poll(
            record.key,
            status=events.latest_status or TaskStatus.PROCESSING,
            result=None,
            error_code=None,
            error_message=None,
            progress=events.progress,
            events_seen=events.events_seen,
            now=now,
            next_poll_at=self._policy.next_poll_at(
                now, created_at=record.created_at, task_type=record.task_type, model=record.model
            ),
            completed_at=None,
        )
        logger.debug("task %s polled through its events", record.key)
        self._report_if_owed(updated)

    async def _cancel_scheduled(self, record: TaskRecord) -> bool:
        """Send a flagged cancel from the poller (e.g. after a restart); False when the row was delayed."""
        task_id = created_task_id(record)
        try:
            await self._gateway(lambda: self._client.cancel_task(task_id, reason=CANCEL_REASON_REQUESTER))
        except RequestRejectedError as error:
            logger.info("task %s cancel refused (%r); polling it", record.key, error)
        except TaskApiError as error:
            now = self._clock()
            logger.warning("task %s cancel failed, retrying: %r", record.key, error)
            await self._store.record_failure(
                record.key, now=now, next_poll_at=self._policy.backoff_until(now, record.attempts + 1, error)
            )
            return False
        else:
            logger.info("task %s cancel sent to the gateway task_id=%s", record.key, task_id)
        self._cancel_sent.add(record.key)
        return True

    async def _time_out(self, record: TaskRecord) -> None:
        task_id = created_task_id(record)
        age = describe_age(self._config.task_max_age)
        try:  # best effort: releases the gateway's hold on the funds
            await self._gateway(lambda: self._client.cancel_task(task_id, reason=CANCEL_REASON_TIMEOUT))
        except TaskApiError as error:
            logger.warning("task %s cancel after time-out failed: %r", record.key, error)
        logger.info("task %s timed out after %s task_id=%s", record.key, age, task_id)
        await self._end(record, LocalOutcome.TIMED_OUT, "timed_out", f"Gave up after {age} without a result.")

    async def _record_seen(
        self, record: TaskRecord, task: GatewayTask, events: EventsRead | None = None
    ) -> TaskRecord:
        """Store what a GET returned (plus fresh progress text) and report it if that is owed."""
        key = record.key
        # No events read in a GET's round: a later round reads them instead of a GET (progress.py).
        if task.status is TaskStatus.PROCESSING and record.status is not TaskStatus.PROCESSING:
            self._events.processing_started(key)
        progress, events_seen = (
            (events.progress, events.events_seen) if events else (record.progress, record.events_seen)
        )
        now = self._clock()
        terminal = task.status.is_terminal
        next_poll_at = (
            None
            if terminal
            else self._policy.next_poll_at(
                now, created_at=record.created_at, task_type=record.task_type, model=record.model
            )
        )
        updated = await self._store.record_poll(
            key,
            status=task.status,
            result=task.result,
            error_code=task.error_code,
            error_message=task.error_message,
            progress=progress,
            events_seen=events_seen,
            now=now,
            next_poll_at=next_poll_at,
            completed_at=(task.completed_at or now) if terminal else None,
        )
        if record.status is not task.status:
            logger.info("task %s status %s -> %s", key, _name(record.status), task.status.name)
        else:
            logger.debug("task %s polled: %s", key, task.status.name)
        self._report_if_owed(updated)
        if terminal:
            logger.info("task %s finished: %s task_id=%s", key, task.status.name, task.task_id)
            self._forget(key)
            if task.status is TaskStatus.SUCCEEDED:
                self._learn_duration(record, task, now)
        return updated

    def _learn_duration(self, record: TaskRecord, task: GatewayTask, now: datetime) -> None:
        # Both ends from the same clock: the gateway's own timestamps when it sent both, else ours.
        if task.created_at is not None and task.completed_at is not None:
            seconds = (task.completed_at - task.created_at).total_seconds()
        else:
            seconds = (now - record.created_at).total_seconds()
        self._policy.learn_duration(record.task_type, record.model, seconds)

    # ----------------------------------------------------------------------------- front-end calls

    async def cancel(self, key: str, *, reason: str) -> CancelResult:
        record = await self._store.get(key)
        if record is None:
            return CancelResult(CancelOutcome.NOT_FOUND, None)
        if record.is_finished:
            return CancelResult(CancelOutcome.ALREADY_FINISHED, record)
        # Flag it first (durably): if the process dies now, the poller sends the cancel after a restart.
        if await self._store.request_cancel(key, now=self._clock()) is None:
            return CancelResult(CancelOutcome.NOT_FOUND, None)
        async with self.lock(key):
            record = await self._store.get(key)
            if record is None:
                return CancelResult(CancelOutcome.NOT_FOUND, None)
            if record.is_finished:
                outcome = (
                    CancelOutcome.CANCELLED if ended_by_cancel(record) else CancelOutcome.ALREADY_FINISHED
                )
                return CancelResult(outcome, record)
            if record.task_id is None:
                return CancelResult(CancelOutcome.CANCELLED, await self._end_before_start(record))
            return await self._cancel_created(record, reason)

    async def _cancel_created(self, record: TaskRecord, reason: str) -> CancelResult:
        task_id = created_task_id(record)
        try:
            await self._gateway(lambda: self._client.cancel_task(task_id, reason=reason))
        except RequestRejectedError as refused:  # typically 409: it finished meanwhile
            logger.info("task %s cancel refused (%r); polling it", record.key, refused)
            self._cancel_sent.add(record.key)
            try:
                polled = await self._poll_now(record)
            except TaskApiError as error:
                return CancelResult(CancelOutcome.FAILED, record, error)
            if polled.is_finished:
                outcome = (
                    CancelOutcome.CANCELLED if ended_by_cancel(polled) else CancelOutcome.ALREADY_FINISHED
                )
                return CancelResult(outcome, polled)
            return CancelResult(CancelOutcome.FAILED, polled, refused)
        except TaskApiError as error:
            logger.warning("task %s cancel failed: %r", record.key, error)
            return CancelResult(CancelOutcome.FAILED, record, error)
        logger.info("task %s cancel sent to the gateway task_id=%s", record.key, task_id)
        self._cancel_sent.add(record.key)
        try:
            polled = await self._poll_now(record)
        except TaskApiError as error:  # the cancel went through; the poller will see the new status
            logger.debug("task %s poll after cancel failed: %r", record.key, error)
            return CancelResult(CancelOutcome.CANCELLED, record)
        return CancelResult(CancelOutcome.CANCELLED, polled)

    async def _poll_now(self, record: TaskRecord) -> TaskRecord:
        task_id = created_task_id(record)
        task = await self._gateway(lambda: self._client.get_task(task_id))
        return await self._record_seen(record, task)

    async def withdraw(self, key: str) -> bool:
        async with self.lock(key):
            record = await self._store.get(key)
            # A row that was shown, sent, or may have reached the gateway (a failed create) is kept.
            if record is None or record.confirmed or record.task_id is not None or record.attempts > 0:
                return False
            deleted = await self._store.delete_unconfirmed(key)
        if deleted:
            logger.info("task %s withdrawn before it was sent", key)
        return deleted

    # ----------------------------------------------------------------------------------- helpers

    async def _end_before_start(self, record: TaskRecord) -> TaskRecord:
        logger.info("task %s cancelled before it was sent", record.key)
        return await self._end(
            record,
            LocalOutcome.CANCELLED_BEFORE_START,
            "cancelled",
            "Cancelled before it was sent to the generation service.",
        )

    async def _end(self, record: TaskRecord, outcome: LocalOutcome, code: str, message: str) -> TaskRecord:
        updated = await self._store.record_outcome(
            record.key, outcome=outcome, error_code=code, error_message=message, now=self._clock()
        )
        self._forget(record.key)
        self._report_if_owed(updated)
        return updated

    @staticmethod
    def _log_failure(call: str, record: TaskRecord, error: TaskApiError) -> None:
        """Single transient failures are routine (DEBUG); permanent or repeated ones need a look."""
        attempt = record.attempts + 1
        persistent = not error.transient or attempt == PERSISTENT_FAILURES or attempt % 50 == 0
        level = logging.WARNING if persistent else logging.DEBUG
        logger.log(level, "task %s %s failed (attempt %d), retrying: %r", record.key, call, attempt, error)

    def _report_if_owed(self, record: TaskRecord) -> None:
        if record.notify_due_at is not None:
            self._reporter.report_owed(record.key)

    def _forget(self, key: str) -> None:
        self._events.forget(key)
        self._cancel_sent.discard(key)


def _name(status: TaskStatus | None) -> str:
    return status.name if status is not None else "NONE"


def created_task_id(record: TaskRecord) -> str:
    """The gateway's id of a row the caller knows was created."""
    if record.task_id is None:
        raise RuntimeError(f"task {record.key} has no gateway task id yet")
    return record.task_id

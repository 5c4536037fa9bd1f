"""Reading a created task: a GET (or an events read while it processes), and what each answer means.

An answer is recorded only when it can be told truthfully. A success whose result cannot be read is
read again a few times, then shown as final with what could be found; a 404 for a task the gateway
had accepted, repeated, ends as lost; a status number the bot does not know is not final. Past
TASK_MAX_AGE the task is cancelled at the gateway and read once more, so a late success is still
delivered and a confirmed cancel is shown as one.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.engine.api.errors import TaskApiError, TaskNotFoundError
from bot.engine.api.models import GatewayTask, LocalOutcome, TaskStatus
from bot.engine.polling.context import StepContext, created_task_id
from bot.engine.polling.progress import EventsRead
from bot.engine.polling.scheduling import describe_age
from bot.engine.store.interface import TaskRecord

logger = logging.getLogger(__name__)

CANCEL_REASON_TIMEOUT = "timed out waiting for a result"


class Reader:
    def __init__(self, ctx: StepContext) -> None:
        self._ctx = ctx

    async def poll(self, record: TaskRecord) -> None:
        """One scheduled read of a created task."""
        ctx = self._ctx
        key = record.key
        in_time = ctx.age(record) <= ctx.config.task_max_age  # past it, the GET below decides
        events: EventsRead | None = None
        if record.status is TaskStatus.PROCESSING and in_time and ctx.events.due(key):
            events = await ctx.events.read(record)
            if not (events.failed or events.reached_terminal):
                await self._record_events(record, events)
                return
        task_id = created_task_id(record)
        try:
            task = await ctx.gateway(lambda: ctx.client.get_task(task_id))
        except TaskApiError as error:
            if not in_time:
                await self.time_out(record)
            elif isinstance(error, TaskNotFoundError):
                await self._not_found(record, error)
            else:
                await ctx.retry_later("poll", record, error)
            return
        if not task.status.is_terminal and not in_time:
            await self.time_out(record)
            return
        if task.result_problem is not None and record.bad_reads + 1 < ctx.config.bad_reads_limit:
            logger.warning(
                "task %s succeeded but its result is unusable (%s); reading it again",
                key,
                task.result_problem,
            )
            await ctx.store.record_failure(
                key,
                now=ctx.clock(),
                next_poll_at=ctx.policy.backoff_until(ctx.clock(), record.attempts + 1),
                bad_read=True,
            )
            return
        await self.record_seen(record, task, events)

    async def read_now(self, record: TaskRecord) -> TaskRecord:
        """A GET out of schedule (after a cancel); raises `TaskApiError`."""
        ctx = self._ctx
        task_id = created_task_id(record)
        task = await ctx.gateway(lambda: ctx.client.get_task(task_id))
        return await self.record_seen(record, task)

    async def _not_found(self, record: TaskRecord, error: TaskNotFoundError) -> None:
        ctx = self._ctx
        if record.bad_reads + 1 < ctx.config.bad_reads_limit:
            await ctx.retry_later("poll", record, error, bad_read=True)
            return
        logger.warning(
            "task %s: the gateway keeps answering 404 for task_id=%s; lost", record.key, record.task_id
        )
        message = f"The generation service no longer knows this task (task id `{record.task_id}`)."
        await ctx.end(record, LocalOutcome.LOST, error.error_code or "task_not_found", message)

    async def _record_events(self, record: TaskRecord, events: EventsRead) -> None:
        """A round settled by the events call alone: the task is still running (see progress.py)."""
        ctx = self._ctx
        now = ctx.clock()
        updated = await ctx.store.record_poll(
            record.key,
            status=events.latest_status or TaskStatus.PROCESSING,
            result=None,
            error_code=None,
            error_message=None,
            progress=events.progress,
            events_seen=events.events_seen,
            now=now,
            next_poll_at=ctx.policy.next_poll_at(
                now, created_at=record.created_at, task_type=record.task_type, model=record.model
            ),
            completed_at=None,
        )
        logger.debug("task %s polled through its events", record.key)
        ctx.report_if_owed(updated)

    async def time_out(self, record: TaskRecord) -> None:
        """Past TASK_MAX_AGE: cancel at the gateway (it releases a hold), then read the task once more
        and report what is known: a result, a confirmed cancel, or an outcome nobody can vouch for."""
        ctx = self._ctx
        task_id = created_task_id(record)
        age = describe_age(ctx.config.task_max_age)
        try:
            await ctx.gateway(lambda: ctx.client.cancel_task(task_id, reason=CANCEL_REASON_TIMEOUT))
        except TaskApiError as error:
            logger.warning("task %s cancel after time-out failed: %r", record.key, error)
        try:
            task: GatewayTask | None = await ctx.gateway(lambda: ctx.client.get_task(task_id))
        except TaskApiError as error:
            logger.warning("task %s read after time-out failed: %r", record.key, error)
            task = None
        if task is not None and task.status.is_terminal:
            logger.info(
                "task %s reached %s as it timed out task_id=%s", record.key, task.status.name, task_id
            )
            await self.record_seen(record, task)
            return
        logger.info("task %s timed out after %s task_id=%s; outcome unknown", record.key, age, task_id)
        message = (
            f"Gave up after {age} without a final answer from the generation service. The bot asked it "
            f"to cancel the task (task id `{task_id}`), but whether it finished is not known."
        )
        await ctx.end(record, LocalOutcome.TIMED_OUT, "timed_out", message)

    async def record_seen(
        self, record: TaskRecord, task: GatewayTask, events: EventsRead | None = None
    ) -> TaskRecord:
        """Store what a GET returned (plus fresh progress text) and report it if that is owed."""
        ctx = self._ctx
        key = record.key
        # No events read in a GET's round: a later round reads them instead of a GET (progress.py).
        if task.status is TaskStatus.PROCESSING and record.status is not TaskStatus.PROCESSING:
            ctx.events.processing_started(key)
        progress, events_seen = (
            (events.progress, events.events_seen) if events else (record.progress, record.events_seen)
        )
        now = ctx.clock()
        terminal = task.status.is_terminal
        next_poll_at = (
            None
            if terminal
            else ctx.policy.next_poll_at(
                now, created_at=record.created_at, task_type=record.task_type, model=record.model
            )
        )
        updated = await ctx.store.record_poll(
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
            result_problem=task.result_problem,
        )
        if record.status != task.status:
            logger.info("task %s status %s -> %s", key, _name(record.status), task.status.name)
        else:
            logger.debug("task %s polled: %s", key, task.status.name)
        ctx.report_if_owed(updated)
        if terminal:
            logger.info("task %s finished: %s task_id=%s", key, task.status.name, task.task_id)
            ctx.forget(key)
            if task.status is TaskStatus.SUCCEEDED and task.result_problem is None:
                self._learn_duration(record, task, now)
        return updated

    def _learn_duration(self, record: TaskRecord, task: GatewayTask, now: datetime) -> None:
        # Both ends from the same clock: the gateway's own timestamps when it sent both, else ours.
        if task.created_at is not None and task.completed_at is not None:
            seconds = (task.completed_at - task.created_at).total_seconds()
        else:
            seconds = (now - record.created_at).total_seconds()
        self._ctx.policy.learn_duration(record.task_type, record.model, seconds)


def _name(status: TaskStatus | None) -> str:
    return status.name if status is not None else "NONE"

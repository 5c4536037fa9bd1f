"""Cancelling a task: from the front end (a user's cancel, answered at once) or from the poller (a
flagged cancel it still owes the gateway, e.g. after a restart)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from bot.engine.api.errors import RequestRejectedError, TaskApiError
from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.engine.polling.context import StepContext, created_task_id
from bot.engine.polling.creating import Creator
from bot.engine.polling.reading import Reader
from bot.engine.store.interface import TaskRecord

logger = logging.getLogger(__name__)

CANCEL_REASON_REQUESTER = "cancelled by the requester"


class CancelOutcome(Enum):
    CANCELLED = "cancelled"
    # Flagged, but not yet sent: no create was confirmed and one may have reached the gateway; the
    # cancel goes out as soon as the gateway names the task.
    PENDING = "pending"
    ALREADY_FINISHED = "already_finished"
    NOT_FOUND = "not_found"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CancelResult:
    outcome: CancelOutcome
    record: TaskRecord | None
    error: TaskApiError | None = None


def ended_by_cancel(record: TaskRecord) -> bool:
    return (
        record.status is TaskStatus.CANCELLED or record.local_outcome is LocalOutcome.CANCELLED_BEFORE_START
    )


def outcome_of_finished(record: TaskRecord) -> CancelResult:
    outcome = CancelOutcome.CANCELLED if ended_by_cancel(record) else CancelOutcome.ALREADY_FINISHED
    return CancelResult(outcome, record)


class Canceller:
    def __init__(self, ctx: StepContext, creator: Creator, reader: Reader) -> None:
        self._ctx = ctx
        self._creator = creator
        self._reader = reader

    async def cancel_flagged(self, record: TaskRecord, reason: str) -> CancelResult:
        """A user's cancel of an unfinished row already flagged `cancel_requested` (under its lock)."""
        if record.task_id is None:
            if record.maybe_created:
                # Ending it here could leave a task running at the gateway; the poller re-sends the
                # create (same key), learns the task id and cancels it there.
                logger.info("task %s: cancel waits for the gateway to confirm the create", record.key)
                return CancelResult(CancelOutcome.PENDING, record)
            return CancelResult(CancelOutcome.CANCELLED, await self._creator.end_before_start(record))
        return await self._cancel_created(record, reason)

    async def _cancel_created(self, record: TaskRecord, reason: str) -> CancelResult:
        ctx = self._ctx
        key = record.key
        task_id = created_task_id(record)
        # A cancel of ours already sent (the poller's, or another user's a moment ago): a refusal now
        # most likely says "already cancelling", which is what the user asked for.
        already_sent = key in ctx.cancel_sent
        try:
            await ctx.gateway(lambda: ctx.client.cancel_task(task_id, reason=reason))
        except RequestRejectedError as refused:  # typically 409: it finished or is stopping meanwhile
            logger.info("task %s cancel refused (%r); reading it", key, refused)
            ctx.cancel_sent.add(key)
            try:
                read = await self._reader.read_now(record)
            except TaskApiError as error:
                if already_sent:
                    return CancelResult(CancelOutcome.CANCELLED, record)
                return CancelResult(CancelOutcome.FAILED, record, error)
            if read.is_finished:
                return outcome_of_finished(read)
            if already_sent:
                return CancelResult(CancelOutcome.CANCELLED, read)
            return CancelResult(CancelOutcome.FAILED, read, refused)
        except TaskApiError as error:
            logger.warning("task %s cancel failed: %r", key, error)
            return CancelResult(CancelOutcome.FAILED, record, error)
        logger.info("task %s cancel sent to the gateway task_id=%s", key, task_id)
        ctx.cancel_sent.add(key)
        try:
            read = await self._reader.read_now(record)
        except TaskApiError as error:  # the cancel went through; the poller will see the new status
            logger.debug("task %s read after cancel failed: %r", key, error)
            return CancelResult(CancelOutcome.CANCELLED, record)
        return CancelResult(CancelOutcome.CANCELLED, read)

    async def send_flagged(self, record: TaskRecord) -> bool:
        """Send a flagged cancel from the poller (e.g. after a restart); False when the row was delayed."""
        ctx = self._ctx
        task_id = created_task_id(record)
        try:
            await ctx.gateway(lambda: ctx.client.cancel_task(task_id, reason=CANCEL_REASON_REQUESTER))
        except RequestRejectedError as error:
            logger.info("task %s cancel refused (%r); polling it", record.key, error)
        except TaskApiError as error:
            logger.warning("task %s cancel failed, retrying: %r", record.key, error)
            now = ctx.clock()
            await ctx.store.record_failure(
                record.key, now=now, next_poll_at=ctx.policy.backoff_until(now, record.attempts + 1, error)
            )
            return False
        else:
            logger.info("task %s cancel sent to the gateway task_id=%s", record.key, task_id)
        ctx.cancel_sent.add(record.key)
        return True

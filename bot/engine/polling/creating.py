"""Sending a row's create, and what a failed create means.

The create carries the row's key as idempotency key, so sending it again is always safe: the gateway
answers with the task it already made. What a failure means decides what the user is told:
- a 4xx answer: the gateway saw the request and made nothing (REJECTED; nothing charged);
- a failure before the request left this machine (connection refused, DNS): nothing exists either;
- a time-out after sending, a reset, a 5xx or an unreadable 202: the task may exist and hold funds.
Transient failures are re-sent with backoff until TASK_MAX_AGE, never abandoned earlier.
"""

from __future__ import annotations

import logging

from bot.engine.api.errors import TaskApiError
from bot.engine.api.models import LocalOutcome
from bot.engine.polling.context import StepContext
from bot.engine.polling.scheduling import describe_age
from bot.engine.store.interface import TaskRecord

logger = logging.getLogger(__name__)

TRYING_NOTE = "Still trying to reach the generation service…"


class Creator:
    def __init__(self, ctx: StepContext) -> None:
        self._ctx = ctx

    async def create(self, record: TaskRecord) -> None:
        ctx = self._ctx
        key = record.key
        if not record.confirmed:
            logger.info(
                "task %s was never confirmed by the front end; sending it after the grace period", key
            )
        try:
            created = await ctx.gateway(
                lambda: ctx.client.create_task(
                    task_type=record.task_type,
                    model=record.model,
                    prompt=record.prompt,
                    idempotency_key=key,
                    input_assets=record.input_assets,
                    metadata=record.metadata,
                )
            )
        except TaskApiError as error:
            await self._failed(record, error)
            return
        now = ctx.clock()
        # A create answer never carries the result. A terminal status in it (a create re-sent after a
        # crash, answered with the task's current state) is read with a GET right away, before anything
        # is reported; so is a row whose cancel arrived while the create was on its way.
        read_now = created.status.is_terminal or record.cancel_requested
        updated = await ctx.store.record_created(
            key,
            task_id=created.task_id,
            status=None if created.status.is_terminal else created.status,
            now=now,
            next_poll_at=now if read_now else ctx.policy.first_poll_at(now, record.task_type, record.model),
        )
        logger.info("task %s created task_id=%s status=%s", key, created.task_id, created.status.name)
        ctx.report_if_owed(updated)

    async def _failed(self, record: TaskRecord, error: TaskApiError) -> None:
        ctx = self._ctx
        key = record.key
        if not error.transient:
            logger.info("task %s create rejected: %r", key, error)
            code = error.error_code or ("unauthorized" if error.status_code in (401, 403) else "rejected")
            await ctx.end(record, LocalOutcome.REJECTED, code, error.user_message)
            return
        maybe_created = record.maybe_created or error.maybe_sent
        if ctx.age(record) >= ctx.config.task_max_age:
            await self.give_up(record, maybe_created=maybe_created, error=error)
            return
        now = ctx.clock()
        ctx.log_failure("create", record, error)
        updated = await ctx.store.record_failure(
            key,
            now=now,
            next_poll_at=ctx.policy.backoff_until(now, record.attempts + 1, error),
            maybe_created=error.maybe_sent,
            note=TRYING_NOTE,
        )
        if error.maybe_sent and not record.maybe_created:
            logger.warning("task %s: the create may have reached the gateway; re-sending it: %r", key, error)
        ctx.report_if_owed(updated)

    async def give_up(self, record: TaskRecord, *, maybe_created: bool, error: TaskApiError | None) -> None:
        """TASK_MAX_AGE passed without a confirmed create: say exactly what is known."""
        waited = describe_age(self._ctx.age(record))
        logger.warning("task %s: no create confirmed after %s, giving up: %r", record.key, waited, error)
        if maybe_created:
            message = (
                f"The generation service never confirmed this request in {waited}. If it did receive it, "
                "the task may still run there."
            )
            await self._ctx.end(record, LocalOutcome.UNCONFIRMED, "unconfirmed", message)
        else:
            message = f"The generation service could not be reached for {waited}."
            await self._ctx.end(record, LocalOutcome.UNREACHABLE, "unreachable", message)

    async def end_before_start(self, record: TaskRecord) -> TaskRecord:
        """Cancelled while no create can have reached the gateway: certainly nothing to stop there."""
        logger.info("task %s cancelled before it was sent", record.key)
        return await self._ctx.end(
            record,
            LocalOutcome.CANCELLED_BEFORE_START,
            "cancelled",
            "Cancelled before it was sent to the generation service.",
        )

"""`TaskEngine`: the one object a front end talks to.

A request becomes a row first (`submit`, before any gateway call), is shown by the front end
(`confirm`, or `withdraw` when it could not be shown), and from then on the background poller owns
it: it sends the create with the row's key as idempotency key (so a re-sent create after a crash
returns the same gateway task), polls it to the end and reports every change to the notifier.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.engine.api.client import TaskApiClient
from bot.engine.config import EngineConfig, utc_now
from bot.engine.notifier import TaskNotifier
from bot.engine.polling.cancellation import CancelResult
from bot.engine.polling.leases import Leasing, new_owner_id
from bot.engine.polling.lifecycle import TaskLifecycle
from bot.engine.polling.poller import Poller
from bot.engine.polling.reporting import Reporter
from bot.engine.polling.scheduling import SchedulePolicy
from bot.engine.store.interface import EVERY_ROW, NewTask, ReportScope, TaskRecord, TaskStore

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = EngineConfig()


class TaskEngine:
    def __init__(
        self,
        client: TaskApiClient,
        store: TaskStore,
        *,
        config: EngineConfig = DEFAULT_CONFIG,
        notifier: TaskNotifier | None = None,
        clock: Callable[[], datetime] = utc_now,
        owner: str | None = None,
        report_scope: ReportScope = EVERY_ROW,
    ) -> None:
        """`owner` names this process's leases in the store (unique per process by default);
        `report_scope` says which rows' reports it delivers (every row by default)."""
        self._store = store
        self._config = config
        self._clock = clock
        self._leasing = Leasing(owner or new_owner_id(), config.lease_seconds, report_scope)
        policy = SchedulePolicy(config)
        self._reporter = Reporter(store, policy, config, clock, leasing=self._leasing, notifier=notifier)
        self._lifecycle = TaskLifecycle(
            client,
            store,
            policy=policy,
            config=config,
            clock=clock,
            reporter=self._reporter,
            leasing=self._leasing,
        )
        self._poller = Poller(store, self._lifecycle, self._reporter, config, clock, leasing=self._leasing)

    @property
    def config(self) -> EngineConfig:
        return self._config

    @property
    def owner(self) -> str:
        """The name of this process's leases in the store."""
        return self._leasing.owner

    @property
    def running(self) -> bool:
        return self._poller.running

    def delivers_for(self, guild_id: int | None) -> bool:
        """Whether this process shows the tasks of that server (its Discord shard is one of ours)."""
        return self._leasing.report_scope.covers(guild_id)

    async def claim_cluster_job(self, name: str, *, hold_for: float) -> bool:
        """Whether this process should run the once-per-cluster job `name` now (see `TaskStore`); it
        then holds the job for `hold_for` seconds."""
        now = self._clock()
        return await self._store.claim_cluster_job(
            name, owner=self.owner, now=now, until=now + timedelta(seconds=hold_for)
        )

    def set_notifier(self, notifier: TaskNotifier) -> None:
        """Set (or replace) the notifier; reports owed meanwhile are delivered on the next pass."""
        self._reporter.set_notifier(notifier)
        self._poller.wake()

    async def start(self) -> None:
        """Start the background poller. The store must be open (the caller owns it).

        Every unfinished row and every owed report in the store is picked up: rows keep their next
        poll time and reports their due time, so a restart simply carries on where the last run was.
        """
        if self.running:
            return
        unfinished = await self._store.count_unfinished()
        logger.info("task engine starting; %d unfinished task(s) to resume", unfinished)
        self._poller.start()

    async def stop(self) -> None:
        """Stop scheduling and let in-flight gateway and notifier calls finish (bounded). Idempotent."""
        await self._poller.stop()

    async def submit(self, task: NewTask, *, max_unfinished_for_requester: int | None = None) -> TaskRecord:
        """Write the row (unconfirmed) before anything goes out. Raises `DuplicateTaskError`, and
        `ActiveLimitError` when the requester already has `max_unfinished_for_requester` unfinished tasks."""
        now = self._clock()
        record = await self._store.insert(
            task,
            now=now,
            next_poll_at=now + timedelta(seconds=self._config.confirm_grace),
            max_unfinished_for_requester=max_unfinished_for_requester,
        )
        logger.info("task %s submitted (%s, %s)", task.key, task.task_type.api_name, task.model)
        return record

    async def confirm(self, key: str, *, message_id: int | None) -> None:
        """The front end showed the request: send the create now."""
        record = await self._store.confirm(key, message_id=message_id, now=self._clock())
        if record is None:
            logger.warning("task %s: confirm for an unknown key", key)
            return
        self._poller.wake()

    async def withdraw(self, key: str) -> bool:
        """The front end could not show the request: delete it if it was never sent."""
        return await self._lifecycle.withdraw(key)

    async def cancel(
        self, key: str, *, reason: str, by: int | None = None, by_name: str | None = None
    ) -> CancelResult:
        """Cancel a request, whether or not the gateway has it yet (see `CancelOutcome`); `by` and
        `by_name` say who asked, for the record and the status message."""
        result = await self._lifecycle.cancel(key, reason=reason, by=by, by_name=by_name)
        logger.info("task %s cancel requested: %s", key, result.outcome.value)
        return result

    async def get(self, key: str) -> TaskRecord | None:
        return await self._store.get(key)

    async def active_for_requester(self, requester_id: int) -> list[TaskRecord]:
        return await self._store.active_for_requester(requester_id)

    async def find_by_id(self, task_id: str) -> TaskRecord | None:
        """The task whose key or gateway task id is `task_id` (see `TaskStore.find_by_id`)."""
        return await self._store.find_by_id(task_id)

    async def find_by_prefix(
        self, prefix: str, *, guild_id: int, requester_id: int, channel_id: int | None = None
    ) -> list[TaskRecord]:
        """At most two tasks whose id starts with `prefix` (see `TaskStore.find_by_prefix`): two mean
        the prefix is ambiguous."""
        return await self._store.find_by_prefix(
            prefix, guild_id=guild_id, requester_id=requester_id, channel_id=channel_id, limit=2
        )

    async def recent_for_requester(
        self, requester_id: int, *, guild_id: int, offset: int, limit: int
    ) -> list[TaskRecord]:
        """The requester's tasks in this guild, newest first, finished or not (a page of them)."""
        return await self._store.recent_for_requester(
            requester_id, guild_id=guild_id, offset=offset, limit=limit
        )

    async def count_for_requester(self, requester_id: int, *, guild_id: int) -> int:
        return await self._store.count_for_requester(requester_id, guild_id=guild_id)

    async def was_forgotten(self, task_id: str) -> bool:
        """Whether a task with this key or gateway task id existed and was pruned."""
        return await self._store.was_forgotten(task_id)

    async def update_message(self, key: str, *, message_id: int | None, drop_reply_token: bool) -> None:
        """Record where the task is shown now (after a fallback), or forget an expired reply token."""
        await self._store.set_message(key, message_id=message_id, clear_reply_token=drop_reply_token)

    # -- what the front end keeps about results and users ---------------------------------------------

    async def set_reply_message(self, key: str, *, message_id: int) -> None:
        """Remember the result reply (or standalone result, or DM) posted for this task."""
        await self._store.set_reply_message(key, message_id=message_id)

    async def set_media(
        self, key: str, *, state: str, filename: str | None = None, note: str | None = None
    ) -> TaskRecord | None:
        """Record the re-hosted result file's state ("pending", "attached", "skipped"); see TaskRecord."""
        return await self._store.set_media(key, state=state, filename=filename, note=note)

    async def media_pending(self, *, limit: int) -> list[TaskRecord]:
        """Tasks whose file was being re-hosted when the last run stopped, oldest first."""
        return await self._store.media_pending(limit=limit)

    async def mark_deleted(self, key: str, *, by: int) -> None:
        """The result's messages were deleted by `by`: /show and the result buttons treat it as gone."""
        await self._store.mark_deleted(key, by=by, now=self._clock())

    async def notify_dm(self, user_id: int) -> bool:
        """Whether the user asked for a DM when their jobs end."""
        return await self._store.notify_dm(user_id)

    async def set_notify_dm(self, user_id: int, *, enabled: bool) -> None:
        await self._store.set_notify_dm(user_id, enabled=enabled, now=self._clock())

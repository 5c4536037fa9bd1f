"""The task store interface and the row it keeps per request.

The engine only talks to `TaskStore`. `SqliteTaskStore` (store/sqlite/) is the embedded store of one
process; `PostgresTaskStore` (store/postgres/) is the store several processes share. Both pass the
same contract suite (tests/engine/store/contract/).

Leases: a process works on a row only while it holds its lease (`lease_owner`, `lease_until`), which
it takes with a `claim_*` method; a report has its own lease (`report_owner`, `report_until`), so
the process that polls a task and the one that reports it may differ. A lease is taken in the same
statement that selects the row, so two owners never hold one at once; an expired lease (its owner
died) may be taken by anyone. Times are the callers' clocks: processes sharing a store must keep
their clocks in step (NTP) to well within the lease length.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus, TaskType
from bot.engine.store.leases import EVERY_ROW, LeaseKind, ReportScope, renewed_kinds

__all__ = [
    "EVERY_ROW",
    "ActiveLimitError",
    "DuplicateTaskError",
    "LeaseKind",
    "NewTask",
    "ReportScope",
    "SchemaTooNewError",
    "TaskRecord",
    "TaskStore",
    "UnknownTaskError",
    "renewed_kinds",
]


@dataclass(frozen=True, slots=True)
class NewTask:
    """What a front end hands the engine for one request. `key` is the idempotency key."""

    key: str
    task_type: TaskType
    model: str
    prompt: str
    requester_id: int
    channel_id: int
    guild_id: int | None = None
    input_assets: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    # Where the front end will show the task: a message id (once known) and a short-lived reply token.
    message_id: int | None = None
    reply_token: str | None = None
    reply_token_expires_at: datetime | None = None
    # The largest file the front end may upload for this request (Discord's per-interaction limit),
    # kept because no interaction exists when the result arrives; None when unknown.
    upload_limit: int | None = None
    origin_key: str | None = None  # the task this one was made from (a reroll, variation, animation)
    origin_action: str | None = None  # how: "reroll", "vary" or "animate"


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One row of the store: a request, what the gateway said of it, and what was reported."""

    key: str
    task_type: TaskType
    model: str
    prompt: str
    requester_id: int
    channel_id: int
    guild_id: int | None
    input_assets: dict[str, Any] | None
    metadata: dict[str, Any] | None
    message_id: int | None
    reply_token: str | None
    reply_token_expires_at: datetime | None

    task_id: str | None  # None until the gateway accepted the create
    status: TaskStatus | None  # last status seen from the gateway; None before the create's answer
    local_outcome: LocalOutcome | None  # set when the task ended without a gateway terminal status
    progress: str | None  # latest progress text from the events endpoint
    events_seen: int  # events already read (the offset for the next events call)
    result: ResultAssets | None
    error_code: str | None
    error_message: str | None

    confirmed: bool  # the front end has shown the request; the create may go out
    cancel_requested: bool  # a cancel arrived (maybe before the gateway knew the task)
    attempts: int  # consecutive failed gateway calls for this row (drives the backoff)

    created_at: datetime
    updated_at: datetime
    next_poll_at: datetime | None  # None once finished
    completed_at: datetime | None

    # Exactly-once reporting: what the notifier last acknowledged for this row.
    notified_status: TaskStatus | None
    notified_outcome: LocalOutcome | None
    notified_progress: str | None
    notify_due_at: datetime | None  # set while a report is owed; None when up to date

    extra: dict[str, Any] = field(default_factory=dict)

    processing_started_at: datetime | None = None  # when a poll first saw PROCESSING
    bad_reads: int = 0  # consecutive reads that could not be used (unreadable success, 404)
    maybe_created: bool = False  # a create attempt may have reached the gateway (its fate unknown)
    result_problem: str | None = None  # why a success's result could not be used, once final
    cancelled_by: int | None = None  # the user whose cancel was accepted first (requester or moderator)
    cancelled_by_name: str | None = None  # their display name then, to show without a ping
    upload_limit: int | None = None  # see NewTask
    origin_key: str | None = None
    origin_action: str | None = None
    reply_message_id: int | None = None  # the result reply (or standalone result) the front end posted
    # The result file re-hosted by the front end: None (not attempted), "pending", "attached" (shown
    # from `media_filename` in the status message) or "skipped" (kept as a link; `media_note` says why).
    media_state: str | None = None
    media_filename: str | None = None
    media_note: str | None = None
    lease_owner: str | None = None  # the process polling this row, until lease_until (see the module)
    lease_until: datetime | None = None
    report_owner: str | None = None  # the process reporting this row, until report_until
    report_until: datetime | None = None
    deleted_by: int | None = None  # who deleted the result's messages (requester or moderator)
    deleted_at: datetime | None = None  # then: /show and the buttons treat the result as gone
    # The waiting line: set while the request waits for one of its requester's tasks to end; the limit
    # it waits under; when it started running (TASK_MAX_AGE counts from then, else from created_at).
    waiting_since: datetime | None = None
    wait_limit: int | None = None
    started_at: datetime | None = None

    @property
    def is_finished(self) -> bool:
        return self.local_outcome is not None or (self.status is not None and self.status.is_terminal)

    @property
    def is_created(self) -> bool:
        return self.task_id is not None


class TaskStore(Protocol):
    """Persistence for task rows. Every method is one transaction; a crash never leaves half a change."""

    async def open(self) -> None:
        """Connect and migrate the schema to the latest version."""

    async def close(self) -> None:
        """Finish pending writes and close the connection."""

    async def insert(
        self,
        task: NewTask,
        *,
        now: datetime,
        next_poll_at: datetime | None,
        max_unfinished_for_requester: int | None = None,
    ) -> TaskRecord:
        """Write the row for a new request. Raises `DuplicateTaskError` when the key exists and
        `ActiveLimitError` when the requester already has that many unfinished rows (one transaction)."""

    async def get(self, key: str) -> TaskRecord | None: ...

    async def delete_unconfirmed(self, key: str) -> bool:
        """Delete the row only if it is unconfirmed and was never created at the gateway; True if it
        was deleted, False otherwise (unknown, confirmed or already sent)."""

    async def confirm(self, key: str, *, message_id: int | None, now: datetime) -> TaskRecord | None:
        """Mark the request shown and store its message id (None keeps the current one). A row not
        yet created (and unfinished) becomes due now; a created row keeps its schedule. None when the
        key is unknown."""

    async def set_message(self, key: str, *, message_id: int | None, clear_reply_token: bool) -> None:
        """Record where the front end now shows the task (after a fallback; None keeps the current id),
        and/or drop a dead reply token with its expiry. Unknown keys are ignored."""

    async def due_for_poll(self, *, now: datetime, limit: int, exclude: set[str]) -> list[TaskRecord]:
        """Unfinished rows (no local outcome, status None or not terminal) with next_poll_at <= now and
        key not in `exclude`, earliest next_poll_at first, at most `limit`."""

    async def due_for_notify(self, *, now: datetime, limit: int, exclude: set[str]) -> list[TaskRecord]:
        """Rows with notify_due_at <= now (finished ones included), key not in `exclude`, earliest
        first, at most `limit`."""

    async def next_wakeup(self, *, owner: str | None = None) -> datetime | None:
        """The earliest next_poll_at of an unfinished row or notify_due_at of any row, or None. With
        `owner`, rows whose poll (or report) lease another owner holds are left out."""

    # -- leases: what a process may work on (see the module) -----------------------------------

    async def claim_due_for_poll(
        self, *, owner: str, now: datetime, lease_until: datetime, limit: int, exclude: set[str]
    ) -> list[TaskRecord]:
        """Lease and return the rows `due_for_poll` would return (unfinished, next_poll_at <= now, key
        not in `exclude`, earliest first, at most `limit`) among those not leased by another owner
        (lease_owner NULL or `owner`, or lease_until <= now): lease_owner = owner, lease_until as given,
        in the statement that picks them, so concurrent claims never return the same row. Rows locked
        by a concurrent claim are skipped, not waited for."""

    async def claim_task(
        self, key: str, *, owner: str, now: datetime, lease_until: datetime
    ) -> TaskRecord | None:
        """Lease one row whatever its schedule (a user's cancel, a withdraw): the record when `owner`
        now holds its lease, None when the key is unknown or another owner's lease is still valid."""

    async def claim_due_for_notify(
        self,
        *,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        exclude: set[str],
        scope: ReportScope = EVERY_ROW,
    ) -> list[TaskRecord]:
        """Lease the reports `due_for_notify` would return (notify_due_at <= now, key not in
        `exclude`, earliest first, at most `limit`) among the rows in `scope` whose report lease is free,
        expired or `owner`'s: report_owner = owner, report_until as given, in one statement."""

    async def claim_report(
        self, key: str, *, owner: str, now: datetime, lease_until: datetime, scope: ReportScope = EVERY_ROW
    ) -> TaskRecord | None:
        """Lease one row's report if one is owed and due (notify_due_at <= now), the row is in `scope`
        and its report lease is free, expired or `owner`'s: the record, else None."""

    async def renew_leases(
        self, keys: Collection[str], *, owner: str, lease_until: datetime
    ) -> set[tuple[str, LeaseKind]]:
        """Extend to `lease_until` the poll and report leases `owner` still holds on these rows; which
        were extended, as (key, "poll" or "report"). A lease another owner took meanwhile is not
        touched (and not returned: that row is lost to `owner`)."""

    async def claim_cluster_job(self, name: str, *, owner: str, now: datetime, until: datetime) -> bool:
        """Whether `owner` may run the once-per-cluster job `name` (pruning, a command sync on start)
        now: True when no other owner's lease on it is still valid, in which case `owner` holds it until
        `until` (taking it over from a dead process once its lease ran out). With one process per
        store (SQLite) the answer is always True."""

    async def release_leases(self, *, owner: str) -> int:
        """Drop every poll and report lease `owner` holds (a clean stop), so other processes may take
        its rows at once; how many rows had one."""

    async def record_created(
        self, key: str, *, task_id: str, status: TaskStatus | None, now: datetime, next_poll_at: datetime
    ) -> TaskRecord:
        """Store the gateway's task id and status after a create (None: not known until a GET; used
        when the create answer is already terminal, since it carries no result), attempts = 0,
        progress cleared. A report is owed (notify_due_at = now, unless already due earlier) when
        status differs from notified_status or a progress text was shown. `UnknownTaskError` if unknown."""

    async def record_poll(
        self,
        key: str,
        *,
        status: TaskStatus,
        result: ResultAssets | None,
        error_code: str | None,
        error_message: str | None,
        progress: str | None,
        events_seen: int,
        now: datetime,
        next_poll_at: datetime | None,
        completed_at: datetime | None,
        result_problem: str | None = None,
    ) -> TaskRecord:
        """Store what a poll saw, every field as given (a terminal status comes with next_poll_at None),
        attempts = bad_reads = 0, processing_started_at = now when PROCESSING is first seen. When status
        differs from notified_status or progress from notified_progress, a report is owed
        (notify_due_at = now, unless already due earlier). A terminal status drops the poll lease (a
        finished row is never polled again). `UnknownTaskError` if unknown."""

    async def record_outcome(
        self,
        key: str,
        *,
        outcome: LocalOutcome,
        error_code: str | None,
        error_message: str | None,
        now: datetime,
    ) -> TaskRecord:
        """End a task locally (timed out, rejected, unreachable): next_poll_at None, completed_at = now,
        a report owed (notify_due_at = now, unless already due earlier), the poll lease dropped.
        `UnknownTaskError` if unknown."""

    async def record_failure(
        self,
        key: str,
        *,
        now: datetime,
        next_poll_at: datetime,
        bad_read: bool = False,
        maybe_created: bool = False,
        note: str | None = None,
    ) -> TaskRecord:
        """A gateway call for this row failed transiently: attempts += 1, next_poll_at as given;
        `bad_read` counts a read that could not be used (bad_reads += 1); `maybe_created` records that a
        create may have reached the gateway (never cleared); a `note` replaces the progress text, with
        a report owed when it differs from the one shown. `UnknownTaskError` for an unknown key."""

    async def request_cancel(
        self, key: str, *, now: datetime, by: int | None = None, by_name: str | None = None
    ) -> TaskRecord | None:
        """Flag a cancel and make the row due now if it is unfinished, recording who asked (the first
        one to ask is kept); a finished row is returned unchanged; None when the key is unknown."""

    async def mark_notified(
        self,
        key: str,
        *,
        status: TaskStatus | None,
        outcome: LocalOutcome | None,
        progress: str | None,
    ) -> None:
        """The notifier acknowledged this state: store it as notified_*, and clear notify_due_at only
        if the row's status, local outcome and progress still equal it (compare-and-clear in one
        transaction). If a poll landed meanwhile the report stays owed. When the acknowledged state is
        the row's final one, the reply token (a credential) and the report lease are cleared. Unknown
        keys are ignored."""

    async def defer_notify(self, key: str, *, notify_due_at: datetime) -> None:
        """The notifier failed: try the report again at `notify_due_at`. Unknown keys are ignored."""

    async def active_for_requester(self, requester_id: int) -> list[TaskRecord]:
        """The requester's unfinished rows, newest first."""

    async def find_by_id(self, task_id: str) -> TaskRecord | None:
        """The row whose key equals `task_id`, else whose gateway task id equals it (any case)."""

    async def find_by_prefix(
        self, prefix: str, *, guild_id: int, requester_id: int, channel_id: int | None = None, limit: int = 2
    ) -> list[TaskRecord]:
        """Rows of this guild whose key or gateway task id starts with `prefix` (any case; letters,
        digits, '-' and '_' only), among the requester's own rows and, with `channel_id`, the rows of
        that channel; newest first, at most `limit`."""

    async def prune_finished(self, *, completed_before: datetime, now: datetime, limit: int = 1000) -> int:
        """Delete up to `limit` finished rows completed before the given time whose reports are all
        delivered, leaving tombstones (see `was_forgotten`); returns how many. Unfinished rows and rows
        owing a report are never deleted; tombstones older than `completed_before` are."""

    async def count_unfinished(self) -> int: ...

    # -- what the front end keeps about results, history and users ----------------------------------

    async def set_reply_message(self, key: str, *, message_id: int) -> None:
        """Remember the result reply (or standalone result) posted for this task."""

    async def set_media(
        self, key: str, *, state: str, filename: str | None = None, note: str | None = None
    ) -> TaskRecord | None:
        """Record the re-hosted file's state (see `TaskRecord.media_state`); None for an unknown key."""

    async def media_pending(self, *, limit: int) -> list[TaskRecord]:
        """Rows whose re-hosting is pending (to resume after a restart), oldest first."""

    async def recent_for_requester(
        self, requester_id: int, *, guild_id: int, offset: int, limit: int
    ) -> list[TaskRecord]:
        """The requester's tasks in this guild, newest first, finished or not."""

    async def count_for_requester(self, requester_id: int, *, guild_id: int) -> int: ...

    async def mark_deleted(self, key: str, *, by: int, now: datetime) -> None:
        """The result's messages were deleted by `by`: keep it so (the first deletion is kept)."""

    async def notify_dm(self, user_id: int) -> bool:
        """Whether the user asked for a DM when their jobs end (False by default)."""

    async def set_notify_dm(self, user_id: int, *, enabled: bool, now: datetime) -> None: ...

    async def was_forgotten(self, task_id: str) -> bool:
        """Whether a task with this key or gateway task id existed and was pruned."""


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the bot; refuse to touch it."""

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"task database schema version {found} is newer than this code supports ({supported}); "
            "run a newer version of the bot or restore a matching backup"
        )
        self.found = found
        self.supported = supported


class ActiveLimitError(Exception):
    """The requester already has the allowed number of unfinished tasks; nothing was written."""

    def __init__(self, requester_id: int, limit: int) -> None:
        super().__init__(f"requester {requester_id} already has {limit} unfinished task(s)")
        self.requester_id = requester_id
        self.limit = limit


class DuplicateTaskError(Exception):
    """A row with this key already exists (the same interaction delivered twice)."""


class UnknownTaskError(LookupError):
    """No row has this key (a `record_*` method was called for a key the store does not hold)."""

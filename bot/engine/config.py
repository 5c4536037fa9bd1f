"""The engine's configuration (all durations in seconds) and its clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def utc_now() -> datetime:
    """The default clock of the engine: aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    poll_interval: float = 3.0  # seconds between polls of one task (gateway advises 2-5 s)
    max_in_flight: int = 32  # concurrent gateway calls made by the engine
    # Give up on a task after this (cancel it at the gateway, read it once more, tell what is known).
    # Also how long a create whose fate is unknown keeps being re-sent with its idempotency key.
    task_max_age: float = 7200.0
    progress_interval: float = 9.0  # at most one events call per task per this many seconds
    max_backoff: float = 60.0  # cap of the per-task backoff after failed calls
    bad_reads_limit: int = 3  # reads of an unreadable success (or 404s) before that is the final answer
    confirm_grace: float = 30.0  # an unconfirmed row is sent anyway after this
    notify_retry: float = 5.0  # first delay before re-trying a failed notifier call (then backoff)
    batch_size: int = 256  # rows read per scheduling pass
    stop_timeout: float = 10.0  # how long stop() lets in-flight calls finish before cancelling them
    # A final report the front end keeps refusing is abandoned (logged at ERROR) this long after the end.
    report_give_up_after: float = 24 * 3600.0
    retention: float | None = 90 * 86400.0  # finished rows older than this are pruned daily (None: kept)
    prune_every: float = 86400.0
    # How long a claim on a row lasts (renewed while the row is worked on): how soon the rows of a
    # process that died are taken over by the others sharing its store.
    lease_seconds: float = 30.0

    def __post_init__(self) -> None:
        positive = {
            "poll_interval": self.poll_interval,
            "max_in_flight": self.max_in_flight,
            "task_max_age": self.task_max_age,
            "progress_interval": self.progress_interval,
            "max_backoff": self.max_backoff,
            "bad_reads_limit": self.bad_reads_limit,
            "report_give_up_after": self.report_give_up_after,
            "prune_every": self.prune_every,
            "notify_retry": self.notify_retry,
            "batch_size": self.batch_size,
            "lease_seconds": self.lease_seconds,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if self.retention is not None and self.retention <= 0:
            raise ValueError(f"retention must be positive or None, got {self.retention!r}")
        if self.confirm_grace < 0 or self.stop_timeout < 0:
            raise ValueError("confirm_grace and stop_timeout must not be negative")

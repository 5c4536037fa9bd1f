"""Engine configuration and the timing policy: when to poll a task next, and how long to back off.

The policy never makes a healthy task wait longer than `poll_interval` for its next poll, except for
the first polls of a (task type, model) pair whose tasks have been seen to take a long time: those
start at a conservative lower bound of the durations observed so far, because a task cannot finish
before it (earlier polls would only cost requests). Errors back off exponentially with jitter.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.engine.errors import RateLimitedError
from bot.engine.models import TaskType


def utc_now() -> datetime:
    """The default clock of the engine: aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    poll_interval: float = 3.0  # seconds between polls of one task (gateway advises 2-5 s)
    max_in_flight: int = 32  # concurrent gateway calls made by the engine
    task_max_age: float = 7200.0  # give up (TIMED_OUT, and cancel at the gateway) after this
    progress_interval: float = 9.0  # at most one events call per task per this many seconds
    max_backoff: float = 60.0  # cap of the per-task backoff after failed calls
    create_give_up_after: float = 300.0  # a create still failing this long after the request -> UNREACHABLE
    confirm_grace: float = 30.0  # an unconfirmed row is sent anyway after this
    notify_retry: float = 5.0  # first delay before re-trying a failed notifier call (then backoff)
    batch_size: int = 256  # rows read per scheduling pass
    stop_timeout: float = 10.0  # how long stop() lets in-flight calls finish before cancelling them

    def __post_init__(self) -> None:
        positive = {
            "poll_interval": self.poll_interval,
            "max_in_flight": self.max_in_flight,
            "task_max_age": self.task_max_age,
            "progress_interval": self.progress_interval,
            "max_backoff": self.max_backoff,
            "create_give_up_after": self.create_give_up_after,
            "notify_retry": self.notify_retry,
            "batch_size": self.batch_size,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if self.confirm_grace < 0 or self.stop_timeout < 0:
            raise ValueError("confirm_grace and stop_timeout must not be negative")


# Learned durations: how many recent successful durations are kept per (task type, model), how many
# are needed before they are trusted, and which fraction of the fastest one is used as the lower bound.
DURATION_SAMPLES = 32
DURATION_MIN_SAMPLES = 5
DURATION_SAFETY_FACTOR = 0.75
# Retry-After values above this are treated as bogus (a gateway asking for an hour is not honoured).
RETRY_AFTER_CEILING = 600.0


class SchedulePolicy:
    """Computes poll times; keeps a small in-memory record of observed task durations."""

    def __init__(self, config: EngineConfig, *, rng: random.Random | None = None) -> None:
        self._config = config
        # Jitter only spreads load; it needs no cryptographic quality.
        self._rng = rng or random.Random()  # noqa: S311
        self._durations: dict[tuple[TaskType, str], deque[float]] = {}

    def learn_duration(self, task_type: TaskType, model: str, seconds: float) -> None:
        """Record how long a successful task took from create to completion."""
        if seconds <= 0:
            return
        samples = self._durations.setdefault((task_type, model), deque(maxlen=DURATION_SAMPLES))
        samples.append(seconds)

    def minimum_duration(self, task_type: TaskType, model: str) -> float:
        """A conservative lower bound of how long such a task takes (0 until enough were seen)."""
        samples = self._durations.get((task_type, model))
        if not samples or len(samples) < DURATION_MIN_SAMPLES:
            return 0.0
        return min(samples) * DURATION_SAFETY_FACTOR

    def first_poll_at(self, now: datetime, task_type: TaskType, model: str) -> datetime:
        """The first poll after a create: one interval on, give or take 10% so a burst of creates
        does not poll in lockstep (no earlier: a poll before the task could have run is wasted)."""
        jittered = self._config.poll_interval * self._rng.uniform(0.9, 1.1)
        delay = max(jittered, self.minimum_duration(task_type, model))
        return now + timedelta(seconds=delay)

    def next_poll_at(
        self, now: datetime, *, created_at: datetime, task_type: TaskType, model: str
    ) -> datetime:
        """The next poll of an unfinished task: one interval on, but not before the learned minimum."""
        regular = now + timedelta(seconds=self._config.poll_interval)
        earliest_finish = created_at + timedelta(seconds=self.minimum_duration(task_type, model))
        return max(regular, earliest_finish)

    def backoff_delay(self, attempts: int, error: BaseException | None = None) -> float:
        """Seconds to wait after `attempts` consecutive failures (>= 1); honours Retry-After."""
        if isinstance(error, RateLimitedError) and error.retry_after is not None and error.retry_after > 0:
            retry_after = min(error.retry_after, RETRY_AFTER_CEILING)
            return retry_after * self._rng.uniform(1.0, 1.1)
        return self._exponential(self._config.poll_interval, attempts)

    def backoff_until(self, now: datetime, attempts: int, error: BaseException | None = None) -> datetime:
        return now + timedelta(seconds=self.backoff_delay(attempts, error))

    def notify_retry_delay(self, failures: int) -> float:
        return self._exponential(self._config.notify_retry, failures)

    def _exponential(self, base: float, attempts: int) -> float:
        exponent = min(max(attempts, 1) - 1, 30)  # the cap keeps 2**n finite for huge counters
        capped = min(self._config.max_backoff, base * 2.0**exponent)
        # "Equal jitter": at least half the delay, so a failing task never hammers the gateway.
        return capped * self._rng.uniform(0.5, 1.0)

"""The timing policy: when to poll a task next, and how long to back off.

The policy never makes a healthy task wait longer than `poll_interval` for its next poll, except for
the first polls of a (task type, model) pair whose tasks have been seen to take a long time: those
start at a conservative lower bound of the durations observed so far, because a task cannot finish
before it (earlier polls would only cost requests). Errors back off exponentially with jitter.
"""

from __future__ import annotations

import random
from collections import deque
from datetime import datetime, timedelta

from bot.engine.api.errors import RateLimitedError
from bot.engine.api.models import TaskType
from bot.engine.config import EngineConfig
from bot.engine.retries import RETRY_AFTER_CEILING, equal_jitter, exponential_ceiling, jitter_source

# Learned durations: how many recent successful durations are kept per (task type, model), how many
# are needed before they are trusted, and which fraction of the fastest one is used as the lower bound.
DURATION_SAMPLES = 32
DURATION_MIN_SAMPLES = 5
DURATION_SAFETY_FACTOR = 0.75


class SchedulePolicy:
    """Computes poll times; keeps a small in-memory record of observed task durations."""

    def __init__(self, config: EngineConfig, *, rng: random.Random | None = None) -> None:
        self._config = config
        self._rng = rng or jitter_source
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
        return equal_jitter(exponential_ceiling(base, attempts, self._config.max_backoff), self._rng)


def describe_age(seconds: float) -> str:
    if seconds >= 120:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds)} seconds"

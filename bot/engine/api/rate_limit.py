"""Strict request pacing, so the bot never exceeds the gateway's requests-per-second allowance."""

from __future__ import annotations

import asyncio
import math
import time

#: Extra spacing (seconds, spread over one window) that absorbs jitter between the moment a request
#: leaves the bot and the moment the gateway counts it: without it, `ceil(rate) + 1` requests spaced
#: exactly `1/rate` apart would span exactly one second and could land in one server-side window.
DEFAULT_WINDOW_MARGIN = 0.05


class RequestRateLimiter:
    """Spaces request starts evenly: no bursts, at most `ceil(rate)` starts in any 1-second window.

    Waiters are served first come, first served: `asyncio.Lock` queues them in FIFO order, and the
    spacing is measured from the moment the previous waiter was actually released (not from its
    planned slot), so a late wake-up can never squeeze two starts closer together.
    """

    def __init__(self, rate_per_second: float, *, window_margin: float = DEFAULT_WINDOW_MARGIN) -> None:
        if not rate_per_second > 0 or math.isinf(rate_per_second):
            raise ValueError(f"rate_per_second must be a positive finite number, got {rate_per_second!r}")
        if window_margin < 0:
            raise ValueError("window_margin must not be negative")
        self._rate = float(rate_per_second)
        starts_per_window = math.ceil(self._rate)
        self._interval = max(1.0 / self._rate, (1.0 + window_margin) / starts_per_window)
        self._lock = asyncio.Lock()
        self._last_start: float | None = None

    @property
    def rate_per_second(self) -> float:
        return self._rate

    @property
    def interval(self) -> float:
        """The minimum number of seconds between two request starts."""
        return self._interval

    async def acquire(self) -> None:
        """Wait until the caller may start one request."""
        async with self._lock:
            now = time.monotonic()
            if self._last_start is not None:
                earliest = self._last_start + self._interval
                # asyncio.sleep may wake a hair early on some clocks: loop until the slot is really due.
                while now < earliest:
                    await asyncio.sleep(earliest - now)
                    now = time.monotonic()
            self._last_start = now

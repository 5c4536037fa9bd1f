"""Strict request pacing, so the bot never exceeds the gateway's requests-per-second allowance."""

from __future__ import annotations

import asyncio
import math
import time

#: Extra spacing (seconds, spread over one window) that absorbs jitter between the moment a request
#: leaves the bot and the moment the gateway counts it: without it, `ceil(rate) + 1` requests spaced
#: exactly `1/rate` apart would span exactly one second and could land in one server-side window.
DEFAULT_WINDOW_MARGIN = 0.05


def _check_rate(rate_per_second: float) -> float:
    if not rate_per_second > 0 or math.isinf(rate_per_second):
        raise ValueError(f"rate_per_second must be a positive finite number, got {rate_per_second!r}")
    return float(rate_per_second)


class RequestRateLimiter:
    """Spaces request starts evenly: no bursts, at most `ceil(rate)` starts in any 1-second window.

    Waiters are served first come, first served: `asyncio.Lock` queues them in FIFO order, and the
    spacing is measured from the moment the previous waiter was actually released (not from its
    planned slot), so a late wake-up can never squeeze two starts closer together.

    The rate can change at run time (`set_rate`: this process's share of a ceiling shared with other
    processes) and pacing can stop altogether (`pause`: a share not granted yet, or lost). A waiter
    re-reads the spacing each time it wakes, so a lower rate holds from the next start on.
    """

    def __init__(self, rate_per_second: float, *, window_margin: float = DEFAULT_WINDOW_MARGIN) -> None:
        if window_margin < 0:
            raise ValueError("window_margin must not be negative")
        self._window_margin = window_margin
        self._rate = _check_rate(rate_per_second)
        self._interval = self._interval_for(self._rate)
        self._lock = asyncio.Lock()
        self._last_start: float | None = None
        self._running = asyncio.Event()  # cleared while paused
        self._running.set()

    def _interval_for(self, rate: float) -> float:
        starts_per_window = math.ceil(rate)
        return max(1.0 / rate, (1.0 + self._window_margin) / starts_per_window)

    @property
    def rate_per_second(self) -> float:
        return self._rate

    @property
    def interval(self) -> float:
        """The minimum number of seconds between two request starts."""
        return self._interval

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def set_rate(self, rate_per_second: float) -> None:
        """Pace at this rate from the next start on (and resume if paused)."""
        self._rate = _check_rate(rate_per_second)
        self._interval = self._interval_for(self._rate)
        self._running.set()

    def pause(self) -> None:
        """Start nothing until `set_rate` is called; requests already started go on."""
        self._running.clear()

    async def acquire(self) -> None:
        """Wait until the caller may start one request."""
        async with self._lock:
            while True:
                if not self._running.is_set():
                    await self._running.wait()
                now = time.monotonic()
                if self._last_start is None or now >= self._last_start + self._interval:
                    break
                # asyncio.sleep may wake a hair early on some clocks, and the rate or pause may have
                # changed meanwhile: loop until the slot is really due under the current rate.
                await asyncio.sleep(self._last_start + self._interval - now)
            self._last_start = now

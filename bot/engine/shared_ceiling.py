"""One gateway ceiling (`GATEWAY_MAX_RPS`) for every process sharing a store.

Each process beats in a heartbeat table (`ProcessRegistry`, on PostgreSQL) about once a second and
paces its requests at ceiling / live processes, with its `RequestRateLimiter`. The sum stays under the
ceiling because every process that sends counts every process that sends:
- a process counts the rows that have not expired, its own included, and writes that count beside
  its row; registrations and beats are serialised in the database, so a beat after a joiner's
  registration always counts it;
- a joiner (or a process whose row expired) sends nothing until every other live process has written
  a count at least as large as its own: until then one of them may still pace for fewer processes;
- a process whose last good beat is older than half the expiry pauses, before the others can count it
  dead and take its share; a clean stop deletes its row, after its last request.
So a join or a death changes the split within an interval or two (join) or one expiry (death).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from bot.background import create_task
from bot.engine.api.rate_limit import RequestRateLimiter

logger = logging.getLogger(__name__)

BEAT_INTERVAL = 1.0
BEAT_EXPIRY = 5.0


@dataclass(frozen=True, slots=True)
class LiveProcess:
    owner: str
    live_count: int  # the live processes it counted at its last beat: it paces at ceiling / this


@dataclass(frozen=True, slots=True)
class Heartbeat:
    processes: tuple[LiveProcess, ...]  # every live process, the caller included
    joined: bool  # the caller's row was (re)created by this beat: it has to be counted again


class ProcessRegistry(Protocol):
    async def beat(self, owner: str, *, expiry: float) -> Heartbeat:
        """In one transaction serialised with every other beat: forget rows not beaten for `expiry`
        seconds (database clock), create or refresh the caller's row, count the rows, store that count
        as the caller's `live_count`, and return every row."""

    async def leave(self, owner: str) -> None:
        """Delete the caller's row (a clean stop): the others take its share at their next beat."""


class SharedCeiling:
    """Keeps `limiter` at this process's share of `ceiling` (see the module)."""

    def __init__(
        self,
        registry: ProcessRegistry,
        limiter: RequestRateLimiter,
        *,
        ceiling: float,
        owner: str,
        interval: float = BEAT_INTERVAL,
        expiry: float = BEAT_EXPIRY,
    ) -> None:
        if not 0 < interval < expiry / 2:
            raise ValueError("the beat interval must be positive and under half the expiry")
        self.limiter = limiter
        self._registry = registry
        self._ceiling = ceiling
        self._owner = owner
        self._interval = interval
        self._expiry = expiry
        self._fence = expiry / 2  # pause this long after the last good beat, well before others expire it
        self._granted = False
        self._last_good_beat: float | None = None  # time.monotonic() at which it was started
        self._task: asyncio.Task[None] | None = None

    @property
    def owner(self) -> str:
        return self._owner

    async def start(self) -> None:
        """Register (paused until this process's share is granted) and keep beating in the background."""
        self.limiter.pause()
        await self.beat_once()
        self._task = create_task(self._run(), name="shared-ceiling")

    async def stop(self) -> None:
        """Stop beating and delete this process's row; call it once this process sends no more."""
        await self.kill()
        self.limiter.pause()
        try:
            await self._registry.leave(self._owner)
        except Exception:
            logger.warning("could not leave the heartbeat table; the row expires in %.0f s", self._expiry)

    async def kill(self) -> None:
        """Stop beating without leaving, as a process that died would (for tests)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.beat_once()

    async def beat_once(self) -> None:
        """One beat, and the share it implies (paused while not granted)."""
        started = time.monotonic()
        last = self._last_good_beat
        if last is not None and started - last >= self._fence:
            # The others may count this process dead any moment now: send nothing until a beat tells.
            self.limiter.pause()
            last = None
        # A beat still running when the fence falls is given up, so the pause comes in time.
        budget = self._fence if last is None else last + self._fence - started
        try:
            async with asyncio.timeout(budget):
                beat = await self._registry.beat(self._owner, expiry=self._expiry)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._beat_failed(error)
            return
        self._last_good_beat = started
        live = len(beat.processes)
        if beat.joined:
            self._granted = False
        others_counted_us = all(p.live_count >= live for p in beat.processes if p.owner != self._owner)
        if not self._granted and others_counted_us:
            self._granted = True
            logger.info("gateway share granted: %d live process(es)", live)
        if self._granted:
            share = self._ceiling / live
            if share != self.limiter.rate_per_second or self.limiter.paused:
                logger.info("gateway share: %.2f req/s (%d live process(es))", share, live)
            self.limiter.set_rate(share)
        else:
            self.limiter.pause()

    def _beat_failed(self, error: BaseException) -> None:
        since = None if self._last_good_beat is None else time.monotonic() - self._last_good_beat
        if since is None or since >= self._fence:
            if not self.limiter.paused:
                logger.warning("no heartbeat for %.1f s: pausing gateway requests (%r)", since or 0.0, error)
            self._granted = False
            self.limiter.pause()
        else:
            logger.debug("heartbeat failed (%r); last good one %.1f s ago", error, since)

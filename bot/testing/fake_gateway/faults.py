"""Faults the fake gateway injects on demand, and holds that delay answers until released."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import Enum

#: Request kinds a fault or hold can be limited to.
KINDS = frozenset({"create", "get", "events", "cancel", "other"})


class FaultAction(Enum):
    FAIL = "fail"  # answer `status` without processing the request
    RATE_LIMIT = "rate_limit"  # answer 429 with Retry-After, without processing
    SLOW = "slow"  # process, then wait `delay` seconds before answering
    MALFORMED = "malformed"  # process, then answer 200 with a body that is not JSON


@dataclass(slots=True)
class Fault:
    action: FaultAction
    remaining: int
    kind: str | None = None
    method: str | None = None
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0

    def matches(self, method: str, kind: str) -> bool:
        return (
            self.remaining > 0
            and (self.kind is None or self.kind == kind)
            and (self.method is None or self.method == method)
        )


class FaultQueue:
    """Faults in the order they were added; each matching request consumes one unit of the first match."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.kind is not None and fault.kind not in KINDS:
            raise ValueError(f"unknown request kind {fault.kind!r}; use one of {sorted(KINDS)}")
        self._faults.append(fault)
        return fault

    def take(self, method: str, kind: str, *, before_processing: bool) -> Fault | None:
        early = {FaultAction.FAIL, FaultAction.RATE_LIMIT}
        for fault in self._faults:
            if (fault.action in early) == before_processing and fault.matches(method, kind):
                fault.remaining -= 1
                return fault
        return None

    def pending(self) -> int:
        return sum(fault.remaining for fault in self._faults)

    def clear(self) -> None:
        self._faults.clear()


@dataclass(eq=False)
class Hold:
    """Answers to requests of `kind` wait (after the request was processed) until `release()`."""

    kind: str
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0
    _held_changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def released(self) -> bool:
        return self._released.is_set()

    def release(self) -> None:
        self._released.set()

    async def wait_released(self) -> None:
        await self._released.wait()

    async def note_held(self) -> None:
        async with self._held_changed:
            self.held += 1
            self._held_changed.notify_all()

    async def wait_held(self, count: int = 1, within: float = 5.0) -> None:
        """Wait until `count` answers are being held (the requests were processed by then)."""
        async with asyncio.timeout(within), self._held_changed:
            await self._held_changed.wait_for(lambda: self.held >= count)

    async def __aenter__(self) -> Hold:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()

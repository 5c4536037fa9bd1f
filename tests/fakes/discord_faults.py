"""Failures and delays the fake Discord injects on demand: HTTP errors, reset connections, held answers.

Tests arm them by route kind (the kinds of the route table in discord_rest.py: channel_message, webhook,
dm_create, ...) and, optionally, by HTTP method: channel message edits are ("channel_message", "PATCH"),
channel sends ("channel_message", "POST"), token-route edits ("webhook", "PATCH")::

    fake.faults.fail_next("channel_message", status=400, code=50083, method="PATCH")
    fake.faults.abort_next("webhook", 2, method="PATCH")    # connection reset, no HTTP answer
    hold = fake.faults.hold("channel_message", method="POST")  # answered only after hold.release()
"""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass, field

from aiohttp import web

# RecordedCall.status of a request whose connection was reset instead of answered.
ABORTED = 0


@dataclass
class Fault:
    """The next `remaining` matching requests fail: with `status` and a Discord JSON error, or, when
    `status` is None, by a reset connection."""

    kind: str
    method: str | None
    remaining: int
    status: int | None
    code: int = 0
    message: str = ""
    # Resets only: the request takes effect (a message is created or edited) and only the answer is lost.
    after_processing: bool = False
    path: str | None = None  # only requests whose path contains this, e.g. one channel's "/channels/1/"

    def matches(self, kind: str, method: str, path: str) -> bool:
        return (
            self.kind == kind and self.method in (None, method) and (self.path is None or self.path in path)
        )

    @property
    def aborts(self) -> bool:
        return self.status is None


@dataclass
class Hold:
    """Matching requests are processed (their effect is visible in the fake) but not answered until
    `release()`; `waiting` counts those held right now, `held` all held since the hold was armed."""

    kind: str
    method: str | None
    released: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0
    held: int = 0
    path: str | None = None  # only requests whose path contains this, e.g. one channel's "/channels/1/"

    def matches(self, kind: str, method: str, path: str) -> bool:
        return (
            not self.released.is_set()
            and self.kind == kind
            and self.method in (None, method)
            and (self.path is None or self.path in path)
        )

    def release(self) -> None:
        self.released.set()

    async def wait(self) -> None:
        self.waiting += 1
        self.held += 1
        try:
            await self.released.wait()
        finally:
            self.waiting -= 1


class Faults:
    """What the fake's HTTP front end consults for every request (see module docstring)."""

    def __init__(self) -> None:
        self.armed: list[Fault] = []
        self.holds: list[Hold] = []

    def fail_next(
        self,
        kind: str,
        n: int = 1,
        *,
        status: int,
        code: int,
        message: str = "Injected failure",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """The next `n` requests of `kind` (and `method`, and with `path` in their path) answer
        `status` with `{"code", "message"}`."""
        if status < 400:
            raise ValueError(f"a failure needs a 4xx or 5xx status, got {status}")
        self.armed.append(Fault(kind, method, n, status, code, message, path=path))

    def abort_next(
        self,
        kind: str,
        n: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        after_processing: bool = False,
    ) -> None:
        """The next `n` requests of `kind` (and `method`, and with `path` in their path) get their TCP
        connection reset, no answer.

        discord.py then raises `aiohttp.ClientOSError` (ECONNRESET); it does not retry that on Linux.
        """
        self.armed.append(Fault(kind, method, n, None, after_processing=after_processing, path=path))

    def hold(self, kind: str, *, method: str | None = None, path: str | None = None) -> Hold:
        hold = Hold(kind, method, path=path)
        self.holds.append(hold)
        return hold

    def release_all(self) -> None:
        for hold in self.holds:
            hold.release()

    def take(self, kind: str, method: str, path: str) -> Fault | None:
        """The armed fault for this request, counted as used; None when the request goes through."""
        for fault in self.armed:
            if fault.matches(kind, method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.armed.remove(fault)
                return fault
        return None

    def hold_for(self, kind: str, method: str, path: str) -> Hold | None:
        return next((hold for hold in self.holds if hold.matches(kind, method, path)), None)


def reset_connection(request: web.Request) -> None:
    """Close the client's TCP connection with a reset (SO_LINGER 0), so no HTTP answer ever arrives."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()

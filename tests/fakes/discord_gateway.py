"""Gateway websocket of the fake Discord: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, RESUME.

Every dispatch goes through one ordered outbox: an event emitted by a synchronous change (a grant, a new
thread) is sent before any event emitted after it, on every connection, and READY and GUILD_CREATE are
built when their turn comes, so they already hold every change made before them. Events are routed by
shard and filtered by intents (discord_shards.py); `connections` keeps every connection with what it got.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_payloads import guild_create_payload, members_chunk
from tests.fakes.discord_shards import GUILDS_INTENT, ShardIdentity

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.discord_guilds import FakeGuild

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_RESUME = 6
OP_REQUEST_GUILD_MEMBERS = 8
OP_RECONNECT = 7
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_INVALID_SHARD = 4010

Payload = Callable[["GatewaySession"], Any]


@dataclass
class DispatchedEvent:
    name: str
    data: Any
    sequence: int

    @property
    def guild_id(self) -> int | None:
        """The guild the event is about (GUILD_CREATE carries it as `id`)."""
        if not isinstance(self.data, dict):
            return None
        raw = self.data.get("id") if self.name == "GUILD_CREATE" else self.data.get("guild_id")
        return int(raw) if raw is not None else None


@dataclass
class GatewaySession:
    """One websocket connection; `identity` is its shard and intents once identified or resumed."""

    ws: web.WebSocketResponse
    session_id: str | None = None
    sequence: int = 0
    identified: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)  # frames from the client
    identity: ShardIdentity = field(default_factory=ShardIdentity)
    dispatched: list[DispatchedEvent] = field(default_factory=list)  # events sent to the client

    @property
    def shard_id(self) -> int:
        return self.identity.shard_id

    @property
    def shard_count(self) -> int:
        return self.identity.shard_count

    @property
    def open(self) -> bool:
        return not self.ws.closed

    def events(self, name: str) -> list[DispatchedEvent]:
        return [e for e in self.dispatched if e.name == name]

    def guild_ids(self, name: str) -> list[int]:
        """The guilds of the `name` events this connection got, in order (None-free)."""
        return [e.guild_id for e in self.events(name) if e.guild_id is not None]

    async def send_op(self, op: int, data: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": data, "s": None, "t": None}))

    async def dispatch(self, event: str, data: Any) -> None:
        self.sequence += 1
        self.dispatched.append(DispatchedEvent(event, data, self.sequence))
        await self.ws.send_str(json.dumps({"op": OP_DISPATCH, "d": data, "s": self.sequence, "t": event}))


@dataclass
class Outgoing:
    targets: list[GatewaySession]
    event: str
    payload: Payload
    sent: asyncio.Future[None]


class Gateway:
    def __init__(self, fake: FakeDiscord, *, heartbeat_interval_ms: int = 41250) -> None:
        self.fake = fake
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: list[GatewaySession] = []  # open connections
        self.connections: list[GatewaySession] = []  # every connection ever, in order
        self.identities: dict[str, ShardIdentity] = {}  # by session id, for RESUME
        self.identify_count = 0
        self.resume_count = 0
        self.connected = asyncio.Event()
        self._outbox: deque[Outgoing] = deque()
        self._flusher: asyncio.Task[None] | None = None

    @property
    def known_session_ids(self) -> set[str]:
        return set(self.identities)

    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions if s.identified and not s.ws.closed]

    def routes(self, event: str, data: Any, guild_id: int | None) -> list[GatewaySession]:
        """The live connections that get `event`: those owning the guild's shard and whose intents
        let it through."""
        bot_id = self.fake.bot_user.id
        return [
            s
            for s in self.live_sessions
            if s.identity.owns(guild_id) and s.identity.wants(event, data, bot_user_id=bot_id)
        ]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        session = GatewaySession(ws)
        self.sessions.append(session)
        self.connections.append(session)
        try:
            await session.send_op(OP_HELLO, {"heartbeat_interval": self.heartbeat_interval_ms})
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                session.received.append(message)
                await self._on_message(session, message)
        finally:
            self.sessions.remove(session)
            if not self.live_sessions:
                self.connected.clear()
        return ws

    async def _on_message(self, session: GatewaySession, message: dict[str, Any]) -> None:
        op, data = message.get("op"), message.get("d")
        if op == OP_HEARTBEAT:
            await session.send_op(OP_HEARTBEAT_ACK, None)
        elif op == OP_IDENTIFY:
            await self._identify(session, data or {})
        elif op == OP_RESUME:
            await self._resume(session, data or {})
        elif op == OP_REQUEST_GUILD_MEMBERS:
            await self._request_members(session, data or {})

    async def _identify(self, session: GatewaySession, data: dict[str, Any]) -> None:
        if data.get("token") != self.fake.token:
            await session.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        shard = data.get("shard")
        if shard is not None and not (
            len(shard) == 2 and int(shard[1]) > 0 and 0 <= int(shard[0]) < int(shard[1])
        ):
            await session.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return
        self.identify_count += 1
        session.session_id = secrets.token_hex(16)
        session.identity = ShardIdentity(
            shard_id=int(shard[0]) if shard else 0,
            shard_count=int(shard[1]) if shard else 1,
            # Discord requires intents since v8; the fake takes their absence for `guilds` alone.
            intents=int(data.get("intents", GUILDS_INTENT)),
            sharded=shard is not None,
        )
        self.identities[session.session_id] = session.identity
        # Routable from now on: whatever is emitted next is queued behind READY and GUILD_CREATE.
        session.identified = True
        owned = [g for g in self.fake.guilds.values() if session.identity.owns(g.id)]
        written = self._enqueue([session], "READY", lambda s: self._ready_payload(s, [g.id for g in owned]))
        if session.identity.intents & GUILDS_INTENT:
            for guild in owned:
                written = self._enqueue([session], "GUILD_CREATE", self.guild_create(guild))
        await written
        self.connected.set()

    def guild_create(self, guild: FakeGuild) -> Payload:
        """GUILD_CREATE, built for each connection (its intents decide the member list)."""

        def build(session: GatewaySession) -> dict[str, Any]:
            return guild_create_payload(self.fake, guild, all_members=session.identity.lists_all_members)

        return build

    def _ready_payload(self, session: GatewaySession, guild_ids: list[int]) -> dict[str, Any]:
        fake = self.fake
        body: dict[str, Any] = {
            "v": 10,
            "user": fake.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(guild_id), "unavailable": True} for guild_id in guild_ids],
            "session_id": session.session_id,
            "resume_gateway_url": fake.gateway_url,
            "application": {"id": str(fake.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "session_type": "normal",
            "_trace": ["fake-discord"],
        }
        if session.identity.sharded:
            body["shard"] = [session.shard_id, session.shard_count]
        return body

    async def _resume(self, session: GatewaySession, data: dict[str, Any]) -> None:
        identity = self.identities.get(str(data.get("session_id")))
        if data.get("token") != self.fake.token or identity is None:
            await session.send_op(OP_INVALID_SESSION, False)
            return
        self.resume_count += 1
        session.session_id = data["session_id"]
        session.sequence = int(data.get("seq") or 0)
        session.identity = identity
        session.identified = True
        await self._enqueue([session], "RESUMED", lambda s: {"_trace": ["fake-discord"]})
        self.connected.set()

    async def _request_members(self, session: GatewaySession, data: dict[str, Any]) -> None:
        """Op 8 (discord.py sends it at start-up with the members intent): one GUILD_MEMBERS_CHUNK."""
        guild = self.fake.guilds.get(int(data.get("guild_id") or 0))
        if guild is None or not session.identity.owns(guild.id):
            return
        await self._enqueue([session], "GUILD_MEMBERS_CHUNK", lambda s: members_chunk(self.fake, guild, data))

    # ---- the outbox --------------------------------------------------------------------------
    def _enqueue(self, targets: list[GatewaySession], event: str, payload: Payload) -> asyncio.Future[None]:
        """Queue `event` for `targets`; the future resolves once it is written (or skipped)."""
        sent = asyncio.get_running_loop().create_future()
        self._outbox.append(Outgoing(targets, event, payload, sent))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return sent

    async def _flush(self) -> None:
        while self._outbox:
            item = self._outbox.popleft()
            try:
                for session in item.targets:
                    if session.ws.closed:
                        continue
                    # A client that went away meanwhile misses the event, as it would on Discord.
                    with contextlib.suppress(ConnectionResetError):
                        await session.dispatch(item.event, item.payload(session))
            finally:
                if not item.sent.done():
                    item.sent.set_result(None)

    def emit(self, event: str, data: Any, *, guild_id: int | None) -> None:
        """Send `event` (a payload, or a function of the connection building it) to the connections
        that get it, after everything emitted before; nothing happens when none is connected."""
        targets = self.routes(event, data, guild_id)
        if targets:
            payload: Payload = data if callable(data) else (lambda s: data)
            self._enqueue(targets, event, payload)

    async def dispatch(self, event: str, data: Any, *, guild_id: int | None = None) -> None:
        """Send `event` like emit() and wait until it is written; there must be a connection for it."""
        targets = self.routes(event, data, guild_id)
        if not targets:
            raise RuntimeError(f"no bot connected to the fake gateway receives {event} of guild {guild_id}")
        await self._enqueue(targets, event, lambda s: data)

    async def wait_until_routed(self, guild_id: int | None, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a connection owns `guild_id` (its shard identified); None means DMs, shard 0."""
        deadline = time.monotonic() + timeout
        while not any(s.identity.owns(guild_id) for s in self.live_sessions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no connection for guild {guild_id} within {timeout}s")
            await asyncio.sleep(0.01)

    async def request_reconnect(self) -> None:
        """Ask every connected client to reconnect and resume (op 7), like Discord does at times."""
        for session in self.live_sessions:
            session.identified = False
            await session.send_op(OP_RECONNECT, None)

    async def close_all(self, code: int = 1001) -> None:
        for session in list(self.sessions):
            await session.ws.close(code=code)
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        # Nothing queued will be written any more: release whoever waits for it.
        for item in self._outbox:
            if not item.sent.done():
                item.sent.set_result(None)
        self._outbox.clear()

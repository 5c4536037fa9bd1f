"""Gateway websocket of the fake Discord: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, RESUME."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_RESUME = 6
OP_RECONNECT = 7
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11
CLOSE_AUTHENTICATION_FAILED = 4004


@dataclass
class GatewaySession:
    ws: web.WebSocketResponse
    session_id: str | None = None
    sequence: int = 0
    identified: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)

    async def send_op(self, op: int, data: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": data, "s": None, "t": None}))

    async def dispatch(self, event: str, data: Any) -> None:
        self.sequence += 1
        await self.ws.send_str(json.dumps({"op": OP_DISPATCH, "d": data, "s": self.sequence, "t": event}))


class Gateway:
    def __init__(self, fake: FakeDiscord, *, heartbeat_interval_ms: int = 41250) -> None:
        self.fake = fake
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: list[GatewaySession] = []
        self.known_session_ids: set[str] = set()
        self.identify_count = 0
        self.resume_count = 0
        self.connected = asyncio.Event()

    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions if s.identified and not s.ws.closed]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        session = GatewaySession(ws)
        self.sessions.append(session)
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

    async def _identify(self, session: GatewaySession, data: dict[str, Any]) -> None:
        if data.get("token") != self.fake.token:
            await session.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        self.identify_count += 1
        session.session_id = secrets.token_hex(16)
        self.known_session_ids.add(session.session_id)
        fake = self.fake
        await session.dispatch(
            "READY",
            {
                "v": 10,
                "user": fake.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(fake.guild_id), "unavailable": True}],
                "session_id": session.session_id,
                "resume_gateway_url": fake.gateway_url,
                "application": {"id": str(fake.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "session_type": "normal",
                "shard": [0, 1],
                "_trace": ["fake-discord"],
            },
        )
        await session.dispatch("GUILD_CREATE", fake.guild_create_payload())
        session.identified = True
        self.connected.set()

    async def _resume(self, session: GatewaySession, data: dict[str, Any]) -> None:
        if data.get("token") != self.fake.token or data.get("session_id") not in self.known_session_ids:
            await session.send_op(OP_INVALID_SESSION, False)
            return
        self.resume_count += 1
        session.session_id = data["session_id"]
        session.sequence = int(data.get("seq") or 0)
        await session.dispatch("RESUMED", {"_trace": ["fake-discord"]})
        session.identified = True
        self.connected.set()

    async def dispatch(self, event: str, data: Any) -> None:
        sessions = self.live_sessions
        if not sessions:
            raise RuntimeError(f"no bot is connected to the fake gateway to receive {event}")
        for session in sessions:
            await session.dispatch(event, data)

    async def request_reconnect(self) -> None:
        """Ask every connected client to reconnect and resume (op 7), like Discord does at times."""
        for session in self.live_sessions:
            session.identified = False
            await session.send_op(OP_RECONNECT, None)

    async def close_all(self, code: int = 1001) -> None:
        for session in list(self.sessions):
            await session.ws.close(code=code)

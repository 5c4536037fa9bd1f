"""A fake Discord (REST API + gateway websocket) on 127.0.0.1 for end-to-end tests with real discord.py.

Usage::

    async with FakeDiscord() as fake:
        install(fake, monkeypatch)
        async with run_bot(bot, fake):
            interaction = await fake.slash_command("imagine", {"prompt": "a cat"}, user=fake.user("alice"))
            message = await fake.wait_for_message(lambda m: m.interaction_id == interaction.id)

Modules: discord_model (data), discord_rules (limits, mentions), discord_http (routing, rate limits),
discord_messages (create/edit), discord_rest (handlers), discord_gateway (websocket), discord_payloads,
discord_faults (`fake.faults`: injected errors, reset connections, held answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import discord
import pytest
import yarl
from aiohttp import web

from tests.fakes.discord_faults import Faults
from tests.fakes.discord_gateway import Gateway
from tests.fakes.discord_http import ForcedLimit, HttpFrontend, RateLimits
from tests.fakes.discord_messages import MessageStore
from tests.fakes.discord_model import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    EVERYONE_DEFAULT,
    FakeAttachment,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    RecordedCall,
    Snowflakes,
)
from tests.fakes.discord_payloads import command_data, guild_create_payload, interaction_base
from tests.fakes.discord_rest import RestHandlers

__all__ = [
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeInteraction",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "install",
    "installed",
    "run_bot",
]

T = TypeVar("T")
BotT = TypeVar("BotT", bound=discord.Client)

DEFAULT_TOKEN = "fake-bot-token"
DEFAULT_CHANNELS = ("general", "imagine", "mod-log")
DEFAULT_USERS = ("alice", "bob", "carol")


class FakeDiscord:
    """One guild, a few channels and users, a bot application; see module docstring."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        callback_deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        channels: tuple[str, ...] = DEFAULT_CHANNELS,
        users: tuple[str, ...] = DEFAULT_USERS,
        heartbeat_interval_ms: int = 41250,
        nonce_window: float = 300.0,
    ) -> None:
        self.token = token
        # How long a send with `enforce_nonce` returns the earlier message ("a few minutes", per Discord).
        self.nonce_window = nonce_window
        self.callback_deadline = callback_deadline
        self.token_lifetime = token_lifetime
        self.snowflakes = Snowflakes()
        self.application_id = self.snowflakes.next()
        self.bot_user = FakeUser(self.application_id, "MindProxyBot", bot=True)
        self.owner = FakeUser(self.snowflakes.next(), "owner")
        self.guild_id = self.snowflakes.next()
        self.guild_name = "Fake Guild"
        self.users_by_id: dict[int, FakeUser] = {u.id: u for u in (self.bot_user, self.owner)}
        self.users_by_name: dict[str, FakeUser] = {}
        self.roles_by_id: dict[int, FakeRole] = {
            self.guild_id: FakeRole(self.guild_id, "@everyone", EVERYONE_DEFAULT, 0),
        }
        self.channels_by_id: dict[int, FakeChannel] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.messages_by_id: dict[int, FakeMessage] = {}
        self.interactions_by_id: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.calls: list[RecordedCall] = []
        self.rate_limits = RateLimits()
        self.faults = Faults()  # injected HTTP errors, reset connections and held answers
        self.add_role("Artists")
        for name in channels:
            self.add_channel(name)
        for name in users:
            self.add_user(name)
        self.store = MessageStore(self)
        self.http = HttpFrontend(self)
        RestHandlers(self).register(self.http)
        self.gateway = Gateway(self, heartbeat_interval_ms=heartbeat_interval_ms)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.http.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        self.faults.release_all()  # a held request would keep the server's shutdown waiting
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def rest_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---- model -----------------------------------------------------------------------------------
    def add_user(self, name: str, *, roles: tuple[str, ...] = (), dms_open: bool = True) -> FakeUser:
        user = FakeUser(
            self.snowflakes.next(), name, dms_open=dms_open, role_ids=[self.role(r).id for r in roles]
        )
        self.users_by_id[user.id] = user
        self.users_by_name[name] = user
        return user

    def add_role(self, name: str, *, permissions: int = 0, mentionable: bool = True) -> FakeRole:
        role = FakeRole(self.snowflakes.next(), name, permissions, len(self.roles_by_id), mentionable)
        self.roles_by_id[role.id] = role
        return role

    def add_channel(self, name: str) -> FakeChannel:
        channel = FakeChannel(self.snowflakes.next(), name, self.guild_id, position=len(self.channels_by_id))
        self.channels_by_id[channel.id] = channel
        return channel

    def user(self, name: str) -> FakeUser:
        return self.users_by_name[name]

    def role(self, name: str) -> FakeRole:
        return next(r for r in self.roles_by_id.values() if r.name == name)

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles_by_id[self.guild_id]

    def channel(self, name: str) -> FakeChannel:
        return next(c for c in self.channels_by_id.values() if c.name == name)

    def give_role(self, user: FakeUser, role_name: str) -> None:
        user.role_ids.append(self.role(role_name).id)

    def grant(self, user: FakeUser, channel: FakeChannel, permissions: int) -> None:
        """Give `user` extra permission bits in `channel` (e.g. MANAGE_MESSAGES)."""
        channel.user_allow[user.id] = channel.user_allow.get(user.id, 0) | permissions

    def forbid_channel(self, channel: FakeChannel) -> None:
        """The bot loses access: every channel route on it answers 403 / 50001."""
        channel.forbidden = True

    def permissions_in(self, user: FakeUser, channel: FakeChannel) -> int:
        if channel.guild_id is None:
            return EVERYONE_DEFAULT
        bits = self.everyone_role.permissions
        for role_id in user.role_ids:
            bits |= self.roles_by_id[role_id].permissions
        if user.id == self.owner.id or bits & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return bits | channel.user_allow.get(user.id, 0)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        if user.id not in self.dm_channels:
            channel = FakeChannel(
                self.snowflakes.next(), f"dm-{user.name}", None, type=1, recipient_id=user.id
            )
            self.dm_channels[user.id] = channel
            self.channels_by_id[channel.id] = channel
        return self.dm_channels[user.id]

    def guild_create_payload(self) -> dict[str, Any]:
        return guild_create_payload(self)

    # ---- messages --------------------------------------------------------------------------------
    def messages_in(self, channel: FakeChannel, *, include_deleted: bool = False) -> list[FakeMessage]:
        return [
            m
            for m in self.messages_by_id.values()
            if m.channel_id == channel.id and (include_deleted or not m.deleted)
        ]

    def message(self, message_id: int) -> FakeMessage:
        return self.messages_by_id[message_id]

    def delete_message(self, message_id: int) -> None:
        """A moderator deletes the message; later bot edits get 404 / 10008."""
        message = self.messages_by_id[message_id]
        message.deleted, message.deleted_by = True, "moderator"

    def calls_of(self, kind: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.kind == kind]

    # ---- interactions ----------------------------------------------------------------------------
    def expire_token(self, token_or_interaction: str | FakeInteraction) -> None:
        token = (
            token_or_interaction.token
            if isinstance(token_or_interaction, FakeInteraction)
            else token_or_interaction
        )
        self.interactions_by_token[token].token_expired = True

    async def _dispatch_interaction(
        self, kind: int, user: FakeUser, channel: FakeChannel, data: dict[str, Any], extra: dict[str, Any]
    ) -> FakeInteraction:
        await asyncio.wait_for(self.gateway.connected.wait(), timeout=5)
        interaction_id = self.snowflakes.next()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        payload = (
            interaction_base(
                self, interaction_id=interaction_id, token=token, kind=kind, user=user, channel=channel
            )
            | {"data": data}
            | extra
        )
        interaction = FakeInteraction(interaction_id, token, kind, user, channel, payload)
        self.interactions_by_id[interaction_id] = interaction
        self.interactions_by_token[token] = interaction
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return interaction

    async def slash_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser | str,
        channel: FakeChannel | str = "general",
        attachments: dict[str, FakeAttachment] | None = None,
        option_types: dict[str, int] | None = None,
        guild_command: bool = False,
    ) -> FakeInteraction:
        """Dispatch INTERACTION_CREATE type 2. Values: str->3, int->4, bool->5, FakeAttachment->11..."""
        user = self.user(user) if isinstance(user, str) else user
        channel = self.channel(channel) if isinstance(channel, str) else channel
        all_options = dict(options or {}) | dict(attachments or {})
        data = command_data(self, name, all_options, option_types or {}, guild_command=guild_command)
        return await self._dispatch_interaction(2, user, channel, data, {})

    async def click_button(
        self, message: FakeMessage | int, custom_id: str, *, user: FakeUser | str
    ) -> FakeInteraction:
        """Dispatch INTERACTION_CREATE type 3 for a button on a stored message."""
        user = self.user(user) if isinstance(user, str) else user
        stored = self.message(message) if isinstance(message, int) else message
        channel = self.channels_by_id[stored.channel_id]
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._dispatch_interaction(
            3, user, channel, data, {"message": self.store.payload(stored)}
        )

    # ---- rate limits -----------------------------------------------------------------------------
    def channel_rate_limit(self, limit: int = 5, per: float = 5.0) -> None:
        self.rate_limits.per_kind_config["channel_message"] = (limit, per)

    def webhook_rate_limit(self, limit: int = 5, per: float = 2.0) -> None:
        self.rate_limits.per_kind_config["webhook"] = (limit, per)

    def force_rate_limit(
        self, route_kind: str, n: int = 1, retry_after: float = 0.1, *, via: bool = True
    ) -> None:
        """The next `n` requests of `route_kind` get 429.

        Kinds: channel_message, webhook, interaction_callback, login, commands, dm_create, users.
        Without `via` discord.py takes it for a Cloudflare ban and raises HTTPException at once.
        """
        self.rate_limits.forced.setdefault(route_kind, []).append(ForcedLimit(n, retry_after, via))

    @property
    def rate_limited_count(self) -> int:
        return self.rate_limits.sent_429

    # ---- waiting ---------------------------------------------------------------------------------
    # A polling helper for tests: the timeout parameter is its whole point.
    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109
        interval: float = 0.02,
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(interval)

    async def wait_for_message(
        self,
        predicate: Callable[[FakeMessage], bool] = lambda m: True,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> FakeMessage:
        def find() -> FakeMessage | None:
            return next((m for m in self.messages_by_id.values() if predicate(m)), None)

        found = await self.wait_for(find, timeout=timeout)
        assert found is not None
        return found


def install(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point discord.py's REST base (webhook/interaction routes included) and gateway at the fake."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake.rest_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))


@contextlib.contextmanager
def installed(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Same as install() for code without a monkeypatch fixture; restores discord.py on exit."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        install(fake, monkeypatch)
        yield fake


@contextlib.asynccontextmanager
async def run_bot(
    bot: BotT,
    fake: FakeDiscord,
    *,
    token: str | None = None,
    ready_timeout: float = 5.0,
    guild_ready_timeout: float | None = 0.05,
) -> AsyncIterator[BotT]:
    """Run `bot.start()` in a task against an installed fake, yield once on_ready fired, close at exit.

    `guild_ready_timeout` shortens discord.py's 2 s wait after the last GUILD_CREATE (None keeps it).
    """
    if guild_ready_timeout is not None:
        bot._connection.guild_ready_timeout = guild_ready_timeout
    task = asyncio.create_task(bot.start(token or fake.token))
    deadline = time.monotonic() + ready_timeout
    try:
        while not bot.is_ready():
            if task.done():
                task.result()  # re-raises LoginFailure and friends
                raise RuntimeError("bot.start() returned before the bot was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot not ready within {ready_timeout}s")
            await asyncio.sleep(0.02)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)

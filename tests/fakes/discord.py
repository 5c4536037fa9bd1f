"""A fake Discord (REST API + gateway websocket) on 127.0.0.1 for end-to-end tests with real discord.py.

Usage::

    async with FakeDiscord() as fake:
        install(fake, monkeypatch)
        async with run_bot(bot, fake):
            interaction = await fake.slash_command("imagine", {"prompt": "a cat"}, user=fake.user("alice"))
            message = await fake.wait_for_message(lambda m: m.interaction_id == interaction.id)

Several guilds, overwrites, threads, shards::

    other = fake.add_guild("Other", shard=1, members=["alice"])        # FakeDiscord(shard_count=2)
    fake.grant(fake.user("bob"), fake.channel("general"), MANAGE_MESSAGES)  # CHANNEL_UPDATE if connected
    thread = fake.add_thread("renders", parent=fake.channel("general", guild=other))
    await fake.slash_command("imagine", {"prompt": "x"}, user="alice", channel=thread)
    fake.gateway.connections[0].guild_ids("INTERACTION_CREATE")           # what each shard got

Uploaded files keep their bytes: `message.files` (name, content type, data per attachment, as an edit
kept or replaced them), `message.embed_image_file()` (the file an embed shows through `attachment://`),
`call.uploads`; `fake.upload_limit` is sent with interactions and refuses larger files (413/40005).

Modules: discord_model (data), discord_channels (channels, threads, overwrites), discord_guilds (guilds,
members, roles; the model half of FakeDiscord), discord_permissions (Discord's permission computation),
discord_rules (limits, mentions), discord_http (routing, rate limits), discord_messages (create/edit),
discord_threads (archived and locked threads), discord_rest (handlers), discord_gateway (websocket),
discord_shards (routing by shard and intents), discord_payloads, discord_faults (`fake.faults`:
injected errors, reset connections, held answers), discord_cdn (`fake.cdn`: attachment links).
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

from tests.fakes.discord_cdn import FakeCdn
from tests.fakes.discord_channels import FakeChannel
from tests.fakes.discord_faults import Faults
from tests.fakes.discord_gateway import Gateway
from tests.fakes.discord_guilds import FakeGuild, FakeMember, GuildWorld
from tests.fakes.discord_http import ForcedLimit, HttpFrontend, RateLimits
from tests.fakes.discord_messages import MessageStore
from tests.fakes.discord_model import (
    FakeAttachment,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    RecordedCall,
)
from tests.fakes.discord_payloads import ATTACHMENT_SIZE_LIMIT, command_data, interaction_base
from tests.fakes.discord_rest import RestHandlers

__all__ = [
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
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


class FakeDiscord(GuildWorld):
    """A default guild with a few channels and users, a bot application; more guilds, threads and
    shards on demand (the model methods live in GuildWorld); see module docstring."""

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
        shard_count: int = 1,
        upload_limit: int = ATTACHMENT_SIZE_LIMIT,
    ) -> None:
        self.token = token
        # The largest file Discord takes per attachment (413/40005 above it), sent with interactions.
        self.upload_limit = upload_limit
        # How long a send with `enforce_nonce` returns the earlier message ("a few minutes", per Discord).
        self.nonce_window = nonce_window
        self.callback_deadline = callback_deadline
        self.token_lifetime = token_lifetime
        self.messages_by_id: dict[int, FakeMessage] = {}
        self.interactions_by_id: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.calls: list[RecordedCall] = []
        self.rate_limits = RateLimits()
        self.faults = Faults()  # injected HTTP errors, reset connections and held answers
        # The gateway first: model changes are announced through it (to nobody before a bot connects).
        self.gateway = Gateway(self, heartbeat_interval_ms=heartbeat_interval_ms)
        self._build_world(shard_count=shard_count, channels=channels, users=users)
        self.store = MessageStore(self)
        self.cdn = FakeCdn(self)  # serves attachments at the links message objects carry
        self.http = HttpFrontend(self)
        RestHandlers(self).register(self.http)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.http.handle)
        self.cdn.route(app)
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
        """INTERACTION_CREATE on the connection of the shard that owns the channel's guild."""
        if channel.guild_id is not None:
            self.guild_of(channel).member(user)  # Discord only has members interact in a guild
        await self.gateway.wait_until_routed(channel.guild_id)
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
        await self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=channel.guild_id)
        return interaction

    async def slash_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser | str,
        channel: FakeChannel | str = "general",
        guild: FakeGuild | None = None,
        attachments: dict[str, FakeAttachment] | None = None,
        option_types: dict[str, int] | None = None,
        guild_command: bool = False,
    ) -> FakeInteraction:
        """Dispatch INTERACTION_CREATE type 2. Values: str->3, int->4, bool->5, FakeAttachment->11...

        A channel (or thread) given by name is looked up in `guild`, the default guild unless given.
        The command is the one synced to the channel's guild, else the global one.
        """
        user = self.user(user) if isinstance(user, str) else user
        channel = self.channel(channel, guild=guild) if isinstance(channel, str) else channel
        if channel.is_thread and channel.archived:
            raise ValueError(f"{channel.name} is archived: Discord lets no one use commands there")
        all_options = dict(options or {}) | dict(attachments or {})
        data = command_data(
            self, name, all_options, option_types or {}, guild_command=guild_command, channel=channel
        )
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

"""State kept by the fake Discord: users, roles, messages, interactions (channels: discord_channels.py,
guilds and members: discord_guilds.py).

Plain data classes; the HTTP/gateway layers (discord_rest.py, discord_gateway.py) mutate them and
tests read them. Payload builders produce the JSON shapes discord.py 2.7 parses.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Also imported from here by older code: FakeChannel lived here before threads and overwrites came.
from tests.fakes.discord_channels import FakeChannel
from tests.fakes.discord_shards import shard_of

DISCORD_EPOCH_MS = 1420070400000

# Permission bits used by the fake (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
# Every bit Discord defines, up to BYPASS_SLOWMODE (1 << 52); 1 << 47 is unassigned.
ALL_PERMISSIONS = ((1 << 53) - 1) & ~(1 << 47)
EVERYONE_DEFAULT = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
)

FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_COMPONENTS_V2 = 1 << 15

ATTACHMENT_SCHEME = "attachment://"


class Snowflakes:
    """Monotonic snowflake ids whose timestamp part is the current time (like Discord's)."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def next(self) -> int:
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (millis << 22) | (next(self._counter) & 0x3FFFFF)

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """A fresh id whose guild would live on `shard_id`: the timestamp part decides the shard, so
        it is moved up to `shard_count - 1` milliseconds into the future."""
        snowflake = self.next()
        while shard_of(snowflake, shard_count) != shard_id:
            snowflake += 1 << 22
        return snowflake


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class FakeUser:
    """A Discord user; global, a member of any number of guilds (discord_guilds.FakeMember)."""

    id: int
    name: str
    bot: bool = False
    dms_open: bool = True
    # The user's roles in the default guild: the same list as that guild's FakeMember.role_ids.
    role_ids: list[int] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int
    mentionable: bool = True
    guild_id: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": self.mentionable,
            "flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass(frozen=True)
class UploadedFile:
    """One file part (`files[n]`) of a multipart request, as the client sent it."""

    index: int  # the n of files[n], which the payload's `attachments` refer to
    filename: str
    content_type: str | None  # as Discord would report it (guessed from the name for octet-stream)
    data: bytes


@dataclass(frozen=True)
class StoredFile:
    """An attachment of a stored message: the uploaded bytes under the id Discord gave them."""

    id: int
    filename: str
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self, channel_id: int) -> dict[str, Any]:
        path = f"{channel_id}/{self.id}/{self.filename}?ex=1&is=1&hm=sig"
        body: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": f"https://cdn.discordapp.fake/attachments/{path}",
            "proxy_url": f"https://media.discordapp.fake/attachments/{path}",
        }
        if self.content_type is not None:
            body["content_type"] = self.content_type
        return body


@dataclass
class MessageState:
    """One version of a message: its creation or an edit, with who it would have pinged."""

    time: float
    route: str  # "channel", "webhook" (token route) or "callback" (interaction response)
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    flags: int
    allowed_mentions: dict[str, Any] | None
    files: list[StoredFile]
    pinged_users: set[int]
    pinged_roles: set[int]
    pinged_everyone: bool
    at: str = field(default_factory=iso_now)  # wall-clock ISO time, as Discord reports it

    @property
    def attachments(self) -> list[str]:
        """The attachments' file names, in order."""
        return [stored.filename for stored in self.files]


@dataclass
class FakeMessage:
    id: int
    channel_id: int
    author: FakeUser
    states: list[MessageState]
    webhook_id: int | None = None
    interaction_id: int | None = None
    message_reference: dict[str, Any] | None = None
    created: float = field(default_factory=time.monotonic)
    deleted: bool = False
    deleted_by: str | None = None  # "bot" or "moderator"
    nonce: str | None = None  # as sent; Discord echoes it in the message object

    @property
    def current(self) -> MessageState:
        return self.states[-1]

    @property
    def edits(self) -> list[MessageState]:
        """States after the first one, oldest first."""
        return self.states[1:]

    @property
    def content(self) -> str:
        return self.current.content

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.current.embeds

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.current.components

    @property
    def flags(self) -> int:
        return self.current.flags

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.current.allowed_mentions

    @property
    def attachments(self) -> list[str]:
        return self.current.attachments

    @property
    def files(self) -> list[StoredFile]:
        """The attachments as stored: name, type and the bytes that were uploaded."""
        return self.current.files

    def embed_image_file(self, index: int = 0) -> StoredFile | None:
        """The attachment the embed at `index` shows as its image through `attachment://<name>`, as
        Discord resolves it (against this message's own attachments); None when it shows none."""
        if index >= len(self.embeds):
            return None
        url = str((self.embeds[index].get("image") or {}).get("url") or "")
        if not url.startswith(ATTACHMENT_SCHEME):
            return None
        name = url.removeprefix(ATTACHMENT_SCHEME)
        return next((stored for stored in self.files if stored.filename == name), None)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & FLAG_LOADING)

    @property
    def pinged_users(self) -> set[int]:
        return self.current.pinged_users

    @property
    def pinged_roles(self) -> set[int]:
        return self.current.pinged_roles

    @property
    def pinged_everyone(self) -> bool:
        return self.current.pinged_everyone

    @property
    def pinged_anyone(self) -> bool:
        """True when any state of this message would have notified someone."""
        return any(s.pinged_users or s.pinged_roles or s.pinged_everyone for s in self.states)

    def payload(
        self, *, guild_id: int | None, application_id: int, users: dict[int, FakeUser]
    ) -> dict[str, Any]:
        state = self.current
        body: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": 20 if self.interaction_id else (19 if self.message_reference else 0),
            "author": self.author.payload(),
            "content": state.content,
            "embeds": state.embeds,
            "components": state.components,
            "attachments": [stored.payload(self.channel_id) for stored in state.files],
            "flags": state.flags,
            "mentions": [users[u].payload() for u in sorted(state.pinged_users) if u in users],
            "mention_roles": [str(r) for r in sorted(state.pinged_roles)],
            "mention_everyone": state.pinged_everyone,
            "pinned": False,
            "tts": False,
            "timestamp": self.states[0].at,
            "edited_timestamp": state.at if self.edits else None,
        }
        if guild_id is not None:
            body["guild_id"] = str(guild_id)
        if self.webhook_id is not None:
            body["webhook_id"] = str(self.webhook_id)
            body["application_id"] = str(application_id)
        if self.message_reference is not None:
            body["message_reference"] = self.message_reference
        if self.nonce is not None:
            body["nonce"] = self.nonce
        return body


@dataclass
class InteractionResponse:
    """What the bot answered to an interaction (callback, token-route edit or follow-up)."""

    kind: str  # "callback", "edit_original", "followup", "delete_original"
    callback_type: int | None
    data: dict[str, Any]
    ephemeral: bool
    time: float = field(default_factory=time.monotonic)
    message_id: int | None = None


@dataclass
class FakeInteraction:
    id: int
    token: str
    type: int  # 2 application command, 3 component
    user: FakeUser
    channel: FakeChannel
    payload: dict[str, Any]
    created: float = field(default_factory=time.monotonic)
    acknowledged: bool = False
    callback_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    token_expired: bool = False
    responses: list[InteractionResponse] = field(default_factory=list)
    modals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ephemeral_responses(self) -> list[InteractionResponse]:
        return [r for r in self.responses if r.ephemeral]

    @property
    def deferred(self) -> bool:
        return self.callback_type in (5, 6)


@dataclass
class FakeAttachment:
    """A file a user attached to a slash command option (type 11)."""

    filename: str
    size: int = 1024
    content_type: str = "image/png"
    width: int | None = 512
    height: int | None = 512
    url: str | None = None

    def payload(self, attachment_id: int) -> dict[str, Any]:
        url = (
            self.url
            or f"https://cdn.discordapp.fake/attachments/{attachment_id}/{self.filename}?ex=1&is=1&hm=sig"
        )
        return {
            "id": str(attachment_id),
            "filename": self.filename,
            "size": self.size,
            "url": url,
            "proxy_url": url.replace("cdn.", "media.", 1),
            "content_type": self.content_type,
            "width": self.width,
            "height": self.height,
            "ephemeral": True,
        }


@dataclass
class RecordedCall:
    """One REST request the fake answered."""

    method: str
    path: str
    kind: str
    json: Any
    headers: dict[str, str]
    status: int
    time: float
    query: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # the uploaded files' names
    uploads: list[UploadedFile] = field(default_factory=list)  # and the files themselves

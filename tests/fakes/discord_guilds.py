"""The guilds of the fake Discord: guilds, members, roles, channels, threads and overwrites.

`GuildWorld` is the model half of `FakeDiscord`. Users are global; each guild has its own roles (@everyone
has the guild's id), channels, threads and members. The first guild is the default one: every lookup
without `guild=` means it, which keeps the single-guild API (`fake.guild_id`, `fake.channel("general")`,
`fake.role("Artists")`, `fake.grant(...)`) working as before.

Changes made while a bot is connected reach it as Discord sends them (ordered, on the connection of the
shard that owns the guild, filtered by intents): CHANNEL_CREATE/UPDATE, THREAD_CREATE/UPDATE,
GUILD_ROLE_CREATE/UPDATE, GUILD_MEMBER_ADD/UPDATE and GUILD_CREATE for a guild added later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.discord_channels import (
    OVERWRITE_MEMBER,
    OVERWRITE_ROLE,
    PUBLIC_THREAD,
    FakeChannel,
    Overwrite,
)
from tests.fakes.discord_model import (
    EVERYONE_DEFAULT,
    FakeRole,
    FakeUser,
    Snowflakes,
    iso_now,
)
from tests.fakes.discord_payloads import guild_create_payload, member_payload
from tests.fakes.discord_permissions import channel_permissions, guild_permissions
from tests.fakes.discord_shards import shard_of

if TYPE_CHECKING:
    from tests.fakes.discord_gateway import Gateway

Target = FakeUser | FakeRole


@dataclass
class FakeMember:
    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    joined_at: str = field(default_factory=iso_now)
    is_default: bool = False  # the first guild, the one of the single-guild API

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles[self.id]

    def role(self, name: str) -> FakeRole:
        found = next((r for r in self.roles.values() if r.name == name), None)
        if found is None:
            raise KeyError(f"no role {name!r} in guild {self.name!r}")
        return found

    def member(self, user: FakeUser) -> FakeMember:
        if user.id not in self.members:
            raise ValueError(f"{user.name} is not a member of guild {self.name!r}")
        return self.members[user.id]


class GuildWorld:
    """Guilds, users, roles and channels; see the module docstring. Needs `gateway` set first."""

    gateway: Gateway
    commands: dict[int | None, list[dict[str, Any]]]  # synced commands by guild id (None: global)
    upload_limit: int  # bytes per file; interactions carry it as attachment_size_limit

    def _build_world(self, *, shard_count: int, channels: Iterable[str], users: Iterable[str]) -> None:
        self.shard_count = shard_count
        self.snowflakes = Snowflakes()
        self.application_id = self.snowflakes.next()
        self.bot_user = FakeUser(self.application_id, "MindProxyBot", bot=True)
        self.owner = FakeUser(self.snowflakes.next(), "owner")
        self.users_by_id: dict[int, FakeUser] = {u.id: u for u in (self.bot_user, self.owner)}
        self.users_by_name: dict[str, FakeUser] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.roles_by_id: dict[int, FakeRole] = {}  # every guild's, for mention parsing
        self.channels_by_id: dict[int, FakeChannel] = {}  # every guild's, threads and DMs too
        self.dm_channels: dict[int, FakeChannel] = {}
        self.default_guild = self.add_guild("Fake Guild", shard=0)
        self.add_role("Artists")
        for name in channels:
            self.add_channel(name)
        for name in users:
            self.add_user(name)

    # ---- the default guild, as the single-guild API knew it ----------------------------------
    @property
    def guild_id(self) -> int:
        return self.default_guild.id

    @property
    def guild_name(self) -> str:
        return self.default_guild.name

    @property
    def everyone_role(self) -> FakeRole:
        return self.default_guild.everyone_role

    # ---- building --------------------------------------------------------------------------------
    def add_guild(
        self, name: str, *, shard: int | None = None, members: Iterable[FakeUser | str] = ()
    ) -> FakeGuild:
        """A guild the bot is in; `shard` picks an id that lands on that shard of `shard_count`."""
        if shard is None:
            guild_id = self.snowflakes.next()
        elif 0 <= shard < self.shard_count:
            guild_id = self.snowflakes.next_on_shard(shard, self.shard_count)
        else:
            raise ValueError(f"shard {shard} does not exist with shard_count={self.shard_count}")
        guild = FakeGuild(guild_id, name, self.owner.id, is_default=not self.guilds)
        everyone = FakeRole(guild_id, "@everyone", EVERYONE_DEFAULT, 0, guild_id=guild_id)
        guild.roles[guild_id] = self.roles_by_id[guild_id] = everyone
        self.guilds[guild_id] = guild
        # The bot and the owner are members of every guild.
        for user in (self.bot_user, self.owner, *members):
            self.add_member(guild, user, announce=False)
        self.gateway.emit("GUILD_CREATE", self.gateway.guild_create(guild), guild_id=guild_id)
        return guild

    def add_member(
        self, guild: FakeGuild, user: FakeUser | str, *, roles: Iterable[str] = (), announce: bool = True
    ) -> FakeMember:
        """`user` joins `guild` (GUILD_MEMBER_ADD, which only bots with the members intent get)."""
        user = self.user(user) if isinstance(user, str) else user
        if user.id in guild.members:
            raise ValueError(f"{user.name} is already a member of guild {guild.name!r}")
        role_ids = [guild.role(r).id for r in roles]
        if guild.is_default:
            user.role_ids.extend(role_ids)
            role_ids = user.role_ids  # one list: give_role() and FakeUser.role_ids stay in step
        member = guild.members[user.id] = FakeMember(user, role_ids)
        if announce:
            self._emit_member("GUILD_MEMBER_ADD", guild, member)
        return member

    def add_user(
        self,
        name: str,
        *,
        roles: tuple[str, ...] = (),
        dms_open: bool = True,
        guild: FakeGuild | None = None,
    ) -> FakeUser:
        """A user, member of `guild` (the default guild unless given) with those roles there."""
        if name in self.users_by_name:
            raise ValueError(f"there is already a user named {name!r}: users are global")
        user = FakeUser(self.snowflakes.next(), name, dms_open=dms_open)
        self.users_by_id[user.id] = user
        self.users_by_name[name] = user
        self.add_member(guild or self.default_guild, user, roles=roles)
        return user

    def add_role(
        self, name: str, *, permissions: int = 0, mentionable: bool = True, guild: FakeGuild | None = None
    ) -> FakeRole:
        guild = guild or self.default_guild
        role = FakeRole(
            self.snowflakes.next(), name, permissions, len(guild.roles), mentionable, guild_id=guild.id
        )
        guild.roles[role.id] = self.roles_by_id[role.id] = role
        self.gateway.emit("GUILD_ROLE_CREATE", self._role_event(role), guild_id=guild.id)
        return role

    def add_channel(self, name: str, *, guild: FakeGuild | None = None) -> FakeChannel:
        guild = guild or self.default_guild
        position = sum(1 for c in self.channels_of(guild) if not c.is_thread)
        channel = FakeChannel(self.snowflakes.next(), name, guild.id, position=position)
        self.channels_by_id[channel.id] = channel
        self.gateway.emit("CHANNEL_CREATE", channel.payload(), guild_id=guild.id)
        return channel

    def add_thread(
        self,
        name: str,
        *,
        parent: FakeChannel | str,
        archived: bool = False,
        locked: bool = False,
        owner: FakeUser | None = None,
    ) -> FakeChannel:
        """A public thread (type 11) in `parent`, a text channel; `parent` by name is in the default
        guild. An active one is sent in GUILD_CREATE, or as THREAD_CREATE once a bot is connected."""
        parent = self.channel(parent) if isinstance(parent, str) else parent
        if parent.guild_id is None or parent.is_thread:
            raise ValueError(f"{parent.name} cannot hold threads")
        thread = FakeChannel(
            self.snowflakes.next(),
            name,
            parent.guild_id,
            type=PUBLIC_THREAD,
            parent_id=parent.id,
            owner_id=(owner or self.owner).id,
            archived=archived,
            locked=locked,
        )
        self.channels_by_id[thread.id] = thread
        if not archived:
            created = thread.payload() | {"newly_created": True}
            self.gateway.emit("THREAD_CREATE", created, guild_id=thread.guild_id)
        return thread

    # ---- lookups -----------------------------------------------------------------------------
    def user(self, name: str) -> FakeUser:
        return self.users_by_name[name]

    def role(self, name: str, *, guild: FakeGuild | None = None) -> FakeRole:
        return (guild or self.default_guild).role(name)

    def channel(self, name: str, *, guild: FakeGuild | None = None) -> FakeChannel:
        """The channel or thread of that name in `guild` (the default guild unless given)."""
        guild = guild or self.default_guild
        found = next((c for c in self.channels_of(guild) if c.name == name), None)
        if found is None:
            raise KeyError(f"no channel {name!r} in guild {guild.name!r}")
        return found

    def channels_of(self, guild: FakeGuild) -> list[FakeChannel]:
        """The guild's channels and threads, in creation order."""
        return [c for c in self.channels_by_id.values() if c.guild_id == guild.id]

    def guild_of(self, channel: FakeChannel) -> FakeGuild:
        if channel.guild_id is None:
            raise ValueError(f"{channel.name} is not in a guild")
        return self.guilds[channel.guild_id]

    def shard_of(self, guild: FakeGuild) -> int:
        """The shard that owns `guild` with the fake's `shard_count`."""
        return shard_of(guild.id, self.shard_count)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        if user.id not in self.dm_channels:
            channel = FakeChannel(
                self.snowflakes.next(), f"dm-{user.name}", None, type=1, recipient_id=user.id
            )
            self.dm_channels[user.id] = channel
            self.channels_by_id[channel.id] = channel
        return self.dm_channels[user.id]

    # ---- permissions -------------------------------------------------------------------------
    def give_role(self, user: FakeUser, role: FakeRole | str, *, guild: FakeGuild | None = None) -> None:
        """Assign a role (a name is looked up in `guild`, the default guild unless given).

        Discord sends GUILD_MEMBER_UPDATE only to bots with the members intent (or about the bot
        itself); a bot with only `guilds` sees the new roles in the next interaction's member.
        """
        if isinstance(role, str):
            role = self.role(role, guild=guild)
        role_guild = self.guilds[role.guild_id]
        member = role_guild.member(user)
        if role.id not in member.role_ids:
            member.role_ids.append(role.id)
        self._emit_member("GUILD_MEMBER_UPDATE", role_guild, member)

    def set_role_permissions(self, role: FakeRole, permissions: int) -> None:
        """Change a role's guild-wide permissions (GUILD_ROLE_UPDATE)."""
        role.permissions = permissions
        self.gateway.emit("GUILD_ROLE_UPDATE", self._role_event(role), guild_id=role.guild_id)

    def grant(self, target: Target, channel: FakeChannel, permissions: int) -> None:
        """Allow `permissions` to a member or role in `channel` (e.g. MANAGE_MESSAGES): a permission
        overwrite, sent to a connected bot as CHANNEL_UPDATE."""
        overwrite = self._overwrite(target, channel)
        overwrite.allow |= permissions
        overwrite.deny &= ~permissions
        self.gateway.emit("CHANNEL_UPDATE", channel.payload(), guild_id=channel.guild_id)

    def deny(self, target: Target, channel: FakeChannel, permissions: int) -> None:
        """Deny `permissions` to a member or role (the guild's @everyone role too) in `channel`."""
        overwrite = self._overwrite(target, channel)
        overwrite.deny |= permissions
        overwrite.allow &= ~permissions
        self.gateway.emit("CHANNEL_UPDATE", channel.payload(), guild_id=channel.guild_id)

    def forbid_channel(self, channel: FakeChannel) -> None:
        """The bot loses access: every channel route on it answers 403 / 50001."""
        channel.forbidden = True

    def permissions_in(self, user: FakeUser, channel: FakeChannel) -> int:
        """The user's permissions in `channel` (a thread takes its parent's overwrites)."""
        if channel.guild_id is None:
            return EVERYONE_DEFAULT
        guild = self.guild_of(channel)
        member = guild.member(user)
        bits = guild_permissions(
            everyone_bits=guild.everyone_role.permissions,
            role_bits=(guild.roles[r].permissions for r in member.role_ids if r in guild.roles),
            is_owner=user.id == guild.owner_id,
        )
        source = self.channels_by_id[channel.parent_id] if channel.parent_id is not None else channel
        return channel_permissions(
            guild_bits=bits,
            channel=channel,
            overwrites_from=source,
            guild_id=guild.id,
            user_id=user.id,
            role_ids=member.role_ids,
        )

    # ---- threads -----------------------------------------------------------------------------
    def update_thread(
        self, thread: FakeChannel, *, archived: bool | None = None, locked: bool | None = None
    ) -> None:
        """Archive, unarchive, lock or unlock a thread (THREAD_UPDATE; discord.py then drops an
        archived thread from its cache and takes an unarchived one back)."""
        if not thread.is_thread:
            raise ValueError(f"{thread.name} is not a thread")
        if archived is not None:
            thread.set_archived(archived)
        if locked is not None:
            thread.locked = locked
        self.gateway.emit("THREAD_UPDATE", thread.payload(), guild_id=thread.guild_id)

    # ---- payloads ----------------------------------------------------------------------------
    def guild_create_payload(self, guild: FakeGuild | None = None) -> dict[str, Any]:
        return guild_create_payload(self, guild or self.default_guild, all_members=True)

    def _overwrite(self, target: Target, channel: FakeChannel) -> Overwrite:
        if channel.is_thread or channel.guild_id is None:
            raise ValueError(f"{channel.name} has no overwrites of its own (threads use their parent's)")
        if isinstance(target, FakeRole):
            if target.guild_id != channel.guild_id:
                raise ValueError(f"role {target.name} is not of the guild of {channel.name}")
            return channel.overwrite_for(target.id, OVERWRITE_ROLE)
        self.guild_of(channel).member(target)
        return channel.overwrite_for(target.id, OVERWRITE_MEMBER)

    def _role_event(self, role: FakeRole) -> dict[str, Any]:
        return {"guild_id": str(role.guild_id), "role": role.payload()}

    def _emit_member(self, event: str, guild: FakeGuild, member: FakeMember) -> None:
        body = member_payload(self, guild, member.user) | {"guild_id": str(guild.id)}
        self.gateway.emit(event, body, guild_id=guild.id)

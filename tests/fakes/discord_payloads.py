"""Gateway payloads of the fake Discord: GUILD_CREATE, members and INTERACTION_CREATE bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.discord_channels import FakeChannel
from tests.fakes.discord_model import FakeAttachment, FakeRole, FakeUser

if TYPE_CHECKING:
    from tests.fakes.discord_guilds import FakeGuild, GuildWorld

# Discord's upload limit per file without boosts (10 MiB since 2025-01); `FakeDiscord.upload_limit`.
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_NUMBER = 10
OPTION_ATTACHMENT = 11


def infer_option_type(value: object) -> int:
    if isinstance(value, bool):
        return OPTION_BOOLEAN
    if isinstance(value, int):
        return OPTION_INTEGER
    if isinstance(value, float):
        return OPTION_NUMBER
    if isinstance(value, FakeAttachment):
        return OPTION_ATTACHMENT
    if isinstance(value, FakeUser):
        return OPTION_USER
    if isinstance(value, FakeRole):
        return OPTION_ROLE
    if isinstance(value, FakeChannel):
        return OPTION_CHANNEL
    return OPTION_STRING


def member_payload(
    fake: GuildWorld, guild: FakeGuild, user: FakeUser, channel: FakeChannel | None = None
) -> dict[str, Any]:
    """The user as a member of `guild`; with `channel`, its `permissions` there (interactions only)."""
    member = guild.member(user)
    body: dict[str, Any] = {
        "user": user.payload(),
        "roles": [str(r) for r in member.role_ids],
        "flags": 0,
        "joined_at": member.joined_at,
        "deaf": False,
        "mute": False,
        "nick": None,
        "avatar": None,
        "pending": False,
        "premium_since": None,
        "communication_disabled_until": None,
    }
    if channel is not None:
        body["permissions"] = str(fake.permissions_in(user, channel))
    return body


def guild_create_payload(fake: GuildWorld, guild: FakeGuild, *, all_members: bool) -> dict[str, Any]:
    """GUILD_CREATE; without the presences intent Discord lists only the bot among the members."""
    members = [m.user for m in guild.members.values() if all_members or m.user.id == fake.bot_user.id]
    channels = fake.channels_of(guild)
    return {
        "id": str(guild.id),
        "name": guild.name,
        "unavailable": False,
        "owner_id": str(guild.owner_id),
        "member_count": len(guild.members),
        "large": False,
        "joined_at": guild.joined_at,
        "features": [],
        "icon": None,
        "preferred_locale": "en-US",
        "premium_tier": 0,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "system_channel_id": None,
        "roles": [role.payload() for role in guild.roles.values()],
        "channels": [c.payload() for c in channels if not c.is_thread],
        # Only active threads: archived ones are not synced up front.
        "threads": [c.payload() for c in channels if c.is_thread and not c.archived],
        "members": [member_payload(fake, guild, u) for u in members],
        "emojis": [],
        "stickers": [],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def members_chunk(fake: GuildWorld, guild: FakeGuild, request: dict[str, Any]) -> dict[str, Any]:
    """The answer to a Request Guild Members (op 8): the members asked for by id, or whose name starts
    with `query`, at most `limit` (0: all), in one chunk."""
    user_ids = {int(u) for u in request.get("user_ids") or []}
    query = str(request.get("query") or "").lower()
    if user_ids:
        found = [m.user for m in guild.members.values() if m.user.id in user_ids]
    else:
        found = [m.user for m in guild.members.values() if m.user.name.lower().startswith(query)]
    limit = int(request.get("limit") or 0)
    if limit and not user_ids:
        found = found[:limit]
    body: dict[str, Any] = {
        "guild_id": str(guild.id),
        "members": [member_payload(fake, guild, u) for u in found],
        "chunk_index": 0,
        "chunk_count": 1,
        "not_found": [str(u) for u in sorted(user_ids - set(guild.members))],
    }
    if request.get("nonce") is not None:
        body["nonce"] = request["nonce"]
    return body


def interaction_base(
    fake: GuildWorld, *, interaction_id: int, token: str, kind: int, user: FakeUser, channel: FakeChannel
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(fake.application_id),
        "type": kind,
        "token": token,
        "version": 1,
        "channel_id": str(channel.id),
        "channel": channel.payload() | {"permissions": str(fake.permissions_in(user, channel))},
        "app_permissions": str(fake.permissions_in(fake.bot_user, channel)),
        "locale": "en-US",
        "entitlements": [],
        "context": 0,
        "attachment_size_limit": fake.upload_limit,
    }
    if channel.guild_id is None:
        body["user"] = user.payload()
        body["context"] = 1
        body["authorizing_integration_owners"] = {"1": str(user.id)}
    else:
        guild = fake.guild_of(channel)
        body["authorizing_integration_owners"] = {"0": str(guild.id)}
        body["guild_id"] = str(guild.id)
        body["guild_locale"] = "en-US"
        body["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
        body["member"] = member_payload(fake, guild, user, channel)
    return body


def _registered_command(
    fake: GuildWorld, name: str, guild_id: int | None, *, guild_command: bool
) -> tuple[str, int | None]:
    """(command id, guild id for `data.guild_id`): a command synced to the interaction's guild first,
    then a global one, as Discord shows them; an unsynced name gets a fresh id, scoped by `guild_command`."""
    if guild_id is not None:
        for command in fake.commands.get(guild_id, []):
            if command["name"] == name:
                return command["id"], guild_id
    if not guild_command:
        for command in fake.commands.get(None, []):
            if command["name"] == name:
                return command["id"], None
    return str(fake.snowflakes.next()), guild_id if guild_command else None


def command_data(
    fake: GuildWorld,
    name: str,
    options: dict[str, Any],
    option_types: dict[str, int],
    *,
    guild_command: bool,
    channel: FakeChannel,
) -> dict[str, Any]:
    guild = fake.guild_of(channel) if channel.guild_id is not None else None
    command_id, command_guild_id = _registered_command(
        fake, name, guild.id if guild else None, guild_command=guild_command
    )
    resolved: dict[str, dict[str, Any]] = {}
    built = []
    for option_name, value in options.items():
        option_type = option_types.get(option_name) or infer_option_type(value)
        wire_value: Any = value
        if isinstance(value, FakeAttachment):
            attachment_id = fake.snowflakes.next()
            resolved.setdefault("attachments", {})[str(attachment_id)] = value.payload(attachment_id)
            wire_value = str(attachment_id)
        elif isinstance(value, FakeUser):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            if guild is not None and value.id in guild.members:
                member = member_payload(fake, guild, value)
                member.pop("user")
                resolved.setdefault("members", {})[str(value.id)] = member
            wire_value = str(value.id)
        elif isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            wire_value = str(value.id)
        elif isinstance(value, FakeChannel):
            resolved.setdefault("channels", {})[str(value.id)] = value.payload() | {"permissions": "0"}
            wire_value = str(value.id)
        built.append({"name": option_name, "type": option_type, "value": wire_value})
    data: dict[str, Any] = {"id": command_id, "name": name, "type": 1, "options": built}
    if resolved:
        data["resolved"] = resolved
    if command_guild_id is not None:
        data["guild_id"] = str(command_guild_id)
    return data

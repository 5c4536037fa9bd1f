"""Gateway payloads of the fake Discord: GUILD_CREATE and INTERACTION_CREATE bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.discord_model import FakeAttachment, FakeChannel, FakeRole, FakeUser, iso_now

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

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


def member_payload(fake: FakeDiscord, user: FakeUser, channel: FakeChannel | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "user": user.payload(),
        "roles": [str(r) for r in user.role_ids],
        "flags": 0,
        "joined_at": iso_now(),
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


def guild_create_payload(fake: FakeDiscord) -> dict[str, Any]:
    guild_users = [fake.bot_user, *fake.users_by_name.values()]
    return {
        "id": str(fake.guild_id),
        "name": fake.guild_name,
        "unavailable": False,
        "owner_id": str(fake.owner.id),
        "member_count": len(guild_users),
        "large": False,
        "joined_at": iso_now(),
        "features": [],
        "icon": None,
        "preferred_locale": "en-US",
        "premium_tier": 0,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "system_channel_id": None,
        "roles": [role.payload() for role in fake.roles_by_id.values()],
        "channels": [c.payload() for c in fake.channels_by_id.values() if c.guild_id is not None],
        "members": [member_payload(fake, u) for u in guild_users],
        "emojis": [],
        "stickers": [],
        "threads": [],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def interaction_base(
    fake: FakeDiscord, *, interaction_id: int, token: str, kind: int, user: FakeUser, channel: FakeChannel
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
        "authorizing_integration_owners": {"0": str(fake.guild_id)},
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if channel.guild_id is None:
        body["user"] = user.payload()
        body["context"] = 1
        body["authorizing_integration_owners"] = {"1": str(user.id)}
    else:
        body["guild_id"] = str(channel.guild_id)
        body["guild_locale"] = "en-US"
        body["guild"] = {"id": str(channel.guild_id), "locale": "en-US", "features": []}
        body["member"] = member_payload(fake, user, channel)
    return body


def command_data(
    fake: FakeDiscord,
    name: str,
    options: dict[str, Any],
    option_types: dict[str, int],
    *,
    guild_command: bool,
) -> dict[str, Any]:
    scope = fake.guild_id if guild_command else None
    registered = {c["name"]: c for c in fake.commands.get(scope, [])}
    command_id = registered[name]["id"] if name in registered else str(fake.snowflakes.next())
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
            member = member_payload(fake, value)
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
    if guild_command:
        data["guild_id"] = str(fake.guild_id)
    return data

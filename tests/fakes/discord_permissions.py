"""A member's permissions in a channel, computed the way Discord documents and discord.py 2.7 reproduces.

Discord (https://discord.com/developers/docs/topics/permissions#permission-overwrites): the guild owner
and ADMINISTRATOR get everything; otherwise @everyone's bits OR the member's roles' bits, then the
channel's @everyone overwrite, then all of the member's role overwrites together, then the member's own
overwrite (deny first, then allow). Threads use their parent's overwrites.

The implicit rules (no SEND_MESSAGES, or SEND_MESSAGES_IN_THREADS in a thread, drops TTS, @everyone,
embeds and files; no VIEW_CHANNEL drops every channel permission) are applied to the value, as is the
removal of voice bits in text channels, exactly as discord.py's `TextChannel.permissions_for` and
`Thread.permissions_for` do: the value the fake puts in an interaction (`member.permissions`,
`app_permissions`) is then the one `channel.permissions_for(member)` computes from the cache.
"""

from __future__ import annotations

from collections.abc import Iterable

from tests.fakes.discord_channels import OVERWRITE_MEMBER, OVERWRITE_ROLE, FakeChannel, Overwrite
from tests.fakes.discord_model import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    ATTACH_FILES,
    EMBED_LINKS,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    SEND_TTS_MESSAGES,
    VIEW_CHANNEL,
)

# discord.py 2.7's Permissions.voice() and Permissions.all_channel() (test_fake_discord_permissions.py
# checks they still agree).
VOICE_PERMISSIONS = 0x1248003F00300
CHANNEL_PERMISSIONS = 0x1E64FDB3F7FF51
_NEED_SENDING = SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES


def _apply(bits: int, allow: int, deny: int) -> int:
    return (bits & ~deny) | allow


def guild_permissions(*, everyone_bits: int, role_bits: Iterable[int], is_owner: bool = False) -> int:
    """The member's guild-wide permissions, before any channel overwrite."""
    if is_owner:
        return ALL_PERMISSIONS
    bits = everyone_bits
    for role in role_bits:
        bits |= role
    return ALL_PERMISSIONS if bits & ADMINISTRATOR else bits


def overwritten(
    base: int, overwrites: dict[int, Overwrite], *, guild_id: int, user_id: int, role_ids: Iterable[int]
) -> int:
    """`base` after the channel's overwrites, in Discord's order."""
    if base & ADMINISTRATOR:
        return ALL_PERMISSIONS
    bits = base
    everyone = overwrites.get(guild_id)
    if everyone is not None and everyone.type == OVERWRITE_ROLE:
        bits = _apply(bits, everyone.allow, everyone.deny)
    allow = deny = 0
    for role_id in role_ids:
        role_overwrite = overwrites.get(role_id)
        if role_overwrite is not None and role_overwrite.type == OVERWRITE_ROLE:
            allow |= role_overwrite.allow
            deny |= role_overwrite.deny
    bits = _apply(bits, allow, deny)
    member = overwrites.get(user_id)
    if member is not None and member.type == OVERWRITE_MEMBER:
        bits = _apply(bits, member.allow, member.deny)
    return bits


def with_implicit_rules(bits: int, channel: FakeChannel) -> int:
    """What discord.py's permissions_for leaves of `bits` in this kind of channel."""
    sending = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
    if not bits & sending:
        bits &= ~_NEED_SENDING
    if not bits & VIEW_CHANNEL:
        bits &= ~CHANNEL_PERMISSIONS
    if not channel.is_thread:
        bits &= ~VOICE_PERMISSIONS
    return bits


def channel_permissions(
    *,
    guild_bits: int,
    channel: FakeChannel,
    overwrites_from: FakeChannel,
    guild_id: int,
    user_id: int,
    role_ids: Iterable[int],
) -> int:
    """The member's permissions in `channel`, whose overwrites are those of `overwrites_from` (the
    channel itself, or a thread's parent)."""
    bits = overwritten(
        guild_bits, overwrites_from.overwrites, guild_id=guild_id, user_id=user_id, role_ids=role_ids
    )
    return with_implicit_rules(bits, channel)

"""Which gateway connection gets which event: Discord's sharding formula and gateway intents.

Discord routes every event of a guild to the sessions whose `[shard_id, num_shards]` (sent in IDENTIFY)
satisfy `shard_id == (guild_id >> 22) % num_shards`; events without a guild (DMs) go to shard 0. Each
session is routed by its own `num_shards`, so sessions need not agree on one count, and several sessions
may hold the same shard (https://discord.com/developers/docs/events/gateway#sharding). A session that did
not send `shard` is `[0, 1]`: it gets everything. READY lists only the guilds of the session's shard
(discord-api-docs #8595).

Intents (https://discord.com/developers/docs/events/gateway#gateway-intents) filter events per session:
guild, channel, thread and role events need GUILDS; member events need GUILD_MEMBERS, except the bot's own
GUILD_MEMBER_UPDATE, which is always sent; INTERACTION_CREATE needs none. GUILD_CREATE lists every member
only with GUILD_PRESENCES, otherwise just the bot (the fake has no voice channels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GUILDS_INTENT = 1 << 0
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_PRESENCES_INTENT = 1 << 8

_GUILDS_EVENTS = frozenset(
    {
        "GUILD_CREATE",
        "GUILD_UPDATE",
        "GUILD_DELETE",
        "GUILD_ROLE_CREATE",
        "GUILD_ROLE_UPDATE",
        "GUILD_ROLE_DELETE",
        "CHANNEL_CREATE",
        "CHANNEL_UPDATE",
        "CHANNEL_DELETE",
        "THREAD_CREATE",
        "THREAD_UPDATE",
        "THREAD_DELETE",
        "THREAD_LIST_SYNC",
    }
)
_MEMBER_EVENTS = frozenset({"GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"})


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's sharding formula."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class ShardIdentity:
    """What a session identified as: its shard and its intents."""

    shard_id: int = 0
    shard_count: int = 1
    intents: int = GUILDS_INTENT
    sharded: bool = False  # IDENTIFY carried `shard`; READY then echoes it

    def owns(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard_id == 0
        return shard_of(guild_id, self.shard_count) == self.shard_id

    def wants(self, event: str, data: Any, *, bot_user_id: int) -> bool:
        """Whether this session's intents let `event` through."""
        if event in _GUILDS_EVENTS:
            return bool(self.intents & GUILDS_INTENT)
        if event in _MEMBER_EVENTS:
            is_bot = isinstance(data, dict) and str(data.get("user", {}).get("id")) == str(bot_user_id)
            own_update = event == "GUILD_MEMBER_UPDATE" and is_bot
            return own_update or bool(self.intents & GUILD_MEMBERS_INTENT)
        return True

    @property
    def lists_all_members(self) -> bool:
        return bool(self.intents & GUILD_PRESENCES_INTENT)

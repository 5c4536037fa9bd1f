"""Channels of the fake Discord: guild text channels, DMs and public threads, with permission overwrites.

Payload shapes: https://discord.com/developers/docs/resources/channel#channel-object (overwrites carry
`allow`/`deny` as decimal strings; threads carry `parent_id`, `owner_id` and `thread_metadata`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GUILD_TEXT = 0
DM = 1
PUBLIC_THREAD = 11
THREAD_TYPES = frozenset({10, 11, 12})

OVERWRITE_ROLE = 0
OVERWRITE_MEMBER = 1

AUTO_ARCHIVE_MINUTES = 1440


def _iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Overwrite:
    """A channel permission overwrite for one role (type 0) or one member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class FakeChannel:
    id: int
    name: str
    guild_id: int | None
    type: int = GUILD_TEXT  # 0 guild text, 1 DM, 11 public thread
    position: int = 0
    forbidden: bool = False  # the bot gets 403 / 50001 on every route of this channel
    recipient_id: int | None = None  # DM channels only
    # Keyed by the role or user id. Threads have none: they use their parent's.
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    # Threads only.
    parent_id: int | None = None
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    archive_timestamp: str = field(default_factory=_iso_now)
    created_at: str = field(default_factory=_iso_now)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def user_allow(self) -> dict[int, int]:
        """Bits allowed to single members here (the fake's first API only knew member allows)."""
        return {o.id: o.allow for o in self.overwrites.values() if o.type == OVERWRITE_MEMBER}

    def overwrite_for(self, target_id: int, target_type: int) -> Overwrite:
        """The overwrite of that role or member, created empty when missing."""
        found = self.overwrites.get(target_id)
        if found is None:
            found = self.overwrites[target_id] = Overwrite(target_id, target_type)
        return found

    def set_archived(self, archived: bool) -> None:
        if archived != self.archived:
            # Discord moves archive_timestamp when a thread is archived or unarchived.
            self.archived, self.archive_timestamp = archived, _iso_now()

    def payload(self) -> dict[str, Any]:
        if self.type == DM:
            return {"id": str(self.id), "type": DM, "last_message_id": None, "recipients": []}
        body: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "guild_id": str(self.guild_id),
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": str(self.parent_id) if self.parent_id is not None else None,
        }
        if self.is_thread:
            return body | {
                "owner_id": str(self.owner_id),
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "flags": 0,
                "thread_metadata": {
                    "archived": self.archived,
                    "auto_archive_duration": AUTO_ARCHIVE_MINUTES,
                    "archive_timestamp": self.archive_timestamp,
                    "locked": self.locked,
                    "create_timestamp": self.created_at,
                },
            }
        return body | {
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites.values()],
            "nsfw": False,
            "topic": None,
        }

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

"""Who may act on a task besides the person who asked for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.engine import TaskRecord


def may_cancel(record: TaskRecord, user_id: int, permissions: discord.Permissions) -> bool:
    """The submitter may cancel; so may a moderator (Manage Messages in that channel)."""
    return record.requester_id == user_id or permissions.manage_messages

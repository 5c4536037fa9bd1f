"""Finding a task by an id a user typed: the forms /cancel and /show accept, and what a prefix may reveal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.engine import TaskRecord
    from bot.frontend.client import MindProxyBot

MIN_PREFIX = 8  # shorter prefixes would match too much to be meant


async def find_task(interaction: discord.Interaction[MindProxyBot], text: str) -> TaskRecord | None:
    """The task named by an id the user can see: the gateway's task id or the bot's key, whole, or a
    prefix of at least 8 characters matching exactly one of the caller's own tasks in this server
    (for a moderator of this channel, also one of this channel's). A prefix never finds other people's
    tasks elsewhere, so it reveals nothing. Whether the caller may act on what is found is the
    caller's check (`permissions.may_act_on`)."""
    engine = interaction.client.engine
    wanted = text.strip()
    if not wanted:
        return None
    record = await engine.find_by_id(wanted)
    if record is not None or len(wanted) < MIN_PREFIX or interaction.guild_id is None:
        return record
    moderator = interaction.permissions.manage_messages
    matches = await engine.find_by_prefix(
        wanted,
        guild_id=interaction.guild_id,
        requester_id=interaction.user.id,
        channel_id=interaction.channel_id if moderator else None,
    )
    return matches[0] if len(matches) == 1 else None

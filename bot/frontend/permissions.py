"""Who may act on a task (cancel it now; delete its result later): rights are judged in the task's own
server and channel, never in the channel where the command happened to be typed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.engine import TaskRecord


def may_act_on(record: TaskRecord, interaction: discord.Interaction[Any]) -> bool:
    """The requester, from any channel of the task's server; a moderator of the task's own channel."""
    if interaction.guild_id is None or record.guild_id != interaction.guild_id:
        return False
    return record.requester_id == interaction.user.id or moderates_task_channel(record, interaction)


def moderates_task_channel(record: TaskRecord, interaction: discord.Interaction[Any]) -> bool:
    """Manage Messages in the task's own channel or thread, resolved there (overwrites included).

    `interaction.permissions` is the caller's permissions where the interaction happened, which says
    nothing about another channel; a channel the bot cannot resolve grants nothing.
    """
    guild = interaction.guild
    member = interaction.user
    if guild is None or guild.id != record.guild_id or not isinstance(member, discord.Member):
        return False
    channel = guild.get_channel_or_thread(record.channel_id)
    if channel is None:
        return False
    return channel.permissions_for(member).manage_messages

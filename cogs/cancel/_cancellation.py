"""Cancel on behalf of a Discord user: who may, and what they are told. Shared by
the button and /cancel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot import rendering
from bot.engine import CancelOutcome
from bot.frontend.command_tree import send_ephemeral
from bot.frontend.permissions import may_act_on

if TYPE_CHECKING:
    from bot.engine import TaskRecord
    from bot.frontend.client import MindProxyBot

log = logging.getLogger(__name__)


async def refuse(interaction: discord.Interaction[MindProxyBot], why: str) -> None:
    """One answer for "no such task", "not yours" and "not in this server": it reveals nothing."""
    log.info("cancel refused for user %s in guild %s: %s", interaction.user.id, interaction.guild_id, why)
    await send_ephemeral(interaction, rendering.no_such_task_here_message())


async def cancel_for_user(
    interaction: discord.Interaction[MindProxyBot], record: TaskRecord | None, *, via_button: bool
) -> None:
    """Check the caller's right, cancel through the engine and answer the caller ephemerally.

    The status message itself is updated by the notifier when the engine reports the cancel, so the
    answer here only tells the caller what happened.
    """
    if record is None:
        await refuse(interaction, "no task with that id")
        return
    if not may_act_on(record, interaction):
        await refuse(interaction, f"task {record.key} is not theirs to cancel here")
        return
    if record.is_finished:
        await send_ephemeral(interaction, rendering.already_finished_message(record))
        return

    key = record.key
    # The gateway call may take longer than Discord's 3 s: acknowledge first, answer with a follow-up.
    await interaction.response.defer(ephemeral=True, thinking=not via_button)
    user = interaction.user
    log.info("task %s: cancel requested by user %s", key, user.id)
    result = await interaction.client.engine.cancel(
        key, reason=f"cancelled from Discord by user {user.id}", by=user.id, by_name=user.display_name
    )
    if result.outcome in (CancelOutcome.CANCELLED, CancelOutcome.PENDING) and result.record is not None:
        message = rendering.cancel_done_message(result.record)
    elif result.outcome is CancelOutcome.ALREADY_FINISHED and result.record is not None:
        message = rendering.already_finished_message(result.record)
    elif result.outcome is CancelOutcome.NOT_FOUND:
        message = rendering.no_such_task_here_message()
    else:
        user_message = result.error.user_message if result.error else rendering.unexpected_error_message()
        message = rendering.cancel_failed_message(user_message)
    await send_ephemeral(interaction, message)

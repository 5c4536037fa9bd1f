"""Cancel on behalf of a Discord user: who may, and what they are told. Shared by the button and /cancel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot import rendering
from bot.engine import CancelOutcome
from bot.frontend.command_tree import send_ephemeral
from bot.frontend.permissions import may_cancel

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

log = logging.getLogger(__name__)


async def cancel_for_user(
    interaction: discord.Interaction[MindProxyBot], key: str, *, via_button: bool
) -> None:
    """Check the caller's right, cancel through the engine and answer the caller ephemerally.

    The status message itself is updated by the notifier when the engine reports the cancel, so the
    answer here only tells the caller what happened.
    """
    engine = interaction.client.engine
    record = await engine.get(key)
    if record is None:
        await send_ephemeral(interaction, rendering.task_not_found_message(key))
        return
    if not may_cancel(record, interaction.user.id, interaction.permissions):
        log.info("task %s: cancel refused for user %s (not the submitter)", key, interaction.user.id)
        await send_ephemeral(interaction, rendering.not_your_task_message())
        return
    if record.is_finished:
        await send_ephemeral(interaction, rendering.already_finished_message(record))
        return

    # The gateway call may take longer than Discord's 3 s: acknowledge first, answer with a follow-up.
    await interaction.response.defer(ephemeral=True, thinking=not via_button)
    log.info("task %s: cancel requested by user %s", key, interaction.user.id)
    result = await engine.cancel(key, reason=f"cancelled from Discord by user {interaction.user.id}")
    if result.outcome in (CancelOutcome.CANCELLED, CancelOutcome.PENDING) and result.record is not None:
        message = rendering.cancel_done_message(result.record)
    elif result.outcome is CancelOutcome.ALREADY_FINISHED and result.record is not None:
        message = rendering.already_finished_message(result.record)
    elif result.outcome is CancelOutcome.NOT_FOUND:
        message = rendering.task_not_found_message(key)
    else:
        user_message = result.error.user_message if result.error else rendering.unexpected_error_message()
        message = rendering.cancel_failed_message(user_message)
    await send_ephemeral(interaction, message)

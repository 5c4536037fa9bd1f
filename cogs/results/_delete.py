"""Delete: removes a finished result's messages, for its requester or a moderator of its channel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot import rendering
from bot.frontend.command_tree import send_ephemeral
from bot.frontend.errors import UserFacingError
from bot.frontend.permissions import may_act_on

if TYPE_CHECKING:
    from bot.engine import TaskRecord
    from bot.frontend.client import MindProxyBot

log = logging.getLogger(__name__)


async def delete_result(interaction: discord.Interaction[MindProxyBot], record: TaskRecord) -> None:
    """Delete the status message, the result reply and the clicked copy (a public /show), answering
    the caller privately. The task itself stays in the history."""
    if not may_act_on(record, interaction):
        raise UserFacingError(
            rendering.delete_not_allowed_message(), log_detail=f"delete of {record.key} not allowed"
        )
    if record.notify_due_at is not None or record.media_state == "pending":
        # A report or the re-hosted file is still on its way: the delivery would meet a deleted
        # message and post the result anew.
        raise UserFacingError(
            rendering.still_delivering_message(), log_detail=f"delete of {record.key} while delivering"
        )
    await interaction.response.defer(ephemeral=True)  # deleting may take longer than Discord's 3 s
    channel = interaction.client.get_partial_messageable(record.channel_id, guild_id=record.guild_id)
    targets: list[discord.PartialMessage | discord.Message] = [
        channel.get_partial_message(message_id)
        for message_id in (record.message_id, record.reply_message_id)
        if message_id is not None
    ]
    clicked = interaction.message
    if clicked is not None and not clicked.flags.ephemeral and all(t.id != clicked.id for t in targets):
        targets.append(clicked)
    left = 0
    for message in targets:
        try:
            await message.delete()
        except discord.NotFound:
            pass  # already gone: deleted by hand, or the reply went to DMs
        except discord.HTTPException as error:
            left += 1
            log.warning("task %s: could not delete message %s: %s", record.key, message.id, error)
    await interaction.client.engine.mark_deleted(record.key, by=interaction.user.id)
    log.info("task %s: result deleted by user %s", record.key, interaction.user.id)
    await send_ephemeral(interaction, rendering.result_deleted_message(record, left=left))

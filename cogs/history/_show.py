"""/show: one task of this server again, with its result and the result's buttons."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot import rendering
from bot.frontend.components import result_view
from bot.frontend.errors import UserFacingError
from bot.frontend.permissions import may_act_on
from bot.frontend.task_lookup import find_task

if TYPE_CHECKING:
    from bot.engine import TaskRecord
    from bot.frontend.client import MindProxyBot

log = logging.getLogger(__name__)


async def fresh_media_url(bot: MindProxyBot, record: TaskRecord) -> str | None:
    """The re-hosted result file as Discord links it now (its links are signed afresh each time the
    status message is read); None when there is none or the message cannot be read any more."""
    if record.media_state != "attached" or record.media_filename is None or record.message_id is None:
        return None
    channel = bot.get_partial_messageable(record.channel_id, guild_id=record.guild_id)
    try:
        message = await channel.fetch_message(record.message_id)
    except discord.HTTPException as error:
        log.info("task %s: status message unreadable for /show (%s)", record.key, error)
        return None
    found = next((a for a in message.attachments if a.filename == record.media_filename), None)
    return found.url if found is not None else None


async def show_task(interaction: discord.Interaction[MindProxyBot], task_id: str, *, public: bool) -> None:
    """Find the task as /cancel does and show it: to the caller, or to the channel when it is theirs
    and they asked. Unknown, someone else's and another server's get /cancel's one refusal."""
    bot = interaction.client
    record = await find_task(interaction, task_id)
    if record is None and await bot.engine.was_forgotten(task_id.strip()):
        raise UserFacingError(rendering.task_forgotten_message(), log_detail=f"{task_id} was pruned")
    if record is None or not may_act_on(record, interaction):
        raise UserFacingError(
            rendering.no_such_task_here_message(), log_detail=f"no task {task_id} of theirs"
        )
    if record.deleted_at is not None:  # a moderator's deletion is not undone by showing it again
        raise UserFacingError(rendering.result_was_deleted_message(record), log_detail=f"{task_id} deleted")
    own = record.requester_id == interaction.user.id
    private = not (public and own)
    # Reading the status message for a fresh link to the file may take longer than Discord's 3 s.
    await interaction.response.defer(ephemeral=private, thinking=True)
    note = rendering.show_public_refused_note() if public and not own else None
    shown = rendering.render_shown_task(record, media_url=await fresh_media_url(bot, record), note=note)
    view = result_view(record)
    await interaction.followup.send(
        # discord.py takes MISSING, not None, for "no content" and "no buttons".
        content=shown.content if shown.content is not None else discord.utils.MISSING,
        embeds=list(shown.embeds),
        view=view if view is not None else discord.utils.MISSING,
        ephemeral=private,
    )
    log.info(
        "task %s shown %s to user %s", record.key, "privately" if private else "publicly", interaction.user.id
    )

"""From a request to a task: check it, write the row, answer within 3 s, then let it go out.

Order matters (see the engine): the row is written before the gateway is ever called, the public
status message is sent next, and only then is the row confirmed so the poller sends the create.
A slash command and a button on a finished result (Reroll, Vary, Animate) both come through here, so
a task made by a click passes the same checks and limits as one typed as a command.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot import rendering
from bot.engine.api.models import TaskType
from bot.engine.store.interface import ActiveLimitError, DuplicateTaskError, NewTask
from bot.frontend.components import cancel_view
from bot.frontend.errors import UserFacingError
from bot.frontend.validation import validate_prompt
from bot.settings import ModelChoice

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TaskOrigin:
    """The finished task a new one is made from, and how ("reroll", "vary" or "animate")."""

    key: str
    action: str


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """A request whose model is resolved and whose image (if any) was accepted; the prompt is
    checked here, against the limit that applies now."""

    command: str  # "imagine" or "video": what the task is, and the command it counts as
    model: ModelChoice
    prompt: str
    input_assets: dict[str, Any] | None = None
    origin: TaskOrigin | None = None


def input_assets_for(image: discord.Attachment | None) -> dict[str, Any] | None:
    if image is None:
        return None
    asset: dict[str, Any] = {"image_url": image.url, "filename": image.filename}
    if image.content_type:
        asset["content_type"] = image.content_type
    if image.width and image.height:
        asset["width"], asset["height"] = image.width, image.height
    return asset


def new_task(interaction: discord.Interaction[MindProxyBot], request: TaskRequest, prompt: str) -> NewTask:
    key = str(interaction.id)
    origin = request.origin
    return NewTask(
        key=key,
        task_type=request.model.task_type if request.command == "imagine" else TaskType.VIDEO,
        model=request.model.name,
        prompt=prompt,
        requester_id=interaction.user.id,
        channel_id=interaction.channel_id or 0,
        guild_id=interaction.guild_id,
        input_assets=request.input_assets,
        origin_key=origin.key if origin else None,
        origin_action=origin.action if origin else None,
        # Lets a task be traced from the gateway's console back to its Discord context.
        metadata={
            "source": "discord",
            "command": request.command,
            "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
            "channel_id": str(interaction.channel_id),
            "user_id": str(interaction.user.id),
            "interaction_id": key,
            **({"origin_key": origin.key, "origin_action": origin.action} if origin else {}),
        },
        reply_token=interaction.token,
        reply_token_expires_at=interaction.expires_at,
        upload_limit=interaction.filesize_limit,
    )


def ensure_accepting(interaction: discord.Interaction[MindProxyBot]) -> None:
    """Refuse while shutting down: a row written now would wait for the next start."""
    if not interaction.client.engine.running:
        raise UserFacingError(rendering.busy_message(), log_detail="refused while shutting down")


async def submit_task(interaction: discord.Interaction[MindProxyBot], request: TaskRequest) -> None:
    """Make `request` a task owned by the interaction's user, keyed by the interaction's id, and answer
    the interaction with its public status message (with its Cancel button). Refusals raise
    `UserFacingError`; an interaction delivered twice makes one task."""
    bot = interaction.client
    ensure_accepting(interaction)
    prompt = validate_prompt(request.prompt, max_length=bot.settings.max_prompt_length)

    key = str(interaction.id)  # the idempotency key: Discord never reuses an interaction id
    limit = bot.settings.max_active_per_user
    try:
        # The limit is checked in the same transaction as the insert: quick double commands cannot
        # both slip through, and nothing waits on a lock while Discord's 3 s run.
        record = await bot.engine.submit(
            new_task(interaction, request, prompt), max_unfinished_for_requester=limit
        )
    except ActiveLimitError:
        if await bot.engine.get(key) is not None:
            # The store checks the limit before the key, and the first delivery's own row counts.
            log.warning("task %s: interaction delivered twice (at the limit); the first one stands", key)
            return
        active = await bot.engine.active_for_requester(interaction.user.id)
        raise UserFacingError(
            rendering.active_limit_message(limit, active), log_detail=f"at the limit of {limit} tasks"
        ) from None
    except DuplicateTaskError:
        log.warning("task %s: interaction delivered twice; the first one stands", key)
        return
    how = f"{request.origin.action} of {request.origin.key}" if request.origin else f"/{request.command}"
    log.info("task %s: %s by user %s, model %s", key, how, interaction.user.id, request.model.name)

    shown = rendering.render_status(record)
    try:
        response = await interaction.response.send_message(
            content=shown.content, embeds=list(shown.embeds), view=cancel_view(key)
        )
    except discord.HTTPException:
        # Nobody saw the request (e.g. Discord's 3 s passed): it never reached the gateway, drop it.
        await bot.engine.withdraw(key)
        log.warning("task %s: could not answer the interaction; request dropped", key, exc_info=True)
        return
    bot.notifier.remember_sent(key, shown)
    await bot.engine.confirm(key, message_id=response.message_id)

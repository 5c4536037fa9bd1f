"""From a slash command to a task: validate, write the row, answer within 3 s, then let it go out.

Order matters (see the engine): the row is written before the gateway is ever called, the public
status message is sent next, and only then is the row confirmed so the poller sends the create.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot import rendering
from bot.engine.api.models import TaskType
from bot.engine.store.interface import ActiveLimitError, DuplicateTaskError, NewTask
from bot.frontend.components import cancel_view
from bot.frontend.errors import UserFacingError
from bot.settings import ModelChoice
from cogs.generate._validation import resolve_model, validate_image, validate_prompt

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    command: str  # "imagine" or "video"
    prompt: str
    model: str | None
    image: discord.Attachment | None


def input_assets_for(image: discord.Attachment | None) -> dict[str, Any] | None:
    if image is None:
        return None
    asset: dict[str, Any] = {"image_url": image.url, "filename": image.filename}
    if image.content_type:
        asset["content_type"] = image.content_type
    if image.width and image.height:
        asset["width"], asset["height"] = image.width, image.height
    return asset


def new_task(
    interaction: discord.Interaction[MindProxyBot],
    request: GenerationRequest,
    model: ModelChoice,
    prompt: str,
) -> NewTask:
    key = str(interaction.id)
    return NewTask(
        key=key,
        task_type=model.task_type if request.command == "imagine" else TaskType.VIDEO,
        model=model.name,
        prompt=prompt,
        requester_id=interaction.user.id,
        channel_id=interaction.channel_id or 0,
        guild_id=interaction.guild_id,
        input_assets=input_assets_for(request.image),
        # Lets a task be traced from the gateway's console back to its Discord context.
        metadata={
            "source": "discord",
            "command": request.command,
            "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
            "channel_id": str(interaction.channel_id),
            "user_id": str(interaction.user.id),
            "interaction_id": key,
        },
        reply_token=interaction.token,
        reply_token_expires_at=interaction.expires_at,
        upload_limit=interaction.filesize_limit,
    )


async def submit_generation(
    interaction: discord.Interaction[MindProxyBot],
    request: GenerationRequest,
    *,
    models: Sequence[ModelChoice],
) -> None:
    bot = interaction.client
    if not bot.engine.running:  # shutting down: a row written now would wait for the next start
        raise UserFacingError(rendering.busy_message(), log_detail="refused while shutting down")
    prompt = validate_prompt(request.prompt, max_length=bot.settings.max_prompt_length)
    validate_image(request.image, max_bytes=bot.settings.max_image_bytes)
    model = resolve_model(request.model, models)

    key = str(interaction.id)  # the idempotency key: Discord never reuses an interaction id
    limit = bot.settings.max_active_per_user
    try:
        # The limit is checked in the same transaction as the insert: quick double commands cannot
        # both slip through, and nothing waits on a lock while Discord's 3 s run.
        record = await bot.engine.submit(
            new_task(interaction, request, model, prompt), max_unfinished_for_requester=limit
        )
    except ActiveLimitError:
        active = await bot.engine.active_for_requester(interaction.user.id)
        raise UserFacingError(
            rendering.active_limit_message(limit, active), log_detail=f"at the limit of {limit} tasks"
        ) from None
    except DuplicateTaskError:
        log.warning("task %s: interaction delivered twice; the first one stands", key)
        return
    log.info("task %s: /%s by user %s, model %s", key, request.command, interaction.user.id, model.name)

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

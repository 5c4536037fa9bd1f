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
from bot.cancel_button import cancel_view
from bot.command_tree import send_ephemeral
from bot.engine.models import TaskType
from bot.engine.store import ActiveLimitError, DuplicateTaskError, NewTask
from bot.settings import ModelChoice

if TYPE_CHECKING:
    from bot.discord_bot import MindProxyBot

log = logging.getLogger(__name__)

MAX_PROMPT_LENGTH = 1500  # also the slash option's max_length, so Discord enforces it client-side


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    command: str  # "imagine" or "video"
    prompt: str
    model: str | None
    image: discord.Attachment | None


def resolve_model(requested: str | None, choices: Sequence[ModelChoice]) -> ModelChoice | None:
    """The configured model named `requested` (case-insensitive), the first one when none asked."""
    if requested is None or not requested.strip():
        return choices[0]
    wanted = requested.strip().lower()
    return next((choice for choice in choices if choice.name.lower() == wanted), None)


def validate_prompt(prompt: str) -> tuple[str | None, str | None]:
    """(clean prompt, None) or (None, error message). Midjourney flags such as `--ar 16:9` pass untouched."""
    cleaned = prompt.strip()
    if not cleaned:
        return None, rendering.prompt_empty_message()
    if len(cleaned) > MAX_PROMPT_LENGTH:
        return None, rendering.prompt_too_long_message(len(cleaned), MAX_PROMPT_LENGTH)
    return cleaned, None


def validate_image(image: discord.Attachment | None, *, max_bytes: int) -> str | None:
    """An error message when the attachment is not an acceptable image, else None."""
    if image is None:
        return None
    content_type = (image.content_type or "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        return rendering.attachment_not_image_message(image.filename, image.content_type)
    if image.size > max_bytes:
        return rendering.attachment_too_large_message(image.filename, image.size, max_bytes)
    return None


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
    )


async def submit_generation(
    interaction: discord.Interaction[MindProxyBot],
    request: GenerationRequest,
    *,
    models: Sequence[ModelChoice],
) -> None:
    bot = interaction.client
    if not bot.engine.running:  # shutting down: a row written now would wait for the next start
        await send_ephemeral(interaction, rendering.busy_message())
        return
    prompt, problem = validate_prompt(request.prompt)
    if problem is None:
        problem = validate_image(request.image, max_bytes=bot.settings.max_image_bytes)
    model = resolve_model(request.model, models)
    if problem is None and model is None:
        problem = rendering.unknown_model_message(request.model or "", [m.name for m in models])
    if problem is not None or prompt is None or model is None:
        await send_ephemeral(interaction, problem or rendering.unexpected_error_message())
        return

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
        await send_ephemeral(interaction, rendering.active_limit_message(limit, active))
        return
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

"""What /imagine and /video accept: a prompt, a configured model and an image attachment.

Each check raises `UserFacingError` with the private explanation; nothing here touches the store.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot import rendering
from bot.frontend.errors import UserFacingError
from bot.settings import ModelChoice

MAX_PROMPT_LENGTH = 1500  # also the slash option's max_length, so Discord enforces it client-side


def resolve_model(requested: str | None, choices: Sequence[ModelChoice]) -> ModelChoice:
    """The configured model named `requested` (case-insensitive), the first one when none asked."""
    if requested is None or not requested.strip():
        return choices[0]
    wanted = requested.strip().lower()
    chosen = next((choice for choice in choices if choice.name.lower() == wanted), None)
    if chosen is None:
        raise UserFacingError(rendering.unknown_model_message(requested, [m.name for m in choices]))
    return chosen


def validate_prompt(prompt: str) -> str:
    """The prompt, stripped. Midjourney flags such as `--ar 16:9` pass untouched."""
    cleaned = prompt.strip()
    if not cleaned:
        raise UserFacingError(rendering.prompt_empty_message())
    if len(cleaned) > MAX_PROMPT_LENGTH:
        raise UserFacingError(rendering.prompt_too_long_message(len(cleaned), MAX_PROMPT_LENGTH))
    return cleaned


def validate_image(image: discord.Attachment | None, *, max_bytes: int) -> None:
    """Refuse an attachment that is not an acceptable image."""
    if image is None:
        return
    content_type = (image.content_type or "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        raise UserFacingError(rendering.attachment_not_image_message(image.filename, image.content_type))
    if image.size > max_bytes:
        raise UserFacingError(rendering.attachment_too_large_message(image.filename, image.size, max_bytes))

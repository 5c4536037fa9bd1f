"""What /imagine and /video accept: a prompt, a configured model and an image attachment.

Each check raises `UserFacingError` with the private explanation; nothing here touches the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

import discord

from bot import rendering
from bot.frontend.errors import UserFacingError
from bot.settings import ModelChoice

# The slash option's max_length: Discord's own limit for a string option. The limit that applies is
# the MAX_PROMPT_LENGTH setting (at most this), checked in code so an operator can lower it any time.
PROMPT_OPTION_MAX_LENGTH = 6000

# Image formats the gateway takes as a reference image, by content type, with the file extensions that
# may carry each. Both must agree: a renamed SVG or HEIC is refused even if Discord calls it image/png.
IMAGE_FORMATS: dict[str, frozenset[str]] = {
    "image/png": frozenset({".png"}),
    "image/jpeg": frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
    "image/webp": frozenset({".webp"}),
    "image/gif": frozenset({".gif"}),
}


def resolve_model(requested: str | None, choices: Sequence[ModelChoice]) -> ModelChoice:
    """The configured model named `requested` (case-insensitive), the first one when none asked."""
    if requested is None or not requested.strip():
        return choices[0]
    wanted = requested.strip().lower()
    chosen = next((choice for choice in choices if choice.name.lower() == wanted), None)
    if chosen is None:
        raise UserFacingError(rendering.unknown_model_message(requested, [m.name for m in choices]))
    return chosen


def validate_prompt(prompt: str, *, max_length: int) -> str:
    """The prompt, stripped. Midjourney flags such as `--ar 16:9` pass untouched."""
    cleaned = prompt.strip()
    if not cleaned:
        raise UserFacingError(rendering.prompt_empty_message())
    if len(cleaned) > max_length:
        raise UserFacingError(rendering.prompt_too_long_message(len(cleaned), max_length))
    return cleaned


def validate_image(image: discord.Attachment | None, *, max_bytes: int) -> None:
    """Refuse an attachment that is not an acceptable image."""
    if image is None:
        return
    content_type = (image.content_type or "").split(";")[0].strip().lower()
    extension = PurePosixPath(image.filename.lower()).suffix
    if extension not in IMAGE_FORMATS.get(content_type, frozenset()):
        raise UserFacingError(
            rendering.attachment_not_image_message(image.filename, image.content_type),
            log_detail=f"attachment {content_type or '?'} {extension or '(no extension)'} refused",
        )
    if image.size > max_bytes:
        raise UserFacingError(rendering.attachment_too_large_message(image.filename, image.size, max_bytes))

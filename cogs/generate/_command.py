"""The shape shared by /imagine and /video: prompt, model (autocompleted) and an optional image.

Each cog builds its command here and adds it to the tree in `cog_load` (removed in `cog_unload`), so
the two commands cannot drift apart in validation, options or limits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.frontend.submission import TaskRequest, ensure_accepting, input_assets_for, submit_task
from bot.frontend.validation import PROMPT_OPTION_MAX_LENGTH, resolve_model, validate_image
from bot.settings import ModelChoice
from cogs.generate._models import model_choices

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

ModelsOf = Callable[["MindProxyBot"], Sequence[ModelChoice]]


def generation_command(
    *, name: str, description: str, prompt_help: str, image_help: str, models_of: ModelsOf
) -> app_commands.Command[Any, ..., None]:
    @app_commands.command(name=name, description=description)
    @app_commands.describe(
        prompt=prompt_help,
        model="Which model to use (defaults to the first one this server offers)",
        image=image_help,
    )
    @app_commands.guild_only()
    async def generate(
        interaction: discord.Interaction[MindProxyBot],
        prompt: app_commands.Range[str, 1, PROMPT_OPTION_MAX_LENGTH],
        model: str | None = None,
        image: discord.Attachment | None = None,
    ) -> None:
        ensure_accepting(interaction)
        settings = interaction.client.settings
        validate_image(image, max_bytes=settings.max_image_bytes)
        chosen = resolve_model(model, models_of(interaction.client))
        request = TaskRequest(command=name, model=chosen, prompt=prompt, input_assets=input_assets_for(image))
        await submit_task(interaction, request)

    @generate.autocomplete("model")
    async def _complete_model(
        interaction: discord.Interaction[MindProxyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return model_choices(models_of(interaction.client), current)

    return generate

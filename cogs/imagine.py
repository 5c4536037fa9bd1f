"""/imagine: an image from a prompt (async_image, or midjourney for a Midjourney model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.model_autocomplete import model_choices
from bot.submission import MAX_PROMPT_LENGTH, GenerationRequest, submit_generation

if TYPE_CHECKING:
    from bot.discord_bot import MindProxyBot


class ImagineCog(commands.Cog):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot

    @app_commands.command(name="imagine", description="Generate an image from a prompt")
    @app_commands.describe(
        prompt="What to draw. Midjourney flags such as --ar 16:9 are passed through.",
        model="Which model to use (defaults to the server's first one)",
        image="A reference image (PNG, JPEG, WebP or GIF)",
    )
    @app_commands.guild_only()
    async def imagine(
        self,
        interaction: discord.Interaction[MindProxyBot],
        prompt: app_commands.Range[str, 1, MAX_PROMPT_LENGTH],
        model: str | None = None,
        image: discord.Attachment | None = None,
    ) -> None:
        await submit_generation(
            interaction,
            GenerationRequest(command="imagine", prompt=prompt, model=model, image=image),
            models=self.bot.settings.imagine_models,
        )

    @imagine.autocomplete("model")
    async def _model_autocomplete(
        self, interaction: discord.Interaction[MindProxyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return model_choices(self.bot.settings.imagine_models, current)


async def setup(bot: MindProxyBot) -> None:
    await bot.add_cog(ImagineCog(bot))

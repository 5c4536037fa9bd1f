"""/video: a video from a prompt, or from an image (image-to-video)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.model_autocomplete import model_choices
from bot.submission import MAX_PROMPT_LENGTH, GenerationRequest, submit_generation

if TYPE_CHECKING:
    from bot.discord_bot import MindProxyBot


class VideoCog(commands.Cog):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot

    @app_commands.command(name="video", description="Generate a video from a prompt, or animate an image")
    @app_commands.describe(
        prompt="What should happen in the video",
        model="Which model to use (defaults to the server's first one)",
        image="An image to animate (image-to-video)",
    )
    @app_commands.guild_only()
    async def video(
        self,
        interaction: discord.Interaction[MindProxyBot],
        prompt: app_commands.Range[str, 1, MAX_PROMPT_LENGTH],
        model: str | None = None,
        image: discord.Attachment | None = None,
    ) -> None:
        await submit_generation(
            interaction,
            GenerationRequest(command="video", prompt=prompt, model=model, image=image),
            models=self.bot.settings.video_models,
        )

    @video.autocomplete("model")
    async def _model_autocomplete(
        self, interaction: discord.Interaction[MindProxyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return model_choices(self.bot.settings.video_models, current)


async def setup(bot: MindProxyBot) -> None:
    await bot.add_cog(VideoCog(bot))

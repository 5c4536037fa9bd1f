"""/imagine (an image: async_image, or midjourney for a Midjourney model) and /video (a video from a
prompt, or image-to-video). Both commands come from `generation_command`, so they cannot drift apart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from discord import app_commands
from discord.ext import commands

from cogs.generate._command import generation_command

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot


class GenerateCog(commands.Cog):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot
        self.commands: tuple[app_commands.Command[Any, ..., None], ...] = (
            generation_command(
                name="imagine",
                description="Generate an image from a prompt",
                prompt_help="What to draw. Midjourney flags such as --ar 16:9 are passed through.",
                image_help="A reference image (PNG, JPEG, WebP or GIF)",
                models_of=lambda bot: bot.settings.imagine_models,
            ),
            generation_command(
                name="video",
                description="Generate a video from a prompt, or animate an image",
                prompt_help="What should happen in the video",
                image_help="An image to animate (image-to-video)",
                models_of=lambda bot: bot.settings.video_models,
            ),
        )

    async def cog_load(self) -> None:
        for command in self.commands:
            self.bot.tree.add_command(command)

    async def cog_unload(self) -> None:
        for command in self.commands:
            self.bot.tree.remove_command(command.name)

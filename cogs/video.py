"""/video: a video from a prompt, or from an image (image-to-video)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from bot.generation_command import generation_command

if TYPE_CHECKING:
    from bot.discord_bot import MindProxyBot


class VideoCog(commands.Cog):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot
        self.command = generation_command(
            name="video",
            description="Generate a video from a prompt, or animate an image",
            prompt_help="What should happen in the video",
            image_help="An image to animate (image-to-video)",
            models_of=lambda bot: bot.settings.video_models,
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.command)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.command.name)


async def setup(bot: MindProxyBot) -> None:
    await bot.add_cog(VideoCog(bot))

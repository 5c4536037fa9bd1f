"""/imagine: an image from a prompt (async_image, or midjourney for a Midjourney model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from bot.generation_command import generation_command

if TYPE_CHECKING:
    from bot.discord_bot import MindProxyBot


class ImagineCog(commands.Cog):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot
        self.command = generation_command(
            name="imagine",
            description="Generate an image from a prompt",
            prompt_help="What to draw. Midjourney flags such as --ar 16:9 are passed through.",
            image_help="A reference image (PNG, JPEG, WebP or GIF)",
            models_of=lambda bot: bot.settings.imagine_models,
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.command)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.command.name)


async def setup(bot: MindProxyBot) -> None:
    await bot.add_cog(ImagineCog(bot))

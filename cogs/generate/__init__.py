"""/imagine and /video: validation, submission and model autocomplete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.generate._cog import GenerateCog

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

__all__ = ["GenerateCog"]


async def setup(bot: MindProxyBot) -> None:
    await bot.add_cog(GenerateCog(bot))

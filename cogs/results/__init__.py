"""The buttons on a finished result: Reroll, Vary, Animate (new tasks) and Delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.results._cog import ResultsCog

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

__all__ = ["ResultsCog"]


async def setup(bot: MindProxyBot) -> None:
    await bot.add_cog(ResultsCog(bot))

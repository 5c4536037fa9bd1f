"""/tasks (a user's history in a server, paged) and /show (one task again, with its result)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.history._cog import HistoryCog

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

__all__ = ["HistoryCog"]


async def setup(bot: MindProxyBot) -> None:
    await bot.add_cog(HistoryCog(bot))

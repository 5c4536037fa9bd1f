"""/notify on|off: a DM with a link to the result when one of your jobs ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.notify._cog import NotifyCog

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

__all__ = ["NotifyCog"]


async def setup(bot: MindProxyBot) -> None:
    await bot.add_cog(NotifyCog(bot))

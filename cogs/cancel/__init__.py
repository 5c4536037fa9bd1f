"""/cancel and the persistent Cancel button: who may cancel, and what they are told."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.cancel._cog import CancelCog

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

__all__ = ["CancelCog"]


async def setup(bot: MindProxyBot) -> None:
    await bot.add_cog(CancelCog(bot))

"""The persistent Cancel button's click handler, registered by the cancel cog."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.frontend.components import CANCEL_TEMPLATE, cancel_button
from cogs.cancel._cancellation import cancel_for_user

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CANCEL_TEMPLATE):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(cancel_button(key))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CancelButton:
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction[MindProxyBot]) -> None:  # type: ignore[override]
        await cancel_for_user(interaction, self.key, via_button=True)

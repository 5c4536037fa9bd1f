"""The persistent Cancel button's click handler, registered by the cancel cog."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.frontend.components import CANCEL_TEMPLATE, cancel_button
from cogs.cancel._cancellation import cancel_for_user, refuse

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
        record = await interaction.client.engine.get(self.key)
        clicked = interaction.message.id if interaction.message is not None else None
        if record is not None and clicked != record.message_id:
            await refuse(interaction, f"button of task {self.key} clicked on message {clicked}, not its own")
            return
        await cancel_for_user(interaction, record, via_button=True)

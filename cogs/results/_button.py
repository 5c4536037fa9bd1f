"""The persistent buttons on a finished result (one `DynamicItem` for the four), registered by the
results cog: a click names the task in its custom_id, so it works on any message, after any restart."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Protocol, cast

import discord

from bot.frontend.command_tree import answering_errors
from bot.frontend.components import RESULT_TEMPLATE, ResultAction, result_button

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

log = logging.getLogger(__name__)

COG_NAME = "ResultsCog"


class ClickHandler(Protocol):
    async def handle_click(
        self, interaction: discord.Interaction[MindProxyBot], action: ResultAction, key: str
    ) -> None: ...


class ResultButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=RESULT_TEMPLATE):
    def __init__(self, action: ResultAction, key: str) -> None:
        self.action = action
        self.key = key
        super().__init__(result_button(action, key))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ResultButton:
        return cls(ResultAction(match["action"]), match["key"])

    async def callback(self, interaction: discord.Interaction[MindProxyBot]) -> None:  # type: ignore[override]
        # The cog holds what a click needs (the reference checker's HTTP client); it is loaded
        # whenever this item is registered.
        cog = interaction.client.get_cog(COG_NAME)
        if cog is None:
            log.warning("result button clicked while the results cog is not loaded")
            return
        handler = cast(ClickHandler, cog)
        await answering_errors(interaction, handler.handle_click(interaction, self.action, self.key))

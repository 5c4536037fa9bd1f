"""The persistent Cancel button under every unfinished status message.

A `DynamicItem` carries the task key in its custom_id, so a click is understood by any process of
the bot, including one started after the message was sent (the button needs no in-memory view).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.cancellation import cancel_for_user

if TYPE_CHECKING:
    from bot.discord_bot import MindProxyBot

CUSTOM_ID_PREFIX = "mindproxy:cancel:"
# Keys are Discord interaction ids (snowflakes); the bound keeps custom_id far below Discord's 100 chars.
KEY_PATTERN = r"[0-9A-Za-z_-]{1,64}"


class CancelButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.escape(CUSTOM_ID_PREFIX) + rf"(?P<key>{KEY_PATTERN})",
):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            discord.ui.Button(
                label="Cancel",
                style=discord.ButtonStyle.danger,
                emoji="✖️",
                custom_id=f"{CUSTOM_ID_PREFIX}{key}",
            )
        )

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


def cancel_view(key: str) -> discord.ui.View:
    """A view holding only the Cancel button of `key`, for sending with a status message.

    Clicks are dispatched through the `CancelButton` registered with `add_dynamic_items`, not through
    this view, so it is stopped at once: discord.py then does not keep it in its view store, which
    would otherwise hold one view per status message for as long as the bot runs.
    """
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(key))
    view.stop()
    return view

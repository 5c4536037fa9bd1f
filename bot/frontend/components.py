"""The buttons the bot puts on its messages: their custom_id formats and the views that carry them.

Clicks are not handled here. Each button's custom_id carries the task key, and the cog that owns the
feature registers a `DynamicItem` with the matching template (`add_dynamic_items` in `cog_load`), so a
click is understood by any process of the bot, including one started after the message was sent.
Views are built here because delivery builds them too: imports go from cogs/ to bot/, never back.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.engine import TaskRecord
    from bot.rendering import RenderedMessage

CANCEL_CUSTOM_ID_PREFIX = "mindproxy:cancel:"
# Keys are Discord interaction ids (snowflakes); the bound keeps custom_id far below Discord's 100 chars.
KEY_PATTERN = r"[0-9A-Za-z_-]{1,64}"
CANCEL_TEMPLATE = re.escape(CANCEL_CUSTOM_ID_PREFIX) + rf"(?P<key>{KEY_PATTERN})"


def cancel_button(key: str) -> discord.ui.Button[Any]:
    """The red Cancel button of the task `key`."""
    return discord.ui.Button(
        label="Cancel",
        style=discord.ButtonStyle.danger,
        emoji="✖️",
        custom_id=f"{CANCEL_CUSTOM_ID_PREFIX}{key}",
    )


def cancel_view(key: str) -> discord.ui.View:
    """A view holding only the Cancel button of `key`, for sending with a status message.

    Clicks are dispatched through the registered `DynamicItem`, not through this view, so it is stopped
    at once: discord.py then does not keep it in its view store, which would otherwise hold one view
    per status message for as long as the bot runs.
    """
    view = discord.ui.View(timeout=None)
    view.add_item(cancel_button(key))
    view.stop()
    return view


def status_view(record: TaskRecord, rendered: RenderedMessage) -> discord.ui.View | None:
    """The buttons under a task's status message as it is shown now: Cancel while it runs, nothing
    once it ended. Every edit of a status message takes its view from here."""
    return cancel_view(record.key) if rendered.show_cancel else None

"""The buttons the bot puts on its messages: their custom_id formats and the views that carry them.

Clicks are not handled here. Each button's custom_id carries the task key, and the cog that owns the
feature registers a `DynamicItem` with the matching template (`add_dynamic_items` in `cog_load`), so a
click is understood by any process of the bot, including one started after the message was sent.
Views are built here because delivery builds them too: imports go from cogs/ to bot/, never back.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TYPE_CHECKING, Any

import discord

from bot.engine.api.models import TaskType
from bot.rendering import DisplayState, display_state

if TYPE_CHECKING:
    from bot.engine import TaskRecord
    from bot.rendering import RenderedMessage

CANCEL_CUSTOM_ID_PREFIX = "mindproxy:cancel:"
# Keys are Discord interaction ids (snowflakes); the bound keeps custom_id far below Discord's 100 chars.
KEY_PATTERN = r"[0-9A-Za-z_-]{1,64}"
CANCEL_TEMPLATE = re.escape(CANCEL_CUSTOM_ID_PREFIX) + rf"(?P<key>{KEY_PATTERN})"


class ResultAction(Enum):
    """What a button on a finished result does; the value is in its custom_id and is the new task's
    `origin_action` (Delete makes no task)."""

    REROLL = "reroll"
    VARY = "vary"
    ANIMATE = "animate"
    DELETE = "delete"


# e.g. "mindproxy:vary:1312345678901234567"
RESULT_TEMPLATE = (
    r"mindproxy:(?P<action>" + "|".join(a.value for a in ResultAction) + rf"):(?P<key>{KEY_PATTERN})"
)

_RESULT_LOOKS: dict[ResultAction, tuple[str, str, discord.ButtonStyle]] = {
    ResultAction.REROLL: ("Reroll", "🔁", discord.ButtonStyle.secondary),
    ResultAction.VARY: ("Vary", "🎨", discord.ButtonStyle.secondary),
    ResultAction.ANIMATE: ("Animate", "🎬", discord.ButtonStyle.secondary),
    ResultAction.DELETE: ("Delete", "🗑️", discord.ButtonStyle.danger),
}


def cancel_button(key: str) -> discord.ui.Button[Any]:
    """The red Cancel button of the task `key`."""
    return discord.ui.Button(
        label="Cancel",
        style=discord.ButtonStyle.danger,
        emoji="✖️",
        custom_id=f"{CANCEL_CUSTOM_ID_PREFIX}{key}",
    )


def result_button(action: ResultAction, key: str) -> discord.ui.Button[Any]:
    """One of the buttons under the finished result of the task `key`."""
    label, emoji, style = _RESULT_LOOKS[action]
    return discord.ui.Button(
        label=label, style=style, emoji=emoji, custom_id=f"mindproxy:{action.value}:{key}"
    )


def _stopped(*items: discord.ui.Item[Any]) -> discord.ui.View:
    """A view of `items` for sending with a message.

    Clicks are dispatched through the registered `DynamicItem`s, not through this view, so it is
    stopped at once: discord.py then does not keep it in its view store, which would otherwise hold one
    view per message for as long as the bot runs.
    """
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    view.stop()
    return view


def cancel_view(key: str) -> discord.ui.View:
    """A view holding only the Cancel button of `key`, for sending with a status message."""
    return _stopped(cancel_button(key))


def result_actions(record: TaskRecord) -> list[ResultAction]:
    """The buttons a finished task offers: none unless it succeeded with a readable result; Vary and
    Animate only on an image (a video model is always configured: the settings require one)."""
    if display_state(record) is not DisplayState.DONE:
        return []
    has_image = record.task_type is not TaskType.VIDEO and (
        (record.result is not None and record.result.image_url is not None)
        or record.media_state == "attached"
    )
    if has_image:
        return [ResultAction.REROLL, ResultAction.VARY, ResultAction.ANIMATE, ResultAction.DELETE]
    return [ResultAction.REROLL, ResultAction.DELETE]


def result_view(record: TaskRecord) -> discord.ui.View | None:
    """The buttons under a finished result (see `result_actions`), or None when it offers none."""
    offered = result_actions(record)
    return _stopped(*(result_button(action, record.key) for action in offered)) if offered else None


def status_view(record: TaskRecord, rendered: RenderedMessage) -> discord.ui.View | None:
    """The buttons under a task's status message as it is shown now: Cancel while it runs, the result's
    buttons once it succeeded, nothing otherwise. Every edit of a status message takes its view from
    here."""
    if rendered.show_cancel:
        return cancel_view(record.key)
    return result_view(record) if record.is_finished else None

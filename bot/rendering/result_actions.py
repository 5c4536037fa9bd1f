"""Private answers to the buttons on a finished result (Reroll, Vary, Animate, Delete) and to an id
that named a task the bot no longer remembers."""

from __future__ import annotations

import discord

from bot.engine.store.interface import TaskRecord
from bot.rendering.ephemeral import SHORT_PROMPT_LIMIT
from bot.rendering.text import CONTENT_LIMIT, escape_for_content, inline_code, one_line, truncate

_VERBS = {"reroll": "reroll it", "vary": "make a variation of it", "animate": "animate it"}


def _prompt(record: TaskRecord) -> str:
    prompt = escape_for_content(one_line(record.prompt)) or "(no prompt)"
    return f"“{truncate(prompt, SHORT_PROMPT_LIMIT)}”"


def reference_gone_message(action: str, why: str) -> str:
    """The image a new task would start from cannot be downloaded any more (an expired link, a
    deleted file): say so rather than make a task that can only fail."""
    verb = _VERBS.get(action, "use it")
    return truncate(
        f"The image this would start from is no longer available ({why}), so I cannot {verb}. "
        "Start a new one with `/imagine` or `/video` and attach the image again.",
        CONTENT_LIMIT,
    )


def no_result_image_message() -> str:
    return "This result has no image to start from."


def model_gone_message(model: str) -> str:
    """The task's model is no longer configured here: a new task with it would be refused anyway."""
    shown = inline_code(discord.utils.escape_mentions(one_line(model)), 102)
    return (
        f"The model {shown} of this task is no longer offered here, so I cannot reroll it. "
        "Start a new one with `/imagine` or `/video`."
    )


def result_was_deleted_message(record: TaskRecord) -> str:
    """A result whose messages were deleted with its Delete button: it is not shown or reused again."""
    by = "its requester" if record.deleted_by == record.requester_id else "a moderator"
    return f"That result was deleted by {by}, so it cannot be shown or reused."


def task_forgotten_message() -> str:
    """A task that existed but was pruned with its history (TASK_RETENTION_DAYS)."""
    return "That task is too old: it has been forgotten, along with its prompt and result."


def delete_not_allowed_message() -> str:
    return "Only the person who asked for this result, or a moderator of its channel, can delete it."


def still_delivering_message() -> str:
    """Deleting while the result is still being posted would race the post; it takes a moment."""
    return "This result is still being delivered. Try again in a moment."


def result_deleted_message(record: TaskRecord, *, left: int) -> str:
    if left:
        return truncate(
            f"Deleted what I could of {_prompt(record)}; {left} message(s) could not be deleted "
            "(I may have lost access to them).",
            CONTENT_LIMIT,
        )
    return truncate(f"Deleted the result of {_prompt(record)}.", CONTENT_LIMIT)


def not_your_list_message() -> str:
    return "That list is not yours: run `/tasks` to see your own."

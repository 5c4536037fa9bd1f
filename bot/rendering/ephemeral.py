"""Ephemeral answers: short, friendly texts only the person who ran the command sees.

Each one says what happened and what to do next, and fits Discord's 2,000-character content limit.
User text is escaped anyway, so a copy of it can never ping anyone or break the layout.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.engine.store.interface import TaskRecord
from bot.rendering.states import DisplayState, charge_note, display_state, processing_started_at
from bot.rendering.text import (
    CONTENT_LIMIT,
    discord_timestamp,
    escape_for_content,
    format_bytes,
    inline_code,
    one_line,
    short_ref,
    truncate,
)

SHORT_PROMPT_LIMIT = 60
LISTED_TASKS_LIMIT = 10
SUPPORTED_IMAGE_TYPES = "PNG, JPEG, WebP or GIF"


def _fit(text: str) -> str:
    return truncate(text, CONTENT_LIMIT)


def _short_prompt(record: TaskRecord) -> str:
    prompt = escape_for_content(one_line(record.prompt)) or "(no prompt)"
    return f"“{truncate(prompt, SHORT_PROMPT_LIMIT)}”"


def _user_value(text: str, limit: int) -> str:
    """A name the user supplied (a file name, a model), as inline code that cannot ping."""
    return inline_code(discord.utils.escape_mentions(one_line(text)), limit)


def task_reference(record: TaskRecord) -> str:
    """How a task is named to its owner: the request key, as in the status message's footer."""
    return inline_code(short_ref(record.key, 20), 30)


def prompt_empty_message() -> str:
    return (
        "Your prompt is empty. Describe what you want to see, for example `a lighthouse at dawn --ar 16:9`."
    )


def prompt_too_long_message(length: int, limit: int) -> str:
    return _fit(
        f"Your prompt is {length:,} characters long; the limit is {limit:,}. "
        f"Shorten it by {max(length - limit, 1):,} characters and try again."
    )


def attachment_not_image_message(filename: str, content_type: str | None) -> str:
    kind = f" ({_user_value(content_type, 80)})" if content_type else ""
    return _fit(
        f"{_user_value(filename, 120)}{kind} is not an image I can use. "
        f"Attach a {SUPPORTED_IMAGE_TYPES} file and try again."
    )


def attachment_too_large_message(filename: str, size: int, limit: int) -> str:
    return _fit(
        f"{_user_value(filename, 120)} is {format_bytes(size)}; images can be at most {format_bytes(limit)}. "
        "Attach a smaller or compressed version and try again."
    )


def active_limit_message(limit: int, active: Sequence[TaskRecord]) -> str:
    """Too many tasks at once: list the running ones and say how to free a slot."""
    count = len(active)
    header = (
        f"You already have {count} {'task' if count == 1 else 'tasks'} running, and the limit is {limit} "
        "at a time. Wait for one to finish, or stop one with `/cancel` (its `task` option takes the id "
        "listed here)."
    )
    lines = [header]
    for record in active[:LISTED_TASKS_LIMIT]:
        state = display_state(record)
        moment = processing_started_at(record) if state is DisplayState.PROCESSING else record.created_at
        verb = "started" if state is DisplayState.PROCESSING else "since"
        when = discord_timestamp(moment)
        lines.append(f"• {task_reference(record)} {_short_prompt(record)}: {state.label}, {verb} {when}")
    if len(active) > LISTED_TASKS_LIMIT:
        lines.append(f"…and {len(active) - LISTED_TASKS_LIMIT} more.")
    return _fit("\n".join(lines))


def unknown_model_message(model: str, choices: Sequence[str]) -> str:
    options = ", ".join(inline_code(choice, 102) for choice in choices) or "none are configured"
    return _fit(f"{_user_value(model, 102)} is not a model I can use here. Pick one of: {options}.")


def already_finished_message(record: TaskRecord) -> str:
    state = display_state(record)
    return _fit(
        f"{_short_prompt(record)} has already finished ({state.label}), so there is nothing to cancel."
    )


def nothing_to_cancel_message() -> str:
    return "You have no running tasks to cancel."


def no_such_task_here_message() -> str:
    """The one answer for an id that matches nothing, someone else's task, or another server's: a
    refusal that tells them apart would tell strangers which tasks exist."""
    return "No task of yours with that id here."


def cancel_done_message(record: TaskRecord) -> str:
    """The answer to a cancel the engine accepted: ended now, or being stopped at the gateway."""
    prompt = _short_prompt(record)
    if record.local_outcome is LocalOutcome.CANCELLED_BEFORE_START or record.status is TaskStatus.CANCELLED:
        return _fit(f"Cancelled {prompt}. {charge_note(record) or 'Nothing was charged.'}")
    if record.is_finished:
        return already_finished_message(record)
    if record.task_id is None:
        return _fit(
            f"Cancel requested for {prompt}. The generation service has not confirmed this request yet; "
            "the bot will cancel it there as soon as it answers, and the status message will say so."
        )
    return _fit(f"Cancelling {prompt}. The status message will update once the generation service confirms.")


def cancel_failed_message(user_message: str) -> str:
    reason = (
        truncate(escape_for_content(one_line(user_message)), 1500) or "the generation service did not answer"
    )
    if not reason.endswith((".", "!", "?", "…")):
        reason += "."
    return _fit(f"I could not cancel that task: {reason} Please try again in a moment.")


def unexpected_error_message() -> str:
    return (
        "Something went wrong on our side and your request was not completed. Please try again in a moment."
    )


def busy_message() -> str:
    return "I am restarting and cannot take requests right now. Please try again in a minute."


def invalid_option_message(option: str, value: object) -> str:
    """A slash option Discord let through but the bot could not read (e.g. a stale autocomplete)."""
    shown = escape_for_content(one_line(str(value)))
    return _fit(
        f"That value for `{option}` is not valid: “{truncate(shown, SHORT_PROMPT_LIMIT)}”. Please pick again."
    )


def guild_only_message() -> str:
    return "This command works in a server channel, not in direct messages."


def notify_setting_message(enabled: bool) -> str:
    """The answer to /notify: the setting as it is now, and what it means."""
    if enabled:
        return (
            "🔔 Job DMs are **on**: when one of your jobs ends, I will send you a DM with a link to its "
            "result. Turn them off with `/notify off`."
        )
    return "🔕 Job DMs are **off**: you hear about your jobs in the channel only. `/notify on` turns them on."

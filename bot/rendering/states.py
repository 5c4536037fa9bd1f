"""What a task record means to the person who asked: its display state, label, colour and wording."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import discord

from bot.engine.api.models import LocalOutcome, TaskStatus, TaskType
from bot.engine.store.interface import TaskRecord
from bot.rendering.text import parse_moment


class DisplayState(Enum):
    """The states a user can tell apart; the value is the label shown in the Status field."""

    QUEUED = "Queued"
    PROCESSING = "Processing"
    OTHER = "Status"  # a status number the bot does not know: still running, shown as "Status N"
    DONE = "Done"
    UNREADABLE = "Finished, result unreadable"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    REFUNDED = "Refunded"
    TIMED_OUT = "Timed out"
    REJECTED = "Rejected"
    UNREACHABLE = "Gateway unreachable"
    UNCONFIRMED = "Unconfirmed"
    LOST = "Lost"

    @property
    def label(self) -> str:
        return self.value

    @property
    def is_running(self) -> bool:
        return self in (DisplayState.QUEUED, DisplayState.PROCESSING, DisplayState.OTHER)

    @property
    def is_unsuccessful(self) -> bool:
        """Ended without a usable result: the reason and the error code are shown."""
        return not self.is_running and self not in (DisplayState.DONE, DisplayState.UNREADABLE)


_OUTCOME_STATES: dict[LocalOutcome, DisplayState] = {
    LocalOutcome.TIMED_OUT: DisplayState.TIMED_OUT,
    LocalOutcome.REJECTED: DisplayState.REJECTED,
    LocalOutcome.UNREACHABLE: DisplayState.UNREACHABLE,
    LocalOutcome.UNCONFIRMED: DisplayState.UNCONFIRMED,
    LocalOutcome.LOST: DisplayState.LOST,
    LocalOutcome.CANCELLED_BEFORE_START: DisplayState.CANCELLED,
}

_STATUS_STATES: dict[TaskStatus, DisplayState] = {
    TaskStatus.CREATED: DisplayState.QUEUED,
    TaskStatus.SUBMITTED: DisplayState.QUEUED,
    TaskStatus.PROCESSING: DisplayState.PROCESSING,
    TaskStatus.SUCCEEDED: DisplayState.DONE,
    TaskStatus.FAILED: DisplayState.FAILED,
    TaskStatus.CANCELLED: DisplayState.CANCELLED,
    TaskStatus.EXPIRED: DisplayState.EXPIRED,
    TaskStatus.REFUNDED: DisplayState.REFUNDED,
}


def display_state(record: TaskRecord) -> DisplayState:
    """The state to show. A local outcome wins over a non-terminal gateway status, but a success
    the gateway reported is always shown: the user was charged for that result and should get it."""
    if record.status is TaskStatus.SUCCEEDED:
        return DisplayState.UNREADABLE if record.result_problem else DisplayState.DONE
    if record.local_outcome is not None:
        return _OUTCOME_STATES[record.local_outcome]
    if record.status is None:
        return DisplayState.QUEUED  # the create has not been answered yet
    return _STATUS_STATES.get(record.status, DisplayState.OTHER)


def status_label(record: TaskRecord) -> str:
    """The one-word (or two-word) status of a task: "Queued", "Processing", "Done", "Status 42", ..."""
    state = display_state(record)
    if state is DisplayState.OTHER and record.status is not None:
        return f"Status {int(record.status)}"
    return state.label


_COLOURS: dict[DisplayState, discord.Colour] = {
    DisplayState.QUEUED: discord.Colour.blurple(),
    DisplayState.PROCESSING: discord.Colour.blue(),
    DisplayState.OTHER: discord.Colour.blue(),
    DisplayState.DONE: discord.Colour.green(),
    DisplayState.UNREADABLE: discord.Colour.orange(),
    DisplayState.FAILED: discord.Colour.red(),
    DisplayState.CANCELLED: discord.Colour.light_grey(),
    DisplayState.EXPIRED: discord.Colour.orange(),
    DisplayState.REFUNDED: discord.Colour.light_grey(),
    DisplayState.TIMED_OUT: discord.Colour.orange(),
    DisplayState.REJECTED: discord.Colour.red(),
    DisplayState.UNREACHABLE: discord.Colour.dark_red(),
    DisplayState.UNCONFIRMED: discord.Colour.dark_orange(),
    DisplayState.LOST: discord.Colour.dark_orange(),
}

_EMOJIS: dict[DisplayState, str] = {
    DisplayState.QUEUED: "⏳",
    DisplayState.PROCESSING: "⚙️",
    DisplayState.OTHER: "⚙️",
    DisplayState.DONE: "✅",
    DisplayState.UNREADABLE: "⚠️",
    DisplayState.FAILED: "❌",
    DisplayState.CANCELLED: "🚫",
    DisplayState.EXPIRED: "⌛",
    DisplayState.REFUNDED: "↩️",
    DisplayState.TIMED_OUT: "⏱️",
    DisplayState.REJECTED: "⛔",
    DisplayState.UNREACHABLE: "📡",
    DisplayState.UNCONFIRMED: "❔",
    DisplayState.LOST: "❔",
}


def state_colour(state: DisplayState) -> discord.Colour:
    return _COLOURS[state]


def state_emoji(state: DisplayState) -> str:
    return _EMOJIS[state]


_TITLES: dict[TaskType, str] = {
    TaskType.ASYNC_IMAGE: "🎨 Imagine",
    TaskType.VIDEO: "🎬 Video",
    TaskType.MIDJOURNEY: "⛵ Midjourney",
}

_NOUNS: dict[TaskType, str] = {
    TaskType.ASYNC_IMAGE: "image",
    TaskType.VIDEO: "video",
    TaskType.MIDJOURNEY: "Midjourney image",
}


def task_title(task_type: TaskType) -> str:
    return _TITLES[task_type]


def task_noun(task_type: TaskType) -> str:
    """What the task makes, for sentences: "Your video is ready"."""
    return _NOUNS[task_type]


def default_reason(record: TaskRecord) -> str:
    """Why the task ended without a result, for when the gateway gave no message of its own."""
    if record.local_outcome is LocalOutcome.CANCELLED_BEFORE_START:
        return "The task was cancelled before it was sent to the generation service."
    reasons = {
        DisplayState.FAILED: "The generation service could not complete this task.",
        DisplayState.CANCELLED: "The task was cancelled.",
        DisplayState.EXPIRED: "The generation service gave up on this task before it finished.",
        DisplayState.REFUNDED: "The generation service refunded this task.",
        DisplayState.TIMED_OUT: "The task took too long; the bot asked the generation service to cancel it.",
        DisplayState.REJECTED: "The generation service refused this request.",
        DisplayState.UNREACHABLE: "The generation service could not be reached.",
        DisplayState.UNCONFIRMED: "The generation service never confirmed this request.",
        DisplayState.LOST: "The generation service lost track of this task.",
        DisplayState.UNREADABLE: "The generation service finished, but its result could not be read.",
    }
    return reasons.get(display_state(record), "")


def charge_note(record: TaskRecord) -> str | None:
    """What the user paid, only where it is known: the gateway said FAILED, CANCELLED, EXPIRED or
    REFUNDED (none of which it charges), it refused the create with a 4xx, or no create ever left the
    bot. None wherever no promise can be made (a time-out, an unconfirmed create, a lost task)."""
    if record.local_outcome is LocalOutcome.CANCELLED_BEFORE_START and not record.maybe_created:
        return "It was never started, so nothing was charged."
    if record.local_outcome is LocalOutcome.REJECTED:
        return "No task was created, so nothing was charged."
    if record.local_outcome is LocalOutcome.UNREACHABLE and not record.maybe_created:
        return "The request never reached it, so nothing was charged."
    if record.local_outcome is None and record.status is not None and record.status.said_not_charged:
        if record.status is TaskStatus.REFUNDED:
            return "The hold was released, so nothing was charged."
        return "Nothing was charged."
    return None


def advice(record: TaskRecord) -> str | None:
    """What the user can do next, for the outcomes where a retry is the answer."""
    state = display_state(record)
    if state is DisplayState.UNREACHABLE:
        return "Please try again in a few minutes."
    if state in (DisplayState.FAILED, DisplayState.EXPIRED, DisplayState.LOST):
        return "You can run the command again."
    if state in (DisplayState.TIMED_OUT, DisplayState.UNCONFIRMED, DisplayState.UNREADABLE):
        return f"Support can look it up by {reference_for_support(record)}."
    return None


def cancelled_by_line(record: TaskRecord) -> str | None:
    """Who cancelled a cancelled task, by name (a moderator is named, the requester is "you"); None
    when nobody here did (the gateway cancelled it, or it was not cancelled)."""
    if display_state(record) is not DisplayState.CANCELLED or record.cancelled_by is None:
        return None
    if record.cancelled_by == record.requester_id:
        return "Cancelled by the requester."
    name = record.cancelled_by_name or "a moderator"
    return (
        f"Cancelled by moderator {discord.utils.escape_mentions(discord.utils.escape_markdown(name))[:100]}."
    )


def task_id_of(record: TaskRecord) -> str:
    """The id a user sees: the gateway's task id once it exists, the bot's request key before that.
    /cancel and /show accept either, so an id copied from a message, a log or the console works."""
    return record.task_id or record.key


def reference_for_support(record: TaskRecord) -> str:
    """The id the gateway's console knows the task by, else the bot's own key."""
    if record.task_id:
        return f"task id `{record.task_id}`"
    return f"request key `{record.key}`"


def processing_started_at(record: TaskRecord) -> datetime:
    """When the gateway started working on the task, if the engine recorded it; else when it was asked."""
    if record.processing_started_at is not None:
        return record.processing_started_at
    for key in ("processing_started_at", "started_at"):
        moment = parse_moment(record.extra.get(key))
        if moment is not None:
            return moment
    return record.created_at

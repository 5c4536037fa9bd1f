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
    DONE = "Done"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    REFUNDED = "Refunded"
    TIMED_OUT = "Timed out"
    REJECTED = "Rejected"
    UNREACHABLE = "Gateway unreachable"

    @property
    def label(self) -> str:
        return self.value

    @property
    def is_running(self) -> bool:
        return self in (DisplayState.QUEUED, DisplayState.PROCESSING)

    @property
    def is_unsuccessful(self) -> bool:
        """Ended without a result: the reason and the error code are shown."""
        return not self.is_running and self is not DisplayState.DONE


_OUTCOME_STATES: dict[LocalOutcome, DisplayState] = {
    LocalOutcome.TIMED_OUT: DisplayState.TIMED_OUT,
    LocalOutcome.REJECTED: DisplayState.REJECTED,
    LocalOutcome.UNREACHABLE: DisplayState.UNREACHABLE,
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
        return DisplayState.DONE
    if record.local_outcome is not None:
        return _OUTCOME_STATES[record.local_outcome]
    if record.status is None:
        return DisplayState.QUEUED  # the create has not been answered yet
    return _STATUS_STATES[record.status]


def status_label(record: TaskRecord) -> str:
    """The one-word (or two-word) status of a task: "Queued", "Processing", "Done", "Failed", ..."""
    return display_state(record).label


_COLOURS: dict[DisplayState, discord.Colour] = {
    DisplayState.QUEUED: discord.Colour.blurple(),
    DisplayState.PROCESSING: discord.Colour.blue(),
    DisplayState.DONE: discord.Colour.green(),
    DisplayState.FAILED: discord.Colour.red(),
    DisplayState.CANCELLED: discord.Colour.light_grey(),
    DisplayState.EXPIRED: discord.Colour.orange(),
    DisplayState.REFUNDED: discord.Colour.light_grey(),
    DisplayState.TIMED_OUT: discord.Colour.orange(),
    DisplayState.REJECTED: discord.Colour.red(),
    DisplayState.UNREACHABLE: discord.Colour.dark_red(),
}

_EMOJIS: dict[DisplayState, str] = {
    DisplayState.QUEUED: "⏳",
    DisplayState.PROCESSING: "⚙️",
    DisplayState.DONE: "✅",
    DisplayState.FAILED: "❌",
    DisplayState.CANCELLED: "🚫",
    DisplayState.EXPIRED: "⌛",
    DisplayState.REFUNDED: "↩️",
    DisplayState.TIMED_OUT: "⏱️",
    DisplayState.REJECTED: "⛔",
    DisplayState.UNREACHABLE: "📡",
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
        DisplayState.TIMED_OUT: "The task took too long, so the bot cancelled it.",
        DisplayState.REJECTED: "The generation service refused this request.",
        DisplayState.UNREACHABLE: "The generation service could not be reached.",
    }
    return reasons.get(display_state(record), "")


def charge_note(record: TaskRecord) -> str | None:
    """What the user paid, where we know it: the gateway never charges failed, cancelled, expired or
    refunded tasks, and a rejected create made no task. None where no promise can be made."""
    state = display_state(record)
    if record.local_outcome is LocalOutcome.CANCELLED_BEFORE_START and state is DisplayState.CANCELLED:
        return "It was never started, so nothing was charged."
    notes = {
        DisplayState.FAILED: "Nothing was charged.",
        DisplayState.CANCELLED: "Nothing was charged.",
        DisplayState.EXPIRED: "Nothing was charged.",
        DisplayState.REFUNDED: "The hold was released, so nothing was charged.",
        DisplayState.TIMED_OUT: "It was cancelled at the generation service, so nothing was charged.",
        DisplayState.REJECTED: "No task was created, so nothing was charged.",
    }
    return notes.get(state)


def advice(record: TaskRecord) -> str | None:
    """What the user can do next, for the outcomes where a retry is the answer."""
    state = display_state(record)
    if state is DisplayState.UNREACHABLE:
        return "Please try again in a few minutes."
    if state in (DisplayState.FAILED, DisplayState.EXPIRED, DisplayState.TIMED_OUT):
        return "You can run the command again."
    return None


def processing_started_at(record: TaskRecord) -> datetime:
    """When the gateway started working on the task, if the engine recorded it; else when it was asked."""
    for key in ("processing_started_at", "started_at"):
        moment = parse_moment(record.extra.get(key))
        if moment is not None:
            return moment
    return record.created_at

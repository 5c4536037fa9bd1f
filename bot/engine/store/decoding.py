"""What both stores share when they turn a stored row into a `TaskRecord`.

Decoding is defensive: a row written by another version of the bot (an enum value this code does not
know, malformed JSON) must not break a whole query. Fields that only steer reporting degrade to None;
a row whose type or local outcome cannot be read is skipped (logged once per key).
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import TypeVar

log = logging.getLogger(__name__)

# Column order of every SELECT/RETURNING of the tasks table; each store decodes positions in this order.
COLUMNS: tuple[str, ...] = (
    "key",
    "task_type",
    "model",
    "prompt",
    "requester_id",
    "channel_id",
    "guild_id",
    "input_assets",
    "metadata",
    "message_id",
    "reply_token",
    "reply_token_expires_at",
    "task_id",
    "status",
    "local_outcome",
    "progress",
    "events_seen",
    "result",
    "error_code",
    "error_message",
    "confirmed",
    "cancel_requested",
    "attempts",
    "created_at",
    "updated_at",
    "next_poll_at",
    "completed_at",
    "notified_status",
    "notified_outcome",
    "notified_progress",
    "notify_due_at",
    "extra",
    "processing_started_at",
    "bad_reads",
    "maybe_created",
    "result_problem",
    "cancelled_by",
    "cancelled_by_name",
    "upload_limit",
    "origin_key",
    "origin_action",
    "reply_message_id",
    "media_state",
    "media_filename",
    "media_note",
    "lease_owner",
    "lease_until",
    "report_owner",
    "report_until",
    "deleted_by",
    "deleted_at",
    "waiting_since",
    "started_at",
    "wait_limit",
)
COLUMN_LIST = ", ".join(COLUMNS)

EnumT = TypeVar("EnumT", bound=Enum)

# Rows are decoded on every poller tick; warn about a given oddity once, not once per tick.
_warned: set[tuple[str, str]] = set()
_WARNED_LIMIT = 10_000


def warn_once(key: str, what: str, message: str, *args: object) -> None:
    if (key, what) in _warned:
        return
    if len(_warned) < _WARNED_LIMIT:
        _warned.add((key, what))
    log.warning(message, *args)


class UndecodableRowError(ValueError):
    """A stored row cannot be turned into a TaskRecord."""


def decode_enum(key: str, column: str, enum_type: type[EnumT], raw: object) -> EnumT | None:
    """The enum member stored as `raw`, or None (logged) for a value this code does not know."""
    if raw is None:
        return None
    try:
        return enum_type(raw)
    except ValueError:
        warn_once(key, column, "task %s: unknown %s %r read as none", key, column, raw)
        return None


def required_enum(key: str, column: str, enum_type: type[EnumT], raw: object) -> EnumT:
    member = decode_enum(key, column, enum_type, raw)
    if member is None:
        raise UndecodableRowError(f"{column} {raw!r}")
    return member


def as_int(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise UndecodableRowError(f"not an integer: {raw!r}")
    return raw


def as_optional_int(raw: object) -> int | None:
    return None if raw is None else as_int(raw)


def as_optional_text(raw: object) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    raise UndecodableRowError(f"not text: {raw!r}")


def as_text(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    raise UndecodableRowError(f"not text: {raw!r}")

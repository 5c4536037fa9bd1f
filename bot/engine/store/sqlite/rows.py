"""Conversion between `TaskRecord` and the `tasks` row of the SQLite store.

Decoding is defensive: a row written by another version of the bot (an enum value this code does not
know, malformed JSON) must not break a whole query. Fields that only steer reporting degrade to None;
a row whose type or local outcome cannot be read is skipped (logged once per key).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus, TaskType
from bot.engine.store.interface import TaskRecord

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# Column order of every SELECT/RETURNING; `decode_record` reads positions in this order.
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
)
COLUMN_LIST = ", ".join(COLUMNS)

_EnumT = TypeVar("_EnumT", bound=Enum)

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


def encode_time(value: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (UTC). Naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime given to the task store: {value!r}")
    return (value - _EPOCH) // _MICROSECOND


def encode_optional_time(value: datetime | None) -> int | None:
    return None if value is None else encode_time(value)


def decode_time(raw: object) -> datetime:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise UndecodableRowError(f"not a stored time: {raw!r}")
    return _EPOCH + raw * _MICROSECOND


def decode_optional_time(raw: object) -> datetime | None:
    return None if raw is None else decode_time(raw)


def encode_json(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def encode_result(value: ResultAssets | None) -> str | None:
    return None if value is None else value.to_json()


def _decode_mapping(key: str, column: str, raw: object) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw) if isinstance(raw, str | bytes) else None
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        warn_once(key, column, "task %s: ignoring unreadable %s %r", key, column, raw)
        return None
    return value


def _decode_enum(key: str, column: str, enum_type: type[_EnumT], raw: object) -> _EnumT | None:
    """The enum member stored as `raw`, or None (logged) for a value this code does not know."""
    if raw is None:
        return None
    try:
        return enum_type(raw)
    except ValueError:
        warn_once(key, column, "task %s: unknown %s %r read as none", key, column, raw)
        return None


def _required_enum(key: str, column: str, enum_type: type[_EnumT], raw: object) -> _EnumT:
    member = _decode_enum(key, column, enum_type, raw)
    if member is None:
        raise UndecodableRowError(f"{column} {raw!r}")
    return member


def _int(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise UndecodableRowError(f"not an integer: {raw!r}")
    return raw


def _optional_int(raw: object) -> int | None:
    return None if raw is None else _int(raw)


def _optional_text(raw: object) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    raise UndecodableRowError(f"not text: {raw!r}")


def _text(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    raise UndecodableRowError(f"not text: {raw!r}")


def decode_record(row: Sequence[Any]) -> TaskRecord:
    """Build the record from a row in `COLUMNS` order; `UndecodableRowError` if it cannot be read."""
    values = dict(zip(COLUMNS, row, strict=True))
    key = _text(values["key"])
    local_outcome_raw = values["local_outcome"]
    local_outcome = _decode_enum(key, "local_outcome", LocalOutcome, local_outcome_raw)
    if local_outcome_raw is not None and local_outcome is None:
        # Reading it as "no outcome" would resurrect a task a newer version ended.
        raise UndecodableRowError(f"local_outcome {local_outcome_raw!r}")
    result_mapping = _decode_mapping(key, "result", values["result"])
    return TaskRecord(
        key=key,
        task_type=_required_enum(key, "task_type", TaskType, values["task_type"]),
        model=_text(values["model"]),
        prompt=_text(values["prompt"]),
        requester_id=_int(values["requester_id"]),
        channel_id=_int(values["channel_id"]),
        guild_id=_optional_int(values["guild_id"]),
        input_assets=_decode_mapping(key, "input_assets", values["input_assets"]),
        metadata=_decode_mapping(key, "metadata", values["metadata"]),
        message_id=_optional_int(values["message_id"]),
        reply_token=_optional_text(values["reply_token"]),
        reply_token_expires_at=decode_optional_time(values["reply_token_expires_at"]),
        task_id=_optional_text(values["task_id"]),
        status=_decode_enum(key, "status", TaskStatus, values["status"]),
        local_outcome=local_outcome,
        progress=_optional_text(values["progress"]),
        events_seen=_int(values["events_seen"]),
        result=None if result_mapping is None else ResultAssets.from_mapping(result_mapping),
        error_code=_optional_text(values["error_code"]),
        error_message=_optional_text(values["error_message"]),
        confirmed=bool(_int(values["confirmed"])),
        cancel_requested=bool(_int(values["cancel_requested"])),
        attempts=_int(values["attempts"]),
        created_at=decode_time(values["created_at"]),
        updated_at=decode_time(values["updated_at"]),
        next_poll_at=decode_optional_time(values["next_poll_at"]),
        completed_at=decode_optional_time(values["completed_at"]),
        notified_status=_decode_enum(key, "notified_status", TaskStatus, values["notified_status"]),
        notified_outcome=_decode_enum(key, "notified_outcome", LocalOutcome, values["notified_outcome"]),
        notified_progress=_optional_text(values["notified_progress"]),
        notify_due_at=decode_optional_time(values["notify_due_at"]),
        extra=_decode_mapping(key, "extra", values["extra"]) or {},
        processing_started_at=decode_optional_time(values["processing_started_at"]),
        bad_reads=_int(values["bad_reads"]),
        maybe_created=bool(_int(values["maybe_created"])),
        result_problem=_optional_text(values["result_problem"]),
        cancelled_by=_optional_int(values["cancelled_by"]),
        cancelled_by_name=_optional_text(values["cancelled_by_name"]),
        upload_limit=_optional_int(values["upload_limit"]),
        origin_key=_optional_text(values["origin_key"]),
        origin_action=_optional_text(values["origin_action"]),
        reply_message_id=_optional_int(values["reply_message_id"]),
        media_state=_optional_text(values["media_state"]),
        media_filename=_optional_text(values["media_filename"]),
        media_note=_optional_text(values["media_note"]),
    )

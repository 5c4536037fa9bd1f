"""Conversion between `TaskRecord` and the `tasks` row of the PostgreSQL store (native types: the
driver gives aware datetimes, dicts for jsonb, booleans); the defensive rules are in
store/decoding.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus, TaskType
from bot.engine.store.decoding import (
    COLUMNS,
    UndecodableRowError,
    as_int,
    as_optional_int,
    as_optional_text,
    as_text,
    decode_enum,
    required_enum,
    warn_once,
)
from bot.engine.store.interface import TaskRecord


def encode_result(value: ResultAssets | None) -> dict[str, Any] | None:
    return None if value is None else value.to_mapping()


def _time(raw: object) -> datetime:
    if not isinstance(raw, datetime) or raw.tzinfo is None:
        raise UndecodableRowError(f"not a stored time: {raw!r}")
    return raw if raw.tzinfo is UTC else raw.astimezone(UTC)


def _optional_time(raw: object) -> datetime | None:
    return None if raw is None else _time(raw)


def _bool(raw: object) -> bool:
    if not isinstance(raw, bool):
        raise UndecodableRowError(f"not a boolean: {raw!r}")
    return raw


def _mapping(key: str, column: str, raw: object) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        warn_once(key, column, "task %s: ignoring unreadable %s %r", key, column, raw)
        return None
    return raw


def decode_record(row: asyncpg.Record) -> TaskRecord:
    """Build the record from a row in `COLUMNS` order; `UndecodableRowError` if it cannot be read."""
    values = dict(zip(COLUMNS, row, strict=True))
    key = as_text(values["key"])
    local_outcome_raw = values["local_outcome"]
    local_outcome = decode_enum(key, "local_outcome", LocalOutcome, local_outcome_raw)
    if local_outcome_raw is not None and local_outcome is None:
        # Reading it as "no outcome" would resurrect a task a newer version ended.
        raise UndecodableRowError(f"local_outcome {local_outcome_raw!r}")
    result_mapping = _mapping(key, "result", values["result"])
    return TaskRecord(
        key=key,
        task_type=required_enum(key, "task_type", TaskType, values["task_type"]),
        model=as_text(values["model"]),
        prompt=as_text(values["prompt"]),
        requester_id=as_int(values["requester_id"]),
        channel_id=as_int(values["channel_id"]),
        guild_id=as_optional_int(values["guild_id"]),
        input_assets=_mapping(key, "input_assets", values["input_assets"]),
        metadata=_mapping(key, "metadata", values["metadata"]),
        message_id=as_optional_int(values["message_id"]),
        reply_token=as_optional_text(values["reply_token"]),
        reply_token_expires_at=_optional_time(values["reply_token_expires_at"]),
        task_id=as_optional_text(values["task_id"]),
        status=decode_enum(key, "status", TaskStatus, values["status"]),
        local_outcome=local_outcome,
        progress=as_optional_text(values["progress"]),
        events_seen=as_int(values["events_seen"]),
        result=None if result_mapping is None else ResultAssets.from_mapping(result_mapping),
        error_code=as_optional_text(values["error_code"]),
        error_message=as_optional_text(values["error_message"]),
        confirmed=_bool(values["confirmed"]),
        cancel_requested=_bool(values["cancel_requested"]),
        attempts=as_int(values["attempts"]),
        created_at=_time(values["created_at"]),
        updated_at=_time(values["updated_at"]),
        next_poll_at=_optional_time(values["next_poll_at"]),
        completed_at=_optional_time(values["completed_at"]),
        notified_status=decode_enum(key, "notified_status", TaskStatus, values["notified_status"]),
        notified_outcome=decode_enum(key, "notified_outcome", LocalOutcome, values["notified_outcome"]),
        notified_progress=as_optional_text(values["notified_progress"]),
        notify_due_at=_optional_time(values["notify_due_at"]),
        extra=_mapping(key, "extra", values["extra"]) or {},
        processing_started_at=_optional_time(values["processing_started_at"]),
        bad_reads=as_int(values["bad_reads"]),
        maybe_created=_bool(values["maybe_created"]),
        result_problem=as_optional_text(values["result_problem"]),
        cancelled_by=as_optional_int(values["cancelled_by"]),
        cancelled_by_name=as_optional_text(values["cancelled_by_name"]),
        upload_limit=as_optional_int(values["upload_limit"]),
        origin_key=as_optional_text(values["origin_key"]),
        origin_action=as_optional_text(values["origin_action"]),
        reply_message_id=as_optional_int(values["reply_message_id"]),
        media_state=as_optional_text(values["media_state"]),
        media_filename=as_optional_text(values["media_filename"]),
        media_note=as_optional_text(values["media_note"]),
        lease_owner=as_optional_text(values["lease_owner"]),
        lease_until=_optional_time(values["lease_until"]),
        report_owner=as_optional_text(values["report_owner"]),
        report_until=_optional_time(values["report_until"]),
        deleted_by=as_optional_int(values["deleted_by"]),
        deleted_at=_optional_time(values["deleted_at"]),
        waiting_since=_optional_time(values["waiting_since"]),
        started_at=_optional_time(values["started_at"]),
        wait_limit=as_optional_int(values["wait_limit"]),
    )

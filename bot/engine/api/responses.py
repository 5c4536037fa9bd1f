"""Parsing of the task API's JSON answers into typed models (pure functions, no I/O)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from bot.engine.api.errors import MalformedResponseError
from bot.engine.api.models import CreatedTask, GatewayTask, ResultAssets, TaskEvent, TaskStatus, TaskType

log = logging.getLogger(__name__)

_SNIPPET_CHARS = 200


def snippet(text: str, limit: int = _SNIPPET_CHARS) -> str:
    """A single-line, bounded excerpt of untrusted text, for exception messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _malformed(what: str) -> MalformedResponseError:
    return MalformedResponseError(f"malformed task API response: {what}")


def expect_object(data: object, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _malformed(f"{what} is a {type(data).__name__}, not a JSON object")
    return data


def parse_status(raw: object, what: str = "status") -> TaskStatus:
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise _malformed(f"{what} is {snippet(repr(raw), 40)}, not a status number")
    try:
        return TaskStatus(raw)
    except ValueError:
        raise _malformed(f"unknown {what} number {raw}") from None


def _optional_text(raw: object) -> str | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        return raw or None
    if isinstance(raw, int | float):
        return str(raw)
    return None


def parse_timestamp(raw: object) -> datetime | None:
    """ISO-8601 (with `Z` or an offset) to an aware datetime; naive values are taken as UTC."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        log.debug("ignoring unparsable timestamp %r", snippet(raw, 60))
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_created_task(data: object) -> CreatedTask:
    body = expect_object(data, "create answer")
    task_id = body.get("task_id")
    if isinstance(task_id, int) and not isinstance(task_id, bool):
        task_id = str(task_id)
    if not isinstance(task_id, str) or not task_id.strip():
        raise _malformed("create answer has no task_id")
    return CreatedTask(
        task_id=task_id,
        status=parse_status(body.get("status", TaskStatus.CREATED.value)),
        request_id=_optional_text(body.get("request_id")),
        hold_id=_optional_text(body.get("hold_id")),
    )


def parse_result_assets(raw: object, *, status: TaskStatus, task_id: str) -> ResultAssets | None:
    """`result_assets_json` is a string holding JSON; an already decoded object is accepted too.

    A broken value only matters (MalformedResponseError) once the task succeeded: before that the
    gateway may hold a placeholder, which we log and ignore.
    """
    if raw is None or raw == "":
        return None
    decoded: object = raw
    problem: str | None = None
    if isinstance(raw, str):
        try:
            decoded = json.loads(raw)
        except ValueError:
            problem = "result_assets_json is not valid JSON"
    if problem is None and isinstance(decoded, dict):
        return ResultAssets.from_mapping(decoded)
    problem = problem or f"result_assets_json holds a {type(decoded).__name__}, not an object"
    if status is TaskStatus.SUCCEEDED:
        raise _malformed(f"{problem} (task {snippet(task_id, 80)})")
    log.warning("task %s: %s; ignored because the task has not succeeded", snippet(task_id, 80), problem)
    return None


def parse_gateway_task(data: object, *, requested_id: str) -> GatewayTask:
    body = expect_object(data, "task")
    returned_id = body.get("task_id")
    if returned_id is not None and str(returned_id) != requested_id:
        log.warning("gateway answered task %r for task %r", snippet(str(returned_id), 80), requested_id)
    status = parse_status(body.get("status"))
    raw_type = body.get("task_type")
    task_type: TaskType | None = None
    if raw_type is not None:
        try:
            task_type = TaskType.parse(raw_type)
        except ValueError:
            log.debug("task %s has unknown task_type %r", requested_id, snippet(repr(raw_type), 40))
    return GatewayTask(
        task_id=requested_id,
        status=status,
        task_type=task_type,
        public_model=_optional_text(body.get("public_model")),
        result=parse_result_assets(body.get("result_assets_json"), status=status, task_id=requested_id),
        error_code=_optional_text(body.get("error_code")),
        error_message=_optional_text(body.get("error_message")),
        created_at=parse_timestamp(body.get("created_at")),
        completed_at=parse_timestamp(body.get("completed_at")),
    )


def parse_events(data: object) -> list[TaskEvent]:
    body = expect_object(data, "events answer")
    raw_events = body.get("task_events")
    if raw_events is None:
        return []
    if not isinstance(raw_events, list):
        raise _malformed("task_events is not a list")
    events: list[TaskEvent] = []
    for index, raw in enumerate(raw_events):
        item = expect_object(raw, f"task_events[{index}]")
        raw_status = item.get("status")
        status: TaskStatus | None = None
        if raw_status is not None:
            try:
                status = parse_status(raw_status, "event status")
            except MalformedResponseError:
                log.debug("event %d has unknown status %r", index, snippet(repr(raw_status), 40))
        events.append(
            TaskEvent(
                task_event_id=_optional_text(item.get("task_event_id")) or f"#{index}",
                event_type=_optional_text(item.get("event_type")) or "unknown",
                status=status,
                message=_optional_text(item.get("message")),
                created_at=parse_timestamp(item.get("created_at")),
            )
        )
    return events


def extract_error(data: object) -> tuple[str | None, str | None]:
    """The gateway's (error_code, error_message) from the common error body shapes."""
    if not isinstance(data, dict):
        return None, None
    nested = data.get("error")
    if isinstance(nested, dict):
        return _optional_text(nested.get("code") or nested.get("type")), _optional_text(nested.get("message"))
    if isinstance(nested, str):
        return _optional_text(data.get("code")) or nested, _optional_text(data.get("message")) or nested
    for code_key, message_key in (("error_code", "error_message"), ("code", "message")):
        if code_key in data or message_key in data:
            return _optional_text(data.get(code_key)), _optional_text(data.get(message_key))
    detail = data.get("detail")
    if isinstance(detail, str):
        return None, detail
    if detail is not None:
        return None, json.dumps(detail, default=str)
    return None, None

"""Parsing of the task API's JSON answers into typed models (pure functions, no I/O)."""

from __future__ import annotations

import email.utils
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from bot.engine.api.errors import MalformedResponseError
from bot.engine.api.models import CreatedTask, GatewayTask, ResultAssets, TaskEvent, TaskStatus, TaskType
from bot.engine.api.text import snippet

log = logging.getLogger(__name__)

# What is kept of texts the gateway sends, before anything is stored (bounded rows, bounded messages).
ERROR_CODE_LIMIT = 100
ERROR_MESSAGE_LIMIT = 1000
URL_LIMIT = 2048
EXTRA_KEYS_LIMIT = 16
EXTRA_LIST_LIMIT = 10
FOUND_URLS_LIMIT = 8


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
        return TaskStatus(raw)  # an unknown positive number is a (non-terminal) pseudo-member
    except ValueError:
        raise _malformed(f"{what} number {raw} is not a status") from None


def _optional_text(raw: object) -> str | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        return raw or None
    if isinstance(raw, int | float):
        return str(raw)
    return None


def _bounded_text(raw: object, limit: int) -> str | None:
    text = _optional_text(raw)
    return None if text is None else text[:limit]


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


_URL = re.compile(r"""https?://[^\s"'<>\\]+""")


def _bounded(value: object, depth: int = 0) -> object:
    """A copy of an unknown result value small enough to store: short strings, short lists, no deep
    nesting. URLs up to `URL_LIMIT` survive whole (a cut URL is a broken one)."""
    if isinstance(value, str):
        return value[:URL_LIMIT]
    if isinstance(value, bool | int | float) or value is None:
        return value
    if depth >= 2:
        return None
    if isinstance(value, list):
        return [_bounded(item, depth + 1) for item in value[:EXTRA_LIST_LIMIT]]
    if isinstance(value, dict):
        items = list(value.items())[:EXTRA_KEYS_LIMIT]
        return {str(k)[:80]: _bounded(v, depth + 1) for k, v in items}
    return None


def _urls_in(text: str) -> list[str]:
    found: list[str] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;)]}")
        if len(url) <= URL_LIMIT and url not in found:
            found.append(url)
        if len(found) >= FOUND_URLS_LIMIT:
            break
    return found


def parse_result_assets(
    raw: object, *, status: TaskStatus, task_id: str
) -> tuple[ResultAssets | None, str | None]:
    """`result_assets_json` (a string holding JSON; an already decoded object is accepted too) as
    `(assets, problem)`. `problem` says why a success's result cannot be used: not JSON, not an
    object, or no URL in it; the http(s) URLs found anywhere in it are then kept as
    `extra["found_urls"]` so the user still gets what can be had. Before success a broken value is
    only a placeholder, logged and ignored. Never raises: an unreadable result is an answer too.
    """
    succeeded = status is TaskStatus.SUCCEEDED
    if raw is None or raw == "":
        return None, ("the result is empty" if succeeded else None)
    decoded: object = raw
    problem: str | None = None
    if isinstance(raw, str):
        try:
            decoded = json.loads(raw)
        except ValueError:
            problem = "result_assets_json is not valid JSON"
    if problem is None and isinstance(decoded, dict):
        bounded = _bounded(decoded)
        assets = ResultAssets.from_mapping(bounded if isinstance(bounded, dict) else {})
        if not succeeded or _urls_in(json.dumps(assets.to_mapping())):
            return assets, None
        problem = "the result holds no URL"
    problem = problem or f"result_assets_json holds {type(decoded).__name__}, not an object"
    if not succeeded:
        log.warning("task %s: %s; ignored because the task has not succeeded", snippet(task_id, 80), problem)
        return None, None
    text = raw if isinstance(raw, str) else json.dumps(raw, default=str)
    urls = _urls_in(text[: 64 * 1024])
    return (ResultAssets(extra={"found_urls": urls}) if urls else None), problem


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
    result, problem = parse_result_assets(body.get("result_assets_json"), status=status, task_id=requested_id)
    return GatewayTask(
        task_id=requested_id,
        status=status,
        task_type=task_type,
        public_model=_bounded_text(body.get("public_model"), 200),
        result=result,
        result_problem=problem,
        error_code=_bounded_text(body.get("error_code"), ERROR_CODE_LIMIT),
        error_message=_bounded_text(body.get("error_message"), ERROR_MESSAGE_LIMIT),
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
                message=_bounded_text(item.get("message"), ERROR_MESSAGE_LIMIT),
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


def parse_retry_after(raw: str | None) -> float | None:
    """`Retry-After` as seconds (a number or an HTTP-date); None when absent or unreadable."""
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

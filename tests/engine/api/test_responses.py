"""Pure parsing helpers of the task API client (no I/O)."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import pytest

from bot.engine.api.client import parse_retry_after
from bot.engine.api.errors import MalformedResponseError
from bot.engine.api.models import TaskStatus
from bot.engine.api.responses import (
    extract_error,
    parse_created_task,
    parse_events,
    parse_result_assets,
    parse_timestamp,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"error": {"code": "model_not_found", "message": "no such model"}},
            ("model_not_found", "no such model"),
        ),
        ({"error_code": "quota", "error_message": "out of credit"}, ("quota", "out of credit")),
        ({"code": 1003, "message": "bad"}, ("1003", "bad")),
        ({"detail": "Not authenticated"}, (None, "Not authenticated")),
        (
            {"detail": [{"loc": ["prompt"], "msg": "required"}]},
            (None, '[{"loc": ["prompt"], "msg": "required"}]'),
        ),
        ({"error": "invalid_request"}, ("invalid_request", "invalid_request")),
        ([1, 2], (None, None)),
        ({}, (None, None)),
    ],
)
def test_extract_error_shapes(body, expected):
    assert extract_error(body) == expected


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    in_ten = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    assert 8 < (parse_retry_after(in_ten) or 0) <= 10
    past = email.utils.format_datetime(datetime.now(UTC) - timedelta(seconds=10), usegmt=True)
    assert parse_retry_after(past) == 0.0


def test_timestamps_are_aware():
    assert parse_timestamp("2026-06-22T10:00:00Z") == datetime(2026, 6, 22, 10, tzinfo=UTC)
    assert parse_timestamp("2026-06-22T12:00:00+02:00") == datetime(2026, 6, 22, 10, tzinfo=UTC)
    naive = parse_timestamp("2026-06-22T10:00:00")
    assert naive is not None
    assert naive.tzinfo is UTC
    assert parse_timestamp("22/06/2026") is None
    assert parse_timestamp(12345) is None


def test_result_assets_rules():
    assets = parse_result_assets(
        '{"video_url": "https://v.test/a.mp4", "fps": 24}', status=TaskStatus.SUCCEEDED, task_id="t"
    )
    assert assets is not None
    assert (assets.video_url, assets.extra) == ("https://v.test/a.mp4", {"fps": 24})
    assert parse_result_assets("", status=TaskStatus.SUCCEEDED, task_id="t") is None
    assert parse_result_assets("[1]", status=TaskStatus.PROCESSING, task_id="t") is None
    with pytest.raises(MalformedResponseError):
        parse_result_assets("[1]", status=TaskStatus.SUCCEEDED, task_id="t")
    with pytest.raises(MalformedResponseError):
        parse_result_assets("{bad", status=TaskStatus.SUCCEEDED, task_id="t")


@pytest.mark.parametrize(
    "body",
    [
        {"status": 1},
        {"task_id": "", "status": 1},
        {"task_id": "t", "status": 99},
        {"task_id": "t", "status": True},
        [],
    ],
)
def test_bad_create_answers_are_malformed(body):
    with pytest.raises(MalformedResponseError):
        parse_created_task(body)


def test_events_shapes():
    assert parse_events({"task_events": None}) == []
    (event,) = parse_events({"task_events": [{"event_type": "x", "status": 77}]})
    assert (event.status, event.task_event_id, event.message) == (None, "#0", None)
    with pytest.raises(MalformedResponseError):
        parse_events({"task_events": "nope"})
    with pytest.raises(MalformedResponseError):
        parse_events({"task_events": ["nope"]})

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
    assets, problem = parse_result_assets(
        '{"video_url": "https://v.test/a.mp4", "fps": 24}', status=TaskStatus.SUCCEEDED, task_id="t"
    )
    assert assets is not None and problem is None
    assert (assets.video_url, assets.extra) == ("https://v.test/a.mp4", {"fps": 24})
    assert parse_result_assets("[1]", status=TaskStatus.PROCESSING, task_id="t") == (None, None)


@pytest.mark.parametrize(
    ("raw", "problem", "urls"),
    [
        ("", "the result is empty", None),
        ("null", "result_assets_json holds NoneType, not an object", None),
        ("[1]", "result_assets_json holds list, not an object", None),
        (
            '["https://a.test/1.png"]',
            "result_assets_json holds list, not an object",
            ["https://a.test/1.png"],
        ),
        ("{bad https://a.test/x.png", "result_assets_json is not valid JSON", ["https://a.test/x.png"]),
        ('{"seed": 3}', "the result holds no URL", None),
        ('{"image_url": "ftp://a.test/x"}', "the result holds no URL", None),
    ],
)
def test_a_success_whose_result_cannot_be_used_says_why_and_keeps_the_urls_found(raw, problem, urls):
    assets, found_problem = parse_result_assets(raw, status=TaskStatus.SUCCEEDED, task_id="t")
    assert found_problem == problem
    assert (assets.extra["found_urls"] if assets else None) == urls


def test_unknown_result_keys_are_bounded_before_they_are_stored():
    raw = {"image_url": "https://a.test/x.png", **{f"k{i}": "v" * 5000 for i in range(40)}}
    raw["nested"] = {"deeper": {"deepest": {"x": 1}}}
    assets, _ = parse_result_assets(raw, status=TaskStatus.SUCCEEDED, task_id="t")
    assert assets is not None
    assert len(assets.extra) <= 16
    assert all(len(v) <= 2048 for v in assets.extra.values() if isinstance(v, str))


@pytest.mark.parametrize(
    "body",
    [
        {"status": 1},
        {"task_id": "", "status": 1},
        {"task_id": "t", "status": 0},
        {"task_id": "t", "status": True},
        [],
    ],
)
def test_bad_create_answers_are_malformed(body):
    with pytest.raises(MalformedResponseError):
        parse_created_task(body)


def test_events_shapes():
    assert parse_events({"task_events": None}) == []
    (event,) = parse_events({"task_events": [{"event_type": "x", "status": -1}]})
    assert (event.status, event.task_event_id, event.message) == (None, "#0", None)
    (newer,) = parse_events({"task_events": [{"event_type": "x", "status": 77}]})
    assert newer.status is not None and int(newer.status) == 77 and not newer.status.is_terminal
    with pytest.raises(MalformedResponseError):
        parse_events({"task_events": "nope"})
    with pytest.raises(MalformedResponseError):
        parse_events({"task_events": ["nope"]})

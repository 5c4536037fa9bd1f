"""Every rendering stays within Discord's limits, pings nobody, and edits only when visible."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import discord
import pytest

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus
from bot.rendering import (
    RenderedMessage,
    render_dm_result,
    render_result_reply,
    render_standalone_result,
    render_status,
)
from tests.rendering.support import (
    CREATED_AT,
    HOSTILE_PROMPT,
    IMAGE_URL,
    REQUESTER,
    VIDEO_URL,
    assert_cannot_ping,
    assert_within_discord_limits,
    finished,
    image_done,
    make_record,
    the_embed,
    video_done,
)

# --- limits and mentions ----------------------------------------------------------------------------


def test_huge_prompt_and_error_stay_within_every_discord_limit() -> None:
    huge_prompt = ("word *x* " * 700)[:6000]
    huge_error = "E" * 10_000
    records = [
        make_record(prompt=huge_prompt, progress="p" * 5000, status=TaskStatus.PROCESSING, key="k" * 300),
        finished(TaskStatus.FAILED, prompt=huge_prompt, error_message=huge_error, error_code="c" * 5000),
        finished(None, LocalOutcome.UNREACHABLE, prompt=huge_prompt, error_message=huge_error),
        image_done(prompt=huge_prompt),
        video_done(prompt=huge_prompt),
    ]
    for record in records:
        messages = [
            render_status(record),
            render_result_reply(record),
            render_standalone_result(record),
            render_dm_result(record, channel_id=2**63 - 1, guild_id=2**63 - 1),
        ]
        for message in messages:
            assert_within_discord_limits(message)
        description = the_embed(messages[0]).description or ""
        assert "…" in description  # the prompt was cut, visibly
        assert len(description) > 3000  # ...but not more than needed


def test_huge_error_is_cut_in_the_reply_but_the_asset_url_never_is() -> None:
    long_url = "https://cdn.example.com/" + "v" * 900 + ".mp4"
    record = video_done(prompt="p" * 6000, result=ResultAssets(video_url=long_url))
    content = render_result_reply(record).content or ""
    assert len(content) <= 2000
    assert long_url in content.splitlines()
    failed = finished(TaskStatus.FAILED, prompt="p" * 6000, error_message="E" * 10_000)
    failed_content = render_result_reply(failed).content or ""
    assert len(failed_content) <= 2000
    assert "Nothing was charged." in failed_content
    assert "EEEE…" in failed_content


def test_hostile_prompt_cannot_ping_from_any_content() -> None:
    hostile = [
        make_record(prompt=HOSTILE_PROMPT),
        image_done(prompt=HOSTILE_PROMPT),
        video_done(prompt=HOSTILE_PROMPT),
        finished(TaskStatus.FAILED, prompt=HOSTILE_PROMPT, error_message="@everyone <@&234567890123456789>"),
    ]
    for record in hostile:
        assert render_status(record).content in (None, VIDEO_URL)
        assert_cannot_ping(render_result_reply(record).content, allowed_user=REQUESTER)
        assert_cannot_ping(render_standalone_result(record).content, allowed_user=REQUESTER)
        assert_cannot_ping(render_dm_result(record, channel_id=1, guild_id=2).content)
    reply = render_result_reply(hostile[1]).content or ""
    assert "@\u200beveryone" in reply  # still readable, but inert
    assert "--ar 16:9" in reply


def test_prompt_markdown_is_escaped_in_the_embed() -> None:
    embed = the_embed(render_status(make_record(prompt="# big\n> quote **bold** `code` --ar 16:9")))
    description = embed.description or ""
    assert "\\# big" in description
    assert "\\*\\*bold\\*\\*" in description
    assert "--ar 16:9" in description


# --- payload_key ------------------------------------------------------------------------------------


def test_payload_key_ignores_invisible_changes() -> None:
    record = make_record(status=TaskStatus.PROCESSING, progress="10%")
    later = dataclasses.replace(
        record,
        updated_at=CREATED_AT + timedelta(minutes=5),
        next_poll_at=CREATED_AT + timedelta(minutes=6),
        attempts=4,
        events_seen=12,
        notify_due_at=CREATED_AT,
    )
    assert render_status(record).payload_key() == render_status(later).payload_key()


@pytest.mark.parametrize(
    "change",
    [
        {"progress": "20%"},
        {"status": TaskStatus.SUCCEEDED, "result": ResultAssets(image_url=IMAGE_URL)},
        {"cancel_requested": True},
        {"extra": {"processing_started_at": "2026-06-22T10:01:00+00:00"}},
    ],
)
def test_payload_key_changes_when_something_visible_changes(change: dict[str, Any]) -> None:
    record = make_record(status=TaskStatus.PROCESSING, progress="10%")
    changed = dataclasses.replace(record, **change)
    assert render_status(record).payload_key() != render_status(changed).payload_key()


def test_payload_key_covers_content_and_the_cancel_button() -> None:
    embed = discord.Embed(title="x")
    assert RenderedMessage("a", (embed,)).payload_key() != RenderedMessage("b", (embed,)).payload_key()
    shown = RenderedMessage(None, (embed,), show_cancel=True)
    assert shown.payload_key() != RenderedMessage(None, (embed,)).payload_key()

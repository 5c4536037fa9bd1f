"""Minimal renderings (sent after Discord refused a full message with 400/50035): plain content within
Discord's limits, still carrying the result URL and the requester mention where the full ones do."""

from __future__ import annotations

import pytest

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus
from bot.engine.store.interface import TaskRecord
from bot.rendering import (
    RenderedMessage,
    minimal_dm_result,
    minimal_result_reply,
    minimal_standalone_result,
    minimal_status,
    render_status,
)
from tests.rendering.support import (
    HOSTILE_PROMPT,
    IMAGE_URL,
    REQUESTER,
    VIDEO_URL,
    assert_cannot_ping,
    finished,
    image_done,
    make_record,
    video_done,
)

HUGE_PROMPT = ("word *x* " * 700)[:6000]
HUGE_ERROR = "E" * 10_000
MENTION = f"<@{REQUESTER}>"


def every_state() -> list[TaskRecord]:
    return [
        make_record(prompt=HUGE_PROMPT, key="k" * 300),
        make_record(status=TaskStatus.PROCESSING, progress="p" * 5000, prompt=HUGE_PROMPT),
        make_record(status=TaskStatus.PROCESSING, cancel_requested=True),
        finished(TaskStatus.FAILED, prompt=HUGE_PROMPT, error_message=HUGE_ERROR, error_code="c" * 5000),
        finished(None, LocalOutcome.TIMED_OUT, prompt=HUGE_PROMPT),
        finished(None, LocalOutcome.UNREACHABLE, error_message=HUGE_ERROR),
        finished(TaskStatus.REFUNDED, model="m" * 3000),
        image_done(prompt=HUGE_PROMPT),
        video_done(prompt=HUGE_PROMPT),
        image_done(prompt=HOSTILE_PROMPT, error_message="@everyone <@&234567890123456789>"),
        image_done(result=None),
    ]


def all_minimal(record: TaskRecord) -> list[RenderedMessage]:
    return [
        minimal_status(record),
        minimal_result_reply(record),
        minimal_standalone_result(record),
        minimal_dm_result(record, channel_id=2**63 - 1, guild_id=2**63 - 1),
    ]


@pytest.mark.parametrize("record", every_state(), ids=lambda r: f"{r.status}-{r.local_outcome}")
def test_every_minimal_rendering_is_plain_short_content_within_discord_limits(record: TaskRecord) -> None:
    for message in all_minimal(record):
        assert message.embeds == ()
        assert message.content is not None
        assert 0 < len(message.content) <= 2000
        # Shortened texts: far from the limits the full rendering may have run into.
        assert len(message.content) <= 1000
        assert "p" * 120 not in message.content
        assert "E" * 250 not in message.content


@pytest.mark.parametrize("record", every_state(), ids=lambda r: f"{r.status}-{r.local_outcome}")
def test_only_the_requester_is_ever_mentioned_and_never_in_a_dm(record: TaskRecord) -> None:
    status, reply, standalone, dm = all_minimal(record)
    for message in (status, reply, standalone):
        assert MENTION in (message.content or "")
        assert_cannot_ping(message.content, allowed_user=REQUESTER)
    assert (reply.content or "").startswith(MENTION)
    assert (standalone.content or "").startswith(MENTION)
    assert_cannot_ping(dm.content)  # no mention that could ping, the requester's included


@pytest.mark.parametrize("done", [image_done(), video_done()], ids=["image", "video"])
def test_a_finished_result_keeps_its_url_in_every_minimal_rendering(done: TaskRecord) -> None:
    url = VIDEO_URL if done.result and done.result.video_url else IMAGE_URL
    for message in all_minimal(done):
        assert url in (message.content or "")


def test_a_long_result_url_is_never_cut_even_beside_a_huge_prompt() -> None:
    long_url = "https://cdn.example.com/" + "v" * 950 + ".mp4"
    record = video_done(prompt=HUGE_PROMPT, result=ResultAssets(video_url=long_url, image_url=IMAGE_URL))
    for message in all_minimal(record):
        content = message.content or ""
        assert len(content) <= 2000
        assert long_url in content


def test_minimal_status_keeps_the_cancel_button_exactly_when_the_full_one_has_it() -> None:
    for record in every_state():
        assert minimal_status(record).show_cancel == render_status(record).show_cancel
    assert minimal_status(make_record(status=TaskStatus.PROCESSING)).show_cancel


def test_minimal_messages_say_what_happened() -> None:
    failed = finished(TaskStatus.FAILED, error_code="nsfw", error_message="Unsafe content")
    reply = minimal_result_reply(failed).content or ""
    assert "Your image failed" in reply
    assert "Unsafe content" in reply
    assert "nsfw" in reply
    assert "Nothing was charged." in reply
    status = minimal_status(make_record(status=TaskStatus.PROCESSING, progress="rendering 50%")).content or ""
    assert "Processing" in status
    assert "rendering 50%" in status
    assert "a lighthouse at dawn" in status
    dm = minimal_dm_result(image_done(), channel_id=555, guild_id=777).content or ""
    assert "https://discord.com/channels/777/555" in dm
    assert "Your image is ready" in dm


def test_hostile_text_is_inert_in_minimal_renderings() -> None:
    record = finished(TaskStatus.FAILED, prompt=HOSTILE_PROMPT, error_message="@here <@345678901234567890>")
    for message in all_minimal(record):
        content = message.content or ""
        assert "@\u200beveryone" in content or "@\u200bhere" in content

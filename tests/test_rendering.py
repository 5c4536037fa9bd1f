"""Tests of bot.rendering: every state, every ephemeral answer, Discord's limits and mention safety."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.engine.models import LocalOutcome, ResultAssets, TaskStatus, TaskType
from bot.engine.store import TaskRecord
from bot.rendering import (
    RenderedMessage,
    active_limit_message,
    already_finished_message,
    attachment_not_image_message,
    attachment_too_large_message,
    busy_message,
    cancel_done_message,
    cancel_failed_message,
    not_your_task_message,
    nothing_to_cancel_message,
    prompt_empty_message,
    prompt_too_long_message,
    render_dm_result,
    render_result_reply,
    render_standalone_result,
    render_status,
    status_label,
    task_not_found_message,
    unexpected_error_message,
    unknown_model_message,
)

CREATED_AT = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)
REQUESTER = 123456789012345678
TASK_ID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
IMAGE_URL = "https://cdn.example.com/out/image.png"
VIDEO_URL = "https://cdn.example.com/out/video.mp4"
THUMB_URL = "https://cdn.example.com/out/thumb.jpg"
HOSTILE_PROMPT = "@everyone @here <@&234567890123456789> <@345678901234567890> a castle **bold** --ar 16:9"
NO_CHARGE = re.compile(r"nothing was charged", re.IGNORECASE)


def make_record(**changes: Any) -> TaskRecord:
    """A running image task; pass fields to change it."""
    fields: dict[str, Any] = {
        "key": "1299000000000000001",
        "task_type": TaskType.ASYNC_IMAGE,
        "model": "flux-1-dev",
        "prompt": "a lighthouse at dawn --ar 16:9",
        "requester_id": REQUESTER,
        "channel_id": 555,
        "guild_id": 777,
        "input_assets": None,
        "metadata": None,
        "message_id": 999,
        "reply_token": None,
        "reply_token_expires_at": None,
        "task_id": TASK_ID,
        "status": TaskStatus.SUBMITTED,
        "local_outcome": None,
        "progress": None,
        "events_seen": 0,
        "result": None,
        "error_code": None,
        "error_message": None,
        "confirmed": True,
        "cancel_requested": False,
        "attempts": 0,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "next_poll_at": CREATED_AT + timedelta(seconds=3),
        "completed_at": None,
        "notified_status": None,
        "notified_outcome": None,
        "notified_progress": None,
        "notify_due_at": None,
    }
    fields.update(changes)
    return TaskRecord(**fields)


def finished(
    status: TaskStatus | None = None, outcome: LocalOutcome | None = None, **changes: Any
) -> TaskRecord:
    return make_record(
        status=status,
        local_outcome=outcome,
        completed_at=CREATED_AT + timedelta(seconds=95),
        next_poll_at=None,
        **changes,
    )


def image_done(**changes: Any) -> TaskRecord:
    changes.setdefault("result", ResultAssets(image_url=IMAGE_URL, seed=12345))
    return finished(TaskStatus.SUCCEEDED, **changes)


def video_done(**changes: Any) -> TaskRecord:
    changes.setdefault("result", ResultAssets(video_url=VIDEO_URL, thumbnail_url=THUMB_URL, seed="abc-7"))
    return finished(TaskStatus.SUCCEEDED, task_type=TaskType.VIDEO, model="kling-v2", **changes)


def the_embed(message: RenderedMessage) -> discord.Embed:
    assert len(message.embeds) == 1
    return message.embeds[0]


def field(embed: discord.Embed, name: str) -> str | None:
    values = [f.value for f in embed.fields if f.name == name]
    return values[0] if values else None


def visible_text(message: RenderedMessage) -> str:
    parts = [message.content or ""]
    for embed in message.embeds:
        parts.extend([embed.title or "", embed.description or "", embed.footer.text or ""])
        parts.extend(f"{f.name} {f.value}" for f in embed.fields)
    return "\n".join(parts)


def assert_within_discord_limits(message: RenderedMessage) -> None:
    if message.content is not None:
        assert 0 < len(message.content) <= 2000
    assert len(message.embeds) <= 10
    assert sum(len(embed) for embed in message.embeds) <= 6000
    for embed in message.embeds:
        assert len(embed.title or "") <= 256
        assert len(embed.description or "") <= 4096
        assert len(embed.footer.text or "") <= 2048
        assert len(embed.fields) <= 25
        for item in embed.fields:
            assert 0 < len(item.name or "") <= 256
            assert 0 < len(item.value or "") <= 1024


def assert_cannot_ping(content: str | None, allowed_user: int | None = None) -> None:
    """No @everyone/@here and no user or role mention other than the requester's can ping."""
    if content is None:
        return
    assert not re.search(r"@(everyone|here)", content), content
    mentions = re.findall(r"<@[!&]?(\d+)>", content)
    assert all(int(m) == allowed_user for m in mentions), mentions
    assert "<@&" not in content


# --- status labels and the status message per state -----------------------------------------------

LABEL_CASES = [
    (make_record(status=None, task_id=None), "Queued"),
    (make_record(status=TaskStatus.CREATED), "Queued"),
    (make_record(status=TaskStatus.SUBMITTED), "Queued"),
    (make_record(status=TaskStatus.PROCESSING), "Processing"),
    (image_done(), "Done"),
    (finished(TaskStatus.FAILED), "Failed"),
    (finished(TaskStatus.CANCELLED), "Cancelled"),
    (finished(None, LocalOutcome.CANCELLED_BEFORE_START, task_id=None), "Cancelled"),
    (finished(TaskStatus.EXPIRED), "Expired"),
    (finished(TaskStatus.REFUNDED), "Refunded"),
    (finished(TaskStatus.PROCESSING, LocalOutcome.TIMED_OUT), "Timed out"),
    (finished(None, LocalOutcome.REJECTED, task_id=None), "Rejected"),
    (finished(None, LocalOutcome.UNREACHABLE, task_id=None), "Gateway unreachable"),
]


@pytest.mark.parametrize(("record", "label"), LABEL_CASES)
def test_status_label_and_status_field_agree(record: TaskRecord, label: str) -> None:
    assert status_label(record) == label
    message = render_status(record)
    assert field(the_embed(message), "Status") == label
    assert_within_discord_limits(message)


def test_queued_status_shows_prompt_model_live_timestamp_and_cancel() -> None:
    message = render_status(make_record(status=TaskStatus.SUBMITTED))
    embed = the_embed(message)
    assert message.content is None
    assert message.show_cancel is True
    assert embed.title == "🎨 Imagine"
    assert embed.colour == discord.Colour.blurple()
    assert "a lighthouse at dawn --ar 16:9" in (embed.description or "")
    assert f"<t:{int(CREATED_AT.timestamp())}:R>" in (embed.description or "")
    assert field(embed, "Model") == "`flux-1-dev`"
    assert field(embed, "Requested by") == f"<@{REQUESTER}>"
    assert embed.footer.text == "Task 1299000000000000001  ·  id f47ac10b"
    assert embed.image.url is None


def test_queued_before_the_gateway_answered_has_no_task_id_in_footer() -> None:
    embed = the_embed(render_status(make_record(status=None, task_id=None)))
    assert embed.footer.text == "Task 1299000000000000001"


def test_processing_shows_progress_and_processing_start_when_known() -> None:
    started = CREATED_AT + timedelta(seconds=40)
    record = make_record(
        status=TaskStatus.PROCESSING,
        progress="Upscaling  50%\nstep 2",
        extra={"processing_started_at": started.isoformat()},
    )
    message = render_status(record)
    embed = the_embed(message)
    description = embed.description or ""
    assert embed.colour == discord.Colour.blue()
    assert message.show_cancel is True
    assert f"started <t:{int(started.timestamp())}:R>" in description
    assert "> Upscaling 50% step 2" in description


def test_processing_without_start_time_falls_back_to_created_at() -> None:
    embed = the_embed(render_status(make_record(status=TaskStatus.PROCESSING)))
    assert f"started <t:{int(CREATED_AT.timestamp())}:R>" in (embed.description or "")


def test_naive_datetimes_are_read_as_utc() -> None:
    naive = CREATED_AT.replace(tzinfo=None)
    embed = the_embed(render_status(make_record(created_at=naive, updated_at=naive)))
    assert f"<t:{int(CREATED_AT.timestamp())}:R>" in (embed.description or "")


def test_cancel_requested_hides_the_button_and_says_so() -> None:
    message = render_status(make_record(status=TaskStatus.PROCESSING, cancel_requested=True))
    assert message.show_cancel is False
    assert field(the_embed(message), "Status") == "Processing · cancelling"
    assert "Cancel requested" in (the_embed(message).description or "")


def test_image_success_shows_image_inline_seed_and_model() -> None:
    message = render_status(image_done())
    embed = the_embed(message)
    assert message.content is None
    assert message.show_cancel is False
    assert embed.colour == discord.Colour.green()
    assert embed.image.url == IMAGE_URL
    assert field(embed, "Seed") == "`12345`"
    assert field(embed, "Model") == "`flux-1-dev`"
    description = embed.description or ""
    assert f"[Full-size image]({IMAGE_URL})" in description
    completed = int((CREATED_AT + timedelta(seconds=95)).timestamp())
    assert f"<t:{completed}:R> · took 1m 35s" in description
    assert not NO_CHARGE.search(visible_text(message))


def test_video_success_puts_the_bare_url_in_content_and_the_thumbnail_in_the_embed() -> None:
    message = render_status(video_done())
    embed = the_embed(message)
    assert message.content == VIDEO_URL
    assert embed.title == "🎬 Video"
    assert embed.image.url == THUMB_URL
    assert field(embed, "Seed") == "`abc-7`"
    assert f"[Open video]({VIDEO_URL})" in (embed.description or "")


def test_midjourney_title_and_extra_result_links() -> None:
    result = ResultAssets(
        image_url=IMAGE_URL,
        extra={"image_urls": ["https://cdn.example.com/1.png", "not a url"], "job": "x"},
    )
    message = render_status(
        finished(TaskStatus.SUCCEEDED, task_type=TaskType.MIDJOURNEY, model="midjourney-v7", result=result)
    )
    embed = the_embed(message)
    assert embed.title == "⛵ Midjourney"
    assert "[image urls 1](https://cdn.example.com/1.png)" in (embed.description or "")
    assert "not a url" not in (embed.description or "")
    assert field(embed, "Seed") is None


def test_success_without_usable_urls_never_sends_a_bad_image_url() -> None:
    result = ResultAssets(image_url="javascript:alert(1)", video_url="ftp://x/y.mp4")
    message = render_status(finished(TaskStatus.SUCCEEDED, result=result))
    embed = the_embed(message)
    assert embed.image.url is None
    assert message.content is None
    assert "sent no image or video" in (embed.description or "")
    reply = render_result_reply(finished(TaskStatus.SUCCEEDED, result=result))
    assert "No image or video link was returned." in (reply.content or "")


def test_gateway_success_wins_over_a_local_outcome() -> None:
    record = finished(
        TaskStatus.SUCCEEDED, LocalOutcome.TIMED_OUT, result=ResultAssets(image_url=IMAGE_URL, seed=12345)
    )
    assert status_label(record) == "Done"
    assert the_embed(render_status(record)).image.url == IMAGE_URL


def test_failure_shows_reason_code_and_no_charge() -> None:
    record = finished(TaskStatus.FAILED, error_code="content_policy", error_message="Prompt was **blocked**")
    message = render_status(record)
    embed = the_embed(message)
    assert embed.colour == discord.Colour.red()
    assert field(embed, "Error code") == "`content_policy`"
    assert "Prompt was \\*\\*blocked\\*\\*" in (embed.description or "")
    assert NO_CHARGE.search(embed.description or "")
    assert message.show_cancel is False
    assert message.content is None


@pytest.mark.parametrize(
    ("record", "colour", "words"),
    [
        (finished(TaskStatus.CANCELLED), discord.Colour.light_grey(), "The task was cancelled."),
        (
            finished(None, LocalOutcome.CANCELLED_BEFORE_START, task_id=None),
            discord.Colour.light_grey(),
            "never started, so nothing was charged",
        ),
        (finished(TaskStatus.EXPIRED), discord.Colour.orange(), "gave up on this task"),
        (finished(TaskStatus.REFUNDED), discord.Colour.light_grey(), "hold was released"),
        (
            finished(TaskStatus.PROCESSING, LocalOutcome.TIMED_OUT),
            discord.Colour.orange(),
            "cancelled at the generation service",
        ),
        (
            finished(None, LocalOutcome.REJECTED, task_id=None, error_code="model_not_enabled"),
            discord.Colour.red(),
            "No task was created",
        ),
    ],
)
def test_unsuccessful_endings_say_nothing_was_charged(
    record: TaskRecord, colour: discord.Colour, words: str
) -> None:
    for message in (render_status(record), render_result_reply(record), render_standalone_result(record)):
        assert NO_CHARGE.search(visible_text(message)), visible_text(message)
    embed = the_embed(render_status(record))
    assert embed.colour == colour
    assert words in (embed.description or "")


def test_rejected_shows_the_gateway_code() -> None:
    record = finished(None, LocalOutcome.REJECTED, task_id=None, error_code="model_not_enabled")
    assert field(the_embed(render_status(record)), "Error code") == "`model_not_enabled`"
    assert "(code `model_not_enabled`)" not in (render_result_reply(record).content or "")
    with_message = dataclasses.replace(record, error_message="Model is not enabled")
    assert "Reason: Model is not enabled (code `model_not_enabled`)" in (
        render_result_reply(with_message).content or ""
    )


def test_unreachable_asks_to_retry_and_promises_nothing_about_charges() -> None:
    record = finished(None, LocalOutcome.UNREACHABLE, task_id=None, error_message="connect timeout")
    for message in (
        render_status(record),
        render_result_reply(record),
        render_standalone_result(record),
        render_dm_result(record, channel_id=1, guild_id=2),
    ):
        text = visible_text(message)
        assert "charge" not in text.lower()
        assert "try again" in text
        assert "could not be reached" in text


# --- result reply and its fallbacks -----------------------------------------------------------------


def test_result_reply_for_an_image_mentions_the_requester_and_links_the_image() -> None:
    reply = render_result_reply(image_done())
    content = reply.content or ""
    assert content.startswith(f"<@{REQUESTER}> ")
    assert reply.embeds == ()
    assert reply.show_cancel is False
    assert "Your image is ready · `flux-1-dev` · seed `12345`" in content
    assert "> a lighthouse at dawn --ar 16:9" in content
    assert f"<{IMAGE_URL}>" in content.splitlines()


def test_result_reply_for_a_video_has_the_bare_url_on_its_own_line() -> None:
    content = render_result_reply(video_done()).content or ""
    assert content.startswith(f"<@{REQUESTER}> ")
    assert VIDEO_URL in content.splitlines()
    assert "Your video is ready" in content


def test_result_reply_for_a_failure_gives_reason_and_code() -> None:
    record = finished(TaskStatus.FAILED, error_code="nsfw", error_message="Unsafe content")
    content = render_result_reply(record).content or ""
    assert content.startswith(f"<@{REQUESTER}> ❌ Your image failed")
    assert "Reason: Unsafe content (code `nsfw`)" in content
    assert "Nothing was charged." in content


def test_standalone_result_has_mention_prompt_model_and_the_result_embed() -> None:
    message = render_standalone_result(image_done())
    content = message.content or ""
    assert content.startswith(f"<@{REQUESTER}> ")
    assert "a lighthouse at dawn" in content
    assert "flux-1-dev" in content
    assert the_embed(message).image.url == IMAGE_URL
    assert message.show_cancel is False


def test_dm_result_links_to_the_channel_and_pings_nobody() -> None:
    message = render_dm_result(video_done(), channel_id=555, guild_id=777)
    content = message.content or ""
    assert "https://discord.com/channels/777/555" in content
    assert "<@" not in content
    assert VIDEO_URL in content.splitlines()
    assert the_embed(message).image.url == THUMB_URL
    dm_outside_guild = render_dm_result(image_done(), channel_id=555, guild_id=None)
    assert "https://discord.com/channels/@me/555" in (dm_outside_guild.content or "")


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


# --- ephemeral answers ------------------------------------------------------------------------------


def test_prompt_messages() -> None:
    assert "empty" in prompt_empty_message()
    message = prompt_too_long_message(6000, 4000)
    assert "6,000" in message
    assert "4,000" in message
    assert "2,000" in message


def test_attachment_messages() -> None:
    not_image = attachment_not_image_message("notes @everyone.pdf", "application/pdf")
    assert "`notes @\u200beveryone.pdf`" in not_image
    assert "application/pdf" in not_image
    assert "PNG" in not_image
    assert "(" not in attachment_not_image_message("x.bin", None)
    too_large = attachment_too_large_message("big.png", 13_107_200, 10 * 1024 * 1024)
    assert "12.5 MB" in too_large
    assert "10 MB" in too_large


def test_active_limit_message_lists_tasks_and_explains_cancel() -> None:
    active = [
        make_record(key="k1", status=TaskStatus.PROCESSING, prompt="a red fox in snow"),
        make_record(key="k2", status=TaskStatus.SUBMITTED, prompt="a blue whale"),
    ]
    message = active_limit_message(2, active)
    assert "limit is 2" in message
    assert "/cancel" in message
    assert "`k1` “a red fox in snow”: Processing" in message
    assert "`k2` “a blue whale”: Queued" in message


def test_active_limit_message_stays_short_with_many_long_prompts() -> None:
    active = [make_record(key=f"key-{i}", prompt=HOSTILE_PROMPT * 100) for i in range(60)]
    message = active_limit_message(3, active)
    assert len(message) <= 2000
    assert "…and 50 more." in message
    assert_cannot_ping(message)


def test_unknown_model_message_lists_choices() -> None:
    message = unknown_model_message("gpt-paint", ["flux-1-dev", "sdxl-lightning"])
    assert "`gpt-paint`" in message
    assert "`flux-1-dev`, `sdxl-lightning`" in message
    assert len(unknown_model_message("m" * 5000, ["c" * 100] * 25)) <= 2000


def test_cancel_related_messages() -> None:
    assert "Only the person who started" in not_your_task_message()
    assert "no running tasks" in nothing_to_cancel_message()
    assert "Failed" in already_finished_message(finished(TaskStatus.FAILED))
    not_found = task_not_found_message("abc`@everyone")
    assert "@\u200beveryone" in not_found
    assert "`" + "abc'@\u200beveryone" + "`" in not_found
    failed = cancel_failed_message("The generation service is busy right now")
    assert failed == (
        "I could not cancel that task: The generation service is busy right now. "
        "Please try again in a moment."
    )
    assert len(cancel_failed_message("x" * 10_000)) <= 2000


def test_cancel_done_message_per_situation() -> None:
    running = make_record(status=TaskStatus.PROCESSING, cancel_requested=True)
    assert cancel_done_message(running).startswith("Cancelling “a lighthouse at dawn --ar 16:9”.")
    assert "not charged" in cancel_done_message(running)
    before_start = finished(None, LocalOutcome.CANCELLED_BEFORE_START, task_id=None)
    assert cancel_done_message(before_start) == (
        "Cancelled “a lighthouse at dawn --ar 16:9”. It was never started, so nothing was charged."
    )
    assert "Nothing was charged" in cancel_done_message(finished(TaskStatus.CANCELLED))
    assert "already finished (Done)" in cancel_done_message(image_done())


def test_generic_messages_reveal_no_details() -> None:
    assert unexpected_error_message().startswith("Something went wrong on our side")
    assert "try again" in busy_message()
    for text in (unexpected_error_message(), busy_message(), prompt_empty_message()):
        assert 0 < len(text) <= 2000


def test_command_error_messages_are_short_and_cannot_ping() -> None:
    from bot.rendering import guild_only_message, invalid_option_message

    text = invalid_option_message("string", "@everyone " + "x" * 5000)
    assert "`string`" in text
    assert len(text) < 300
    assert_cannot_ping(text)
    assert "server" in guild_only_message()

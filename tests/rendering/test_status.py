"""Rendering of the public status message in every state."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import discord
import pytest

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus, TaskType
from bot.engine.store.interface import TaskRecord
from bot.rendering import (
    render_dm_result,
    render_result_reply,
    render_standalone_result,
    render_status,
    status_label,
)
from tests.rendering.support import (
    CREATED_AT,
    IMAGE_URL,
    NO_CHARGE,
    REQUESTER,
    TASK_ID,
    THUMB_URL,
    VIDEO_URL,
    assert_within_discord_limits,
    field,
    finished,
    image_done,
    make_record,
    the_embed,
    video_done,
    visible_text,
)

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
    assert embed.footer.text == f"Task id {TASK_ID}"  # the gateway's id, once it exists
    assert embed.image.url is None


def test_queued_before_the_gateway_answered_has_no_task_id_in_footer() -> None:
    embed = the_embed(render_status(make_record(status=None, task_id=None)))
    assert embed.footer.text == "Task id 1299000000000000001"  # the bot's key before that


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


def test_unreachable_means_never_sent_so_it_says_nothing_was_charged_and_to_try_again() -> None:
    record = finished(None, LocalOutcome.UNREACHABLE, task_id=None, error_message="connect refused")
    for message in (
        render_status(record),
        render_result_reply(record),
        render_standalone_result(record),
        render_dm_result(record, channel_id=1, guild_id=2),
    ):
        text = visible_text(message)
        assert NO_CHARGE.search(text), text
        assert "try again" in text
        assert "could not be reached" in text


@pytest.mark.parametrize(
    ("record", "words"),
    [
        (
            finished(TaskStatus.PROCESSING, LocalOutcome.TIMED_OUT, error_message="Gave up after 2 hours"),
            "asked the generation service to cancel it",
        ),
        (
            finished(None, LocalOutcome.UNCONFIRMED, task_id=None, maybe_created=True),
            "never confirmed this request",
        ),
        (finished(TaskStatus.PROCESSING, LocalOutcome.LOST), "lost track of this task"),
        (
            finished(None, LocalOutcome.UNREACHABLE, task_id=None, maybe_created=True),
            "could not be reached",
        ),
    ],
)
def test_outcomes_nobody_can_vouch_for_promise_nothing_about_money(record: TaskRecord, words: str) -> None:
    for message in (render_status(record), render_result_reply(record), render_standalone_result(record)):
        text = visible_text(message)
        assert "charge" not in text.lower(), text
        assert not message.show_cancel
    assert words in (the_embed(render_status(record)).description or "")


def test_a_timed_out_or_unconfirmed_task_names_the_id_support_can_look_up() -> None:
    timed_out = finished(TaskStatus.PROCESSING, LocalOutcome.TIMED_OUT)
    assert f"task id `{TASK_ID}`" in visible_text(render_status(timed_out))
    unconfirmed = finished(None, LocalOutcome.UNCONFIRMED, task_id=None, maybe_created=True)
    assert f"request key `{unconfirmed.key}`" in visible_text(render_result_reply(unconfirmed))


def test_an_unknown_status_is_shown_as_its_number_and_keeps_the_cancel_button() -> None:
    record = make_record(status=TaskStatus(42))
    message = render_status(record)
    assert field(the_embed(message), "Status") == "Status 42"
    assert "Status 42" in visible_text(message)
    assert message.show_cancel


def test_an_unreadable_success_is_final_with_the_links_found_and_the_task_id() -> None:
    found = ResultAssets(extra={"found_urls": ["https://cdn.example.com/a.png"]})
    record = finished(
        TaskStatus.SUCCEEDED, result=found, result_problem="result_assets_json is not valid JSON"
    )
    status = render_status(record)
    text = visible_text(status)
    assert "Finished, but the result could not be read" in text
    assert "https://cdn.example.com/a.png" in text
    assert f"task id `{TASK_ID}`" in text
    assert not status.show_cancel
    assert the_embed(status).image.url is None  # nothing unverified is shown inline
    reply = visible_text(render_result_reply(record))
    assert "finished, but the result could not be read" in reply
    assert "https://cdn.example.com/a.png" in reply
    assert "charge" not in reply.lower()


def test_processing_shows_when_processing_started_not_when_it_was_requested() -> None:
    started = CREATED_AT + timedelta(minutes=3)
    record = make_record(status=TaskStatus.PROCESSING, processing_started_at=started)
    assert f"<t:{int(started.timestamp())}:R>" in (the_embed(render_status(record)).description or "")

"""The private answers to commands and buttons."""

from __future__ import annotations

from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.rendering import (
    active_limit_message,
    already_finished_message,
    attachment_not_image_message,
    attachment_too_large_message,
    busy_message,
    cancel_done_message,
    cancel_failed_message,
    no_such_task_here_message,
    nothing_to_cancel_message,
    prompt_empty_message,
    prompt_too_long_message,
    unexpected_error_message,
    unknown_model_message,
)
from tests.rendering.support import (
    HOSTILE_PROMPT,
    assert_cannot_ping,
    finished,
    image_done,
    make_record,
)

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
    assert no_such_task_here_message() == "No task of yours with that id here."
    assert "no running tasks" in nothing_to_cancel_message()
    assert "Failed" in already_finished_message(finished(TaskStatus.FAILED))
    failed = cancel_failed_message("The generation service is busy right now")
    assert failed == (
        "I could not cancel that task: The generation service is busy right now. "
        "Please try again in a moment."
    )
    assert len(cancel_failed_message("x" * 10_000)) <= 2000


def test_cancel_done_message_per_situation() -> None:
    running = make_record(status=TaskStatus.PROCESSING, cancel_requested=True)
    assert cancel_done_message(running).startswith("Cancelling “a lighthouse at dawn --ar 16:9”.")
    assert "charged" not in cancel_done_message(running)  # the cancel may still lose the race
    pending = make_record(status=None, task_id=None, cancel_requested=True, maybe_created=True)
    assert "has not confirmed this request yet" in cancel_done_message(pending)
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

"""Rendering of the result reply and its fallbacks (a new message, a DM)."""

from __future__ import annotations

from bot.engine.api.models import LocalOutcome, TaskStatus
from bot.rendering import (
    render_dm_result,
    render_result_reply,
    render_standalone_result,
)
from tests.rendering.support import (
    IMAGE_URL,
    REQUESTER,
    TASK_ID,
    THUMB_URL,
    VIDEO_URL,
    finished,
    image_done,
    the_embed,
    video_done,
    visible_text,
)

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


def test_every_result_message_shows_the_task_id_a_user_can_pass_to_cancel() -> None:
    done = image_done()
    for message in (render_result_reply(done), render_standalone_result(done)):
        assert TASK_ID in visible_text(message)
    never_created = finished(None, LocalOutcome.UNREACHABLE, task_id=None)
    assert never_created.key in visible_text(render_result_reply(never_created))

"""Rendering of a result whose file was re-hosted on Discord (or kept as a link, with a note), the
links to the messages that show it, and the completion DM."""

from __future__ import annotations

from bot.engine.api.models import ResultAssets, TaskStatus
from bot.rendering import (
    media_note_download_failed,
    media_note_not_media,
    media_note_too_large,
    media_note_too_slow,
    message_link,
    render_completion_dm,
    render_file_post,
    render_result_reply,
    render_status,
)
from tests.rendering.support import (
    HOSTILE_PROMPT,
    IMAGE_URL,
    REQUESTER,
    TASK_ID,
    THUMB_URL,
    VIDEO_URL,
    assert_cannot_ping,
    assert_within_discord_limits,
    finished,
    image_done,
    the_embed,
    video_done,
)


def test_an_attached_image_is_shown_from_its_file_and_its_link_stays_in_the_text() -> None:
    status = render_status(image_done(media_state="attached", media_filename=f"{TASK_ID}.png"))
    embed = the_embed(status)
    assert embed.image.url == f"attachment://{TASK_ID}.png"
    assert IMAGE_URL in (embed.description or "")
    assert status.content is None


def test_an_attached_video_is_played_from_its_file_with_the_thumbnail_in_the_embed() -> None:
    status = render_status(video_done(media_state="attached", media_filename=f"{TASK_ID}.mp4"))
    # No bare gateway URL in the content: Discord would show a second player beside the file's.
    assert status.content is None
    assert the_embed(status).image.url == THUMB_URL


def test_a_file_not_attached_yet_renders_exactly_as_before() -> None:
    for done in (image_done, video_done):
        before = render_status(done())
        assert render_status(done(media_state="pending")).payload_key() == before.payload_key()
    assert render_status(video_done()).content == VIDEO_URL


def test_a_file_kept_as_a_link_keeps_the_link_and_says_why() -> None:
    note = media_note_too_large(10 * 1024 * 1024)
    status = render_status(image_done(media_state="skipped", media_note=note))
    embed = the_embed(status)
    assert embed.image.url == IMAGE_URL
    assert f"*{note}*" in (embed.description or "")
    video = render_status(video_done(media_state="skipped", media_note=note))
    assert video.content == VIDEO_URL
    assert_within_discord_limits(video)


def test_notes_say_why_in_a_few_words() -> None:
    assert "10 MB upload limit" in media_note_too_large(10 * 1024 * 1024)
    assert "`text/html`" in media_note_not_media("text/html")
    assert "HTTP 404" in media_note_download_failed("HTTP 404")
    assert "60 s" in media_note_too_slow(60)
    for note in (media_note_not_media("`x` @everyone" * 40), media_note_download_failed("y" * 500)):
        assert len(note) <= 300
        assert_cannot_ping(note)


def test_the_reply_links_to_the_status_message_that_shows_the_file() -> None:
    content = render_result_reply(image_done()).content or ""
    assert "https://discord.com/channels/777/555/999" in content
    assert f"<{IMAGE_URL}>" in content.splitlines()
    failed = render_result_reply(finished(TaskStatus.FAILED)).content or ""
    assert "https://discord.com/channels/" not in failed


def test_message_links_work_inside_and_outside_a_server() -> None:
    assert message_link(777, 555, 999) == "https://discord.com/channels/777/555/999"
    assert message_link(None, 555, 999) == "https://discord.com/channels/@me/555/999"


def test_the_completion_dm_links_to_the_result_and_pings_nobody() -> None:
    link = message_link(777, 555, 1001)
    done = render_completion_dm(image_done(prompt=HOSTILE_PROMPT), link).content or ""
    assert link in done
    assert "Your image is ready" in done
    assert "/notify off" in done
    assert_cannot_ping(done)
    failed = render_completion_dm(finished(TaskStatus.FAILED), link).content or ""
    assert "Your image failed" in failed and link in failed


def test_the_files_own_post_names_its_task_and_pings_nobody() -> None:
    video = video_done(result=ResultAssets(video_url=VIDEO_URL))
    post = render_file_post(video, f"{TASK_ID}.mp4")
    assert TASK_ID in (post.content or "")
    assert "video" in (post.content or "")
    assert post.embeds == ()
    assert str(REQUESTER) not in (post.content or "")
    image = render_file_post(image_done(), f"{TASK_ID}.png")
    assert the_embed(image).image.url == f"attachment://{TASK_ID}.png"

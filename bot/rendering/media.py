"""The result file as the front end re-hosts it on Discord: which file that is, what an embed shows
once it is attached (`attachment://`), and the note shown when it stayed a link.

A gateway or CDN URL expires; a file attached to a Discord message is served by Discord with fresh
signed URLs for as long as the message lives. Until the file is attached (`media_state` None or
"pending") everything renders exactly as it did before, so nothing is edited for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.engine.api.models import ResultAssets
from bot.engine.store.interface import TaskRecord
from bot.rendering.text import format_bytes, inline_code, one_line, truncate, usable_url

ATTACHMENT_SCHEME = "attachment://"
MEDIA_ATTACHED = "attached"
MEDIA_SKIPPED = "skipped"
MEDIA_PENDING = "pending"
NOTE_LIMIT = 300  # the store keeps at most this much of a note
_DETAIL_LIMIT = 80


@dataclass(frozen=True, slots=True)
class MediaSource:
    """The one file of a result worth re-hosting: the video of a video, else the image."""

    url: str
    is_video: bool


def media_source(result: ResultAssets | None) -> MediaSource | None:
    """The file to re-host, or None when the result names no usable http(s) image or video."""
    if result is None:
        return None
    video = usable_url(result.video_url)
    if video is not None:
        return MediaSource(video, is_video=True)
    image = usable_url(result.image_url)
    return MediaSource(image, is_video=False) if image is not None else None


def attached_filename(record: TaskRecord) -> str | None:
    """The file name the status message carries the result under, once it is attached."""
    if record.media_state == MEDIA_ATTACHED and record.media_filename:
        return record.media_filename
    return None


def attached_video(record: TaskRecord) -> bool:
    """The status message carries the video itself, which Discord plays."""
    source = media_source(record.result)
    return attached_filename(record) is not None and source is not None and source.is_video


def embed_picture(record: TaskRecord) -> str | None:
    """The picture a finished task's embed shows: the attached image, else the image or a video's
    thumbnail by the generation service's link."""
    result = record.result
    if result is None:
        return None
    name = attached_filename(record)
    source = media_source(result)
    if name is not None and source is not None and not source.is_video:
        return ATTACHMENT_SCHEME + name
    return usable_url(result.image_url) or usable_url(result.thumbnail_url)


def media_note_line(record: TaskRecord) -> str | None:
    """The small note under the links when the file stayed a link."""
    if record.media_state == MEDIA_SKIPPED and record.media_note:
        return f"*{record.media_note}*"
    return None


# --- why a file stayed a link (stored with the task as `media_note`) -----------------------------


def _note(why: str) -> str:
    return truncate(f"Not attached: {why}. The link above may stop working after a while.", NOTE_LIMIT)


def media_note_too_large(limit: int) -> str:
    return _note(f"the file is larger than this server's {format_bytes(limit)} upload limit")


def media_note_not_media(content_type: str) -> str:
    return _note(f"the service sent {_plain(content_type)}, not an image or a video")


def media_note_download_failed(detail: str) -> str:
    return _note(f"the file could not be downloaded ({_plain(detail)})")


def media_note_too_slow(seconds: float) -> str:
    return _note(f"the download took longer than {seconds:g} s")


def media_note_refused_by_discord() -> str:
    return _note("Discord did not accept the file")


def _plain(detail: str) -> str:
    """A short technical detail as inline code, so no markdown or mention in it can take effect."""
    return inline_code(discord.utils.escape_mentions(one_line(detail)), _DETAIL_LIMIT)

"""Task records in every state, and checks of what a rendered message shows, for rendering tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskStatus, TaskType
from bot.engine.store.interface import TaskRecord
from bot.rendering import (
    RenderedMessage,
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

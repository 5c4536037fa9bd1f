"""/tasks and /show: a page of a user's tasks, and one task shown again with its result."""

from __future__ import annotations

import discord

from bot.engine.api.models import TaskType
from bot.engine.store.interface import TaskRecord
from bot.rendering.states import DisplayState, display_state, state_emoji, status_label, task_id_of
from bot.rendering.task_messages import RenderedMessage, build_task_embed, render_status
from bot.rendering.text import (
    EMBED_DESCRIPTION_LIMIT,
    discord_timestamp,
    escape_user_text,
    inline_code,
    one_line,
    truncate,
    usable_url,
)

TASKS_PER_PAGE = 10
LISTED_PROMPT_LIMIT = 60
# Ten entries of at most this many characters fit an embed's description (4,096).
ENTRY_LIMIT = EMBED_DESCRIPTION_LIMIT // TASKS_PER_PAGE - 2


def message_link(record: TaskRecord) -> str | None:
    """A link that opens the task's status message in Discord."""
    if record.message_id is None or record.guild_id is None:
        return None
    return f"https://discord.com/channels/{record.guild_id}/{record.channel_id}/{record.message_id}"


def page_count(total: int) -> int:
    return max((total + TASKS_PER_PAGE - 1) // TASKS_PER_PAGE, 1)


def _entry(record: TaskRecord) -> str:
    prompt = truncate(escape_user_text(one_line(record.prompt)) or "(no prompt)", LISTED_PROMPT_LIMIT)
    head = (
        f"{state_emoji(display_state(record))} **{status_label(record)}** · {inline_code(record.model, 60)}"
        f" · {discord_timestamp(record.created_at)}"
    )
    tail = f"id {inline_code(task_id_of(record), 70)}"
    link = message_link(record)
    if record.deleted_at is not None:
        tail += " · result deleted"
    elif link is not None:
        tail += f" · [message]({link})"
    # The id and the link are never cut (a cut one is useless); the prompt gives way.
    room = ENTRY_LIMIT - len(head) - len(tail) - len("\n“”\n")
    return f"{head}\n“{truncate(prompt, max(room, 1))}”\n{tail}"


def render_task_list(records: list[TaskRecord], *, page: int, total: int) -> RenderedMessage:
    """One page (0-based) of a user's tasks in a server, newest first; `total` is how many they have."""
    if not records:
        description = "You have no tasks in this server yet. Start one with `/imagine` or `/video`."
    else:
        description = "\n\n".join(_entry(record) for record in records)
    embed = discord.Embed(
        title="Your tasks in this server",
        description=truncate(description, EMBED_DESCRIPTION_LIMIT),
        colour=discord.Colour.blurple(),
    )
    if total:
        embed.set_footer(
            text=f"Page {page + 1} of {page_count(total)} · {total} task{'s' if total != 1 else ''} · "
            "/show task_id shows one again"
        )
    return RenderedMessage(content=None, embeds=(embed,))


def render_shown_task(
    record: TaskRecord, *, media_url: str | None, note: str | None = None
) -> RenderedMessage:
    """A task shown again by /show: its status embed with the result, from `media_url` (the re-hosted
    file as Discord links it now) when there is one, else from the generation service's links."""
    embed = build_task_embed(record)
    content = render_status(record).content  # a video's player link, when it has one
    if display_state(record) is DisplayState.DONE and record.result is not None:
        is_video = record.task_type is TaskType.VIDEO
        picture = (None if is_video else media_url) or usable_url(record.result.image_url)
        picture = picture or usable_url(record.result.thumbnail_url)
        if picture is not None:
            embed.set_image(url=picture)
        if is_video and media_url is not None:
            content = discord.utils.escape_mentions(media_url)  # in content, Discord shows a player
    if note:
        content = f"{note}\n{content}" if content else note
    return RenderedMessage(content=content, embeds=(embed,))


def show_public_refused_note() -> str:
    return "*Shown only to you: only the person who asked for this task can show it publicly.*"

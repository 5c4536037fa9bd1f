"""The messages that follow a task: the public status message, the result reply and its fallbacks.

Everything here is a pure function of the `TaskRecord`: no clock, no I/O. Elapsed time is shown with
Discord's `<t:UNIX:R>` tags, which clients keep current, so a message only needs an edit when
something it shows has changed (compare `RenderedMessage.payload_key()`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import discord

from bot.engine.api.models import LocalOutcome, ResultAssets, TaskType
from bot.engine.store.interface import TaskRecord
from bot.rendering.media import attached_video, embed_picture, media_note_line
from bot.rendering.states import (
    DisplayState,
    advice,
    cancelled_by_line,
    charge_note,
    default_reason,
    display_state,
    processing_started_at,
    state_colour,
    state_emoji,
    status_label,
    task_id_of,
    task_noun,
    task_title,
)
from bot.rendering.text import (
    CONTENT_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FOOTER_LIMIT,
    EMBED_TOTAL_LIMIT,
    as_aware,
    discord_timestamp,
    escape_for_content,
    escape_user_text,
    format_duration,
    inline_code,
    markdown_link,
    message_link,
    one_line,
    quote_block,
    truncate,
    usable_url,
)

PROMPT_PLACEHOLDER = "(no prompt)"
# Room kept for the parts of the description below the prompt (status line, progress, reason).
STATE_BLOCK_LIMIT = 2000
PROGRESS_LIMIT = 300
REASON_EMBED_LIMIT = 1500
PROMPT_QUOTE_LIMIT = 300
REASON_CONTENT_LIMIT = 900
EXTRA_LINKS_LIMIT = 8
_SELF_EXPLAINING_OUTCOMES = frozenset(
    {
        LocalOutcome.UNREACHABLE,
        LocalOutcome.UNCONFIRMED,
        LocalOutcome.LOST,
        LocalOutcome.TIMED_OUT,
        LocalOutcome.CANCELLED_BEFORE_START,
    }
)


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A message ready to send or edit. The caller adds the Cancel button when `show_cancel`."""

    content: str | None
    embeds: tuple[discord.Embed, ...]
    show_cancel: bool = False

    def payload_key(self) -> str:
        """A stable string of everything visible; equal keys mean an edit would change nothing."""
        payload = {
            "content": self.content,
            "embeds": [embed.to_dict() for embed in self.embeds],
            "show_cancel": self.show_cancel,
        }
        return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def command_name(task_type: TaskType) -> str:
    return "/video" if task_type is TaskType.VIDEO else "/imagine"


def footer_text(record: TaskRecord) -> str:
    """The task's id as a user can pass it to /cancel or show it to support (see `task_id_of`)."""
    return truncate(f"Task id {task_id_of(record)}", EMBED_FOOTER_LIMIT)


# --- status message -------------------------------------------------------------------------------


def render_status(record: TaskRecord) -> RenderedMessage:
    """The public status message: prompt, model and status; the result once there is one."""
    state = display_state(record)
    # An attached video plays from its file; the service's URL in the content would add a second player.
    done = state is DisplayState.DONE and not attached_video(record)
    content = _player_line(record.result) if done else None
    return RenderedMessage(
        content=content,
        embeds=(build_task_embed(record),),
        show_cancel=state.is_running and not record.cancel_requested,
    )


def build_task_embed(record: TaskRecord) -> discord.Embed:
    """The embed that describes a task in every state, within all of Discord's embed limits."""
    state = display_state(record)
    title = task_title(record.task_type)
    fields = _fields(record, state)
    footer = footer_text(record)
    state_block = truncate(_state_block(record, state), STATE_BLOCK_LIMIT)

    separator = "\n\n"
    used_elsewhere = len(title) + len(footer) + sum(len(name) + len(value) for name, value in fields)
    room = min(EMBED_DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - used_elsewhere)
    prompt = truncate(
        escape_user_text(record.prompt.strip()) or PROMPT_PLACEHOLDER,
        room - len(separator) - len(state_block),
    )

    embed = discord.Embed(
        title=title, description=prompt + separator + state_block, colour=state_colour(state)
    )
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=True)
    embed.set_footer(text=footer)
    picture = embed_picture(record) if state is DisplayState.DONE else None
    if picture is not None:
        embed.set_image(url=picture)
    return embed


def _fields(record: TaskRecord, state: DisplayState) -> list[tuple[str, str]]:
    status = status_label(record)
    if state.is_running and record.cancel_requested:
        status += " · cancelling"
    fields = [
        ("Model", inline_code(record.model, EMBED_FIELD_VALUE_LIMIT)),
        ("Status", status),
    ]
    if state is DisplayState.DONE and record.result is not None and record.result.seed is not None:
        fields.append(("Seed", inline_code(str(record.result.seed), EMBED_FIELD_VALUE_LIMIT)))
    if state.is_unsuccessful and record.error_code:
        fields.append(("Error code", inline_code(record.error_code, EMBED_FIELD_VALUE_LIMIT)))
    fields.append(("Requested by", f"<@{record.requester_id}>"))
    return fields


def _state_block(record: TaskRecord, state: DisplayState) -> str:
    emoji = state_emoji(state)
    if state is DisplayState.QUEUED:
        lines = [f"{emoji} **Queued** {discord_timestamp(record.created_at)}"]
    elif state is DisplayState.PROCESSING:
        started = discord_timestamp(processing_started_at(record))
        lines = [f"{emoji} **Processing** · started {started}"]
    elif state is DisplayState.OTHER:
        lines = [f"{emoji} **{status_label(record)}** · since {discord_timestamp(record.created_at)}"]
    elif state is DisplayState.DONE:
        note = media_note_line(record)
        lines = [_done_line(record), *_asset_links(record.result), *([note] if note else [])]
    elif state is DisplayState.UNREADABLE:
        found = (
            [markdown_link(label, url) for label, url in _extra_urls(record.result)] if record.result else []
        )
        lines = [
            f"{emoji} **Finished, but the result could not be read**",
            truncate(escape_user_text(f"Why: {record.result_problem}."), REASON_EMBED_LIMIT),
            " · ".join(found) if found else "No link could be found in what it sent.",
            f"*{advice(record)}*",
        ]
    else:
        lines = [f"{emoji} **{state.label}**"]
        by = cancelled_by_line(record)
        if by is not None:
            lines.append(by)
        if record.error_message is None or record.local_outcome in _SELF_EXPLAINING_OUTCOMES:
            # The bot ended these itself; the error text (if any) is a detail under the plain reason.
            lines.append(default_reason(record))
        if record.error_message:
            lines.append(truncate(escape_user_text(record.error_message), REASON_EMBED_LIMIT))
        closing = " ".join(note for note in (charge_note(record), advice(record)) if note)
        if closing:
            lines.append(f"*{closing}*")

    if state.is_running:
        if record.progress and record.progress.strip():
            progress = truncate(escape_user_text(one_line(record.progress)), PROGRESS_LIMIT)
            lines.append(quote_block(progress))
        if record.cancel_requested:
            lines.append("🛑 Cancel requested, stopping the task…")
    return "\n".join(lines)


def _done_line(record: TaskRecord) -> str:
    line = f"{state_emoji(DisplayState.DONE)} **Done**"
    if record.completed_at is not None:
        line += f" {discord_timestamp(record.completed_at)}"
        took = (as_aware(record.completed_at) - as_aware(record.created_at)).total_seconds()
        if took >= 0:
            line += f" · took {format_duration(took)}"
    return line


def _asset_links(result: ResultAssets | None) -> list[str]:
    if result is None:
        return ["The generation service reported success but sent no image or video."]
    links: list[str] = []
    image = usable_url(result.image_url)
    video = usable_url(result.video_url)
    if video is not None:
        links.append(markdown_link("Open video", video))
    if image is not None:
        links.append(markdown_link("Full-size image", image))
    links.extend(markdown_link(label, url) for label, url in _extra_urls(result))
    if not links:
        return ["The generation service reported success but sent no image or video."]
    return [" · ".join(links)]


def _extra_urls(result: ResultAssets) -> list[tuple[str, str]]:
    """Links in result keys we do not know (e.g. a Midjourney grid's `image_urls`), labelled by key."""
    found: list[tuple[str, str]] = []
    for key, value in sorted(result.extra.items()):
        label = one_line(str(key).replace("_", " "))[:40] or "link"
        if isinstance(value, list):
            urls = [url for url in map(usable_url, value) if url is not None]
            found.extend((f"{label} {index}", url) for index, url in enumerate(urls, start=1))
        else:
            url = usable_url(value)
            if url is not None:
                found.append((label, url))
    return found[:EXTRA_LINKS_LIMIT]


def _player_line(result: ResultAssets | None) -> str | None:
    """A bare video URL: in message content Discord turns it into a player."""
    if result is None:
        return None
    video = usable_url(result.video_url)
    if video is None or len(video) > CONTENT_LIMIT:
        return None
    return discord.utils.escape_mentions(video)


# --- result reply and its fallbacks ---------------------------------------------------------------


def render_result_reply(record: TaskRecord) -> RenderedMessage:
    """The reply under the status message when a task ends; the only message that pings the requester.
    A result links to the status message, which shows it (and soon carries its file)."""
    shown_at = None
    if display_state(record) is DisplayState.DONE and record.message_id is not None:
        shown_at = message_link(record.guild_id, record.channel_id, record.message_id)
    return RenderedMessage(content=_result_text(record, mention=True, shown_at=shown_at), embeds=())


def render_standalone_result(record: TaskRecord) -> RenderedMessage:
    """A new channel message for when the status message is gone: the reply's text plus the task embed."""
    return RenderedMessage(content=_result_text(record, mention=True), embeds=(build_task_embed(record),))


def render_dm_result(record: TaskRecord, *, channel_id: int, guild_id: int | None) -> RenderedMessage:
    """A direct message for when the channel cannot be reached; links back to the channel."""
    link = f"https://discord.com/channels/{guild_id if guild_id is not None else '@me'}/{channel_id}"
    lead = (
        f"Your {command_name(record.task_type)} request in {link} has finished, "
        "but I could not post in that channel, so here is the result."
    )
    return RenderedMessage(
        content=_result_text(record, mention=False, lead=lead), embeds=(build_task_embed(record),)
    )


def _result_text(
    record: TaskRecord, *, mention: bool, lead: str | None = None, shown_at: str | None = None
) -> str:
    """Plain text of a task's outcome: who asked, what for, and the result or the reason it failed.

    The asset URL is never cut (a cut URL is a broken one); the quoted prompt and the reason share
    whatever room is left under Discord's 2,000-character limit.
    """
    state = display_state(record)
    noun = task_noun(record.task_type)
    model = inline_code(discord.utils.escape_mentions(record.model), 120)
    head = f"{state_emoji(state)} {outcome_sentence(state, noun)} · {model}"
    if state is DisplayState.DONE and record.result is not None and record.result.seed is not None:
        head += f" · seed {inline_code(str(record.result.seed), 60)}"
    head += f" · id {inline_code(discord.utils.escape_mentions(task_id_of(record)), 80)}"
    if mention:
        head = f"<@{record.requester_id}> {head}"

    before = [lead] if lead else []
    after: list[str] = []
    reason = ""
    if state is DisplayState.DONE:
        after.extend(_content_links(record.result))
        if shown_at is not None:
            after.append(f"Shown here: {shown_at}")
    elif state is DisplayState.UNREADABLE:
        after.extend(_content_links(record.result))
        after.append(advice(record) or "")
    elif state.is_unsuccessful:
        by = cancelled_by_line(record)
        if by is not None:
            after.append(by)
        # The sentence above already says what happened; a reason line only adds the gateway's words.
        reason = escape_for_content(one_line(record.error_message or ""))
        closing = " ".join(note for note in (charge_note(record), advice(record)) if note)
        if closing:
            after.append(closing)
    code = ""
    if state.is_unsuccessful and record.error_code:
        code = f" (code {inline_code(discord.utils.escape_mentions(record.error_code), 100)})"

    fixed = len("\n".join([*before, head, *after])) + 2  # +2: the prompt's and the reason's newlines
    room = CONTENT_LIMIT - fixed - len(code) - len("Reason: ") - len("> ")
    prompt_room = min(PROMPT_QUOTE_LIMIT, max(room // 2, 0) if reason else room)
    prompt = escape_for_content(one_line(record.prompt)) or PROMPT_PLACEHOLDER
    prompt_line = quote_block(truncate(prompt, prompt_room)) if prompt_room > 0 else ""
    reason_room = min(REASON_CONTENT_LIMIT, room - len(prompt_line))
    lines = [*before, head]
    if prompt_line:
        lines.append(prompt_line)
    if reason and reason_room > 0:
        lines.append(f"Reason: {truncate(reason, reason_room)}{code}")
    lines.extend(after)
    return truncate("\n".join(lines), CONTENT_LIMIT)


def outcome_sentence(state: DisplayState, noun: str) -> str:
    sentences = {
        DisplayState.QUEUED: f"Your {noun} is queued",
        DisplayState.PROCESSING: f"Your {noun} is being made",
        DisplayState.OTHER: f"Your {noun} is being made",
        DisplayState.DONE: f"Your {noun} is ready",
        DisplayState.UNREADABLE: f"Your {noun} finished, but the result could not be read",
        DisplayState.FAILED: f"Your {noun} failed",
        DisplayState.CANCELLED: f"Your {noun} was cancelled",
        DisplayState.EXPIRED: f"Your {noun} expired",
        DisplayState.REFUNDED: f"Your {noun} was refunded",
        DisplayState.TIMED_OUT: f"Your {noun} timed out",
        DisplayState.REJECTED: f"Your {noun} request was rejected",
        DisplayState.UNREACHABLE: f"Your {noun} could not be started: the service could not be reached",
        DisplayState.UNCONFIRMED: f"Your {noun} request was never confirmed by the service",
        DisplayState.LOST: f"Your {noun} was lost by the generation service",
    }
    return sentences[state]


def _content_links(result: ResultAssets | None) -> list[str]:
    """A video as a bare URL on its own line (Discord shows its player); an image in angle brackets,
    because the status message above already shows it and a second preview would only add noise."""
    if result is None:
        return ["No image or video was returned."]
    lines: list[str] = []
    video = _player_line(result)
    if video is not None and len(video) <= CONTENT_LIMIT // 2:
        lines.append(video)
    image = usable_url(result.image_url)
    if image is not None and len(image) <= CONTENT_LIMIT // 2:
        lines.append(f"<{discord.utils.escape_mentions(image)}>")
    if not lines:
        extras = [f"<{discord.utils.escape_mentions(url)}>" for _, url in _extra_urls(result)[:3]]
        lines.extend(url for url in extras if len(url) <= CONTENT_LIMIT // 4)
    return lines or ["No image or video link was returned."]

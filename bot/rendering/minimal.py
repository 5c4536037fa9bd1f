"""Minimal renderings: what is sent instead when Discord refused a full message as an invalid form
(400, code 50035), rather than sending the same payload again.

Plain content, no embed, every free text (prompt, progress, reason, model) cut short: whatever made the
full message invalid, these stay far inside Discord's limits. They still carry what the full renderings
carry that matters: the outcome, the result URL (never cut) and the requester's mention.
"""

from __future__ import annotations

import discord

from bot.engine.api.models import ResultAssets
from bot.engine.store.interface import TaskRecord
from bot.rendering.states import (
    DisplayState,
    charge_note,
    default_reason,
    display_state,
    state_emoji,
    task_noun,
    task_title,
)
from bot.rendering.task_messages import RenderedMessage, command_name
from bot.rendering.text import (
    CONTENT_LIMIT,
    escape_for_content,
    inline_code,
    one_line,
    truncate,
    usable_url,
)

PROMPT_LIMIT = 100
PROGRESS_LIMIT = 100
REASON_LIMIT = 200
MODEL_LIMIT = 60
CODE_LIMIT = 40
# The full reply leaves out longer URLs too; one this long always fits beside the short lines.
URL_LIMIT = CONTENT_LIMIT // 2
# Room the URLs always leave for the lines above them (which are shorter than this).
LINES_ROOM = 600


def minimal_status(record: TaskRecord) -> RenderedMessage:
    """The status message as plain text; the Cancel button stays exactly when the full one has it."""
    state = display_state(record)
    head = f"**{task_title(record.task_type)}** · {state_emoji(state)} {state.label}"
    if state.is_running and record.cancel_requested:
        head += " · cancelling"
    lines = [head, f"Model {_model(record)} · Requested by <@{record.requester_id}>"]
    lines.extend(_outcome_lines(record, state))
    if state.is_running and record.progress and record.progress.strip():
        lines.append(f"Progress: {_short(record.progress, PROGRESS_LIMIT)}")
    lines.append(_prompt_line(record))
    # Bare URLs, so Discord still previews the result without an embed of ours.
    content = _fit(lines, _result_urls(record.result, bare_image=True) if state is DisplayState.DONE else [])
    return RenderedMessage(
        content=content, embeds=(), show_cancel=state.is_running and not record.cancel_requested
    )


def minimal_result_reply(record: TaskRecord) -> RenderedMessage:
    """The result reply (or its standalone fallback) as short text that mentions the requester."""
    return RenderedMessage(content=_result_text(record, lead=f"<@{record.requester_id}>"), embeds=())


def minimal_standalone_result(record: TaskRecord) -> RenderedMessage:
    return minimal_result_reply(record)


def minimal_dm_result(record: TaskRecord, *, channel_id: int, guild_id: int | None) -> RenderedMessage:
    """The DM fallback as short text; like the full one it links back to the channel and mentions nobody."""
    link = f"https://discord.com/channels/{guild_id if guild_id is not None else '@me'}/{channel_id}"
    lead = f"Your {command_name(record.task_type)} request in {link} has finished."
    return RenderedMessage(content=_result_text(record, lead=lead), embeds=())


def _result_text(record: TaskRecord, *, lead: str) -> str:
    state = display_state(record)
    sentence = _OUTCOMES.get(state, "ended").format(noun=task_noun(record.task_type))
    head = f"{lead} {state_emoji(state)} Your {sentence} · {_model(record)}"
    lines = [head, *_outcome_lines(record, state), _prompt_line(record)]
    urls = _result_urls(record.result, bare_image=False) if state is DisplayState.DONE else []
    return _fit(lines, urls)


_OUTCOMES: dict[DisplayState, str] = {
    DisplayState.QUEUED: "{noun} is queued",
    DisplayState.PROCESSING: "{noun} is being made",
    DisplayState.DONE: "{noun} is ready",
    DisplayState.FAILED: "{noun} failed",
    DisplayState.CANCELLED: "{noun} was cancelled",
    DisplayState.EXPIRED: "{noun} expired",
    DisplayState.REFUNDED: "{noun} was refunded",
    DisplayState.TIMED_OUT: "{noun} timed out",
    DisplayState.REJECTED: "{noun} request was rejected",
    DisplayState.UNREACHABLE: "{noun} could not be started",
}


def _outcome_lines(record: TaskRecord, state: DisplayState) -> list[str]:
    if state is DisplayState.DONE:
        if record.result is not None and record.result.seed is not None:
            return [f"Seed {inline_code(str(record.result.seed), CODE_LIMIT)}"]
        return []
    if not state.is_unsuccessful:
        return []
    reason = _short(record.error_message or default_reason(record), REASON_LIMIT)
    if record.error_code:
        reason += f" (code {inline_code(discord.utils.escape_mentions(record.error_code), CODE_LIMIT)})"
    note = charge_note(record)
    return [f"Reason: {reason}", *([note] if note else [])]


def _result_urls(result: ResultAssets | None, *, bare_image: bool) -> list[str]:
    """The result's links: a video bare (Discord shows its player), an image bare in the status message
    and in angle brackets elsewhere, as the full renderings do; else the first link of another kind."""
    if result is None:
        return []
    urls: list[str] = []
    video = usable_url(result.video_url)
    if video is not None:
        urls.append(discord.utils.escape_mentions(video))
    image = usable_url(result.image_url)
    if image is not None:
        image = discord.utils.escape_mentions(image)
        urls.append(image if bare_image else f"<{image}>")
    if not urls:
        for value in result.extra.values():
            candidates = value if isinstance(value, list) else [value]
            found = next((url for url in map(usable_url, candidates) if url is not None), None)
            if found is not None:
                urls.append(f"<{discord.utils.escape_mentions(found)}>")
                break
    return [url for url in urls if len(url) <= URL_LIMIT]


def _fit(lines: list[str], urls: list[str]) -> str:
    """`lines` (each already short, the most important first) above the URLs that fit whole; only if
    the URLs take most of the room are the last lines cut, so a URL is never cut."""
    kept: list[str] = []
    for url in urls:
        if sum(len(u) + 1 for u in kept) + len(url) + 1 <= CONTENT_LIMIT - LINES_ROOM:
            kept.append(url)
    text = "\n".join(line for line in lines if line)
    return "\n".join([truncate(text, CONTENT_LIMIT - sum(len(u) + 1 for u in kept)), *kept])


def _prompt_line(record: TaskRecord) -> str:
    return f"> {_short(record.prompt, PROMPT_LIMIT) or '(no prompt)'}"


def _model(record: TaskRecord) -> str:
    return inline_code(discord.utils.escape_mentions(record.model), MODEL_LIMIT)


def _short(text: str, limit: int) -> str:
    return truncate(escape_for_content(one_line(text)), limit)

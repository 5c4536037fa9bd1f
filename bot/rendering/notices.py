"""Short messages around a finished task: the DM a user asked for with /notify, and the post that
carries the result's file when the status message could not be edited to carry it."""

from __future__ import annotations

import discord

from bot.engine.store.interface import TaskRecord
from bot.rendering.media import ATTACHMENT_SCHEME, media_source
from bot.rendering.states import display_state, state_emoji, task_id_of, task_noun
from bot.rendering.task_messages import RenderedMessage, outcome_sentence
from bot.rendering.text import escape_for_content, inline_code, one_line, quote_block, truncate

PROMPT_LIMIT = 200


def render_completion_dm(record: TaskRecord, result_link: str) -> RenderedMessage:
    """The DM sent on completion to a user who turned it on: the outcome and a link to the result."""
    state = display_state(record)
    model = inline_code(discord.utils.escape_mentions(record.model), 120)
    prompt = escape_for_content(one_line(record.prompt)) or "(no prompt)"
    sentence = outcome_sentence(state, task_noun(record.task_type))
    lines = [
        f"{state_emoji(state)} {sentence} · {model}: {result_link}",
        quote_block(truncate(prompt, PROMPT_LIMIT)),
        "-# You get these because of /notify on; /notify off stops them.",
    ]
    return RenderedMessage(content="\n".join(lines), embeds=())


def render_file_post(record: TaskRecord, filename: str) -> RenderedMessage:
    """The message that carries the result's file when its status message could not: it names the
    task and pings nobody (the result itself was already posted, with the one ping)."""
    source = media_source(record.result)
    noun = "video" if source is not None and source.is_video else "image"
    task_id = inline_code(discord.utils.escape_mentions(task_id_of(record)), 80)
    content = f"📎 The {noun} of task {task_id}, kept on Discord so the link cannot expire."
    if source is not None and source.is_video:
        return RenderedMessage(content=content, embeds=())  # Discord plays an attached video by itself
    return RenderedMessage(
        content=content, embeds=(discord.Embed().set_image(url=ATTACHMENT_SCHEME + filename),)
    )

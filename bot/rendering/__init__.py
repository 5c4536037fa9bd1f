"""Pure rendering of everything the bot shows in Discord, built from engine data with no I/O.

`render_status` makes the public status message, `render_result_reply` the reply that pings the
requester when a task ends, `render_standalone_result` / `render_dm_result` its fallbacks,
`render_file_post` the post of a result's file that its status message could not carry,
`render_completion_dm` the DM of /notify, `media_note_*` why a file stayed a link, the
`minimal_*` functions plain-text versions of those four for when Discord refuses a full message as an
invalid form, and the `*_message` functions the ephemeral answers to commands.
"""

from bot.rendering.ephemeral import (
    active_limit_message,
    already_finished_message,
    attachment_not_image_message,
    attachment_too_large_message,
    busy_message,
    cancel_done_message,
    cancel_failed_message,
    guild_only_message,
    invalid_option_message,
    no_such_task_here_message,
    nothing_to_cancel_message,
    notify_setting_message,
    prompt_empty_message,
    prompt_too_long_message,
    task_reference,
    unexpected_error_message,
    unknown_model_message,
)
from bot.rendering.media import (
    MEDIA_ATTACHED,
    MEDIA_PENDING,
    MEDIA_SKIPPED,
    MediaSource,
    attached_filename,
    media_note_download_failed,
    media_note_not_media,
    media_note_refused_by_discord,
    media_note_too_large,
    media_note_too_slow,
    media_source,
)
from bot.rendering.minimal import (
    minimal_dm_result,
    minimal_result_reply,
    minimal_standalone_result,
    minimal_status,
)
from bot.rendering.notices import render_completion_dm, render_file_post
from bot.rendering.states import DisplayState, display_state, status_label, task_id_of
from bot.rendering.task_messages import (
    RenderedMessage,
    build_task_embed,
    footer_text,
    render_dm_result,
    render_result_reply,
    render_standalone_result,
    render_status,
)
from bot.rendering.text import message_link

__all__ = [
    "MEDIA_ATTACHED",
    "MEDIA_PENDING",
    "MEDIA_SKIPPED",
    "DisplayState",
    "MediaSource",
    "RenderedMessage",
    "active_limit_message",
    "already_finished_message",
    "attached_filename",
    "attachment_not_image_message",
    "attachment_too_large_message",
    "build_task_embed",
    "busy_message",
    "cancel_done_message",
    "cancel_failed_message",
    "display_state",
    "footer_text",
    "guild_only_message",
    "invalid_option_message",
    "media_note_download_failed",
    "media_note_not_media",
    "media_note_refused_by_discord",
    "media_note_too_large",
    "media_note_too_slow",
    "media_source",
    "message_link",
    "minimal_dm_result",
    "minimal_result_reply",
    "minimal_standalone_result",
    "minimal_status",
    "no_such_task_here_message",
    "nothing_to_cancel_message",
    "notify_setting_message",
    "prompt_empty_message",
    "prompt_too_long_message",
    "render_completion_dm",
    "render_dm_result",
    "render_file_post",
    "render_result_reply",
    "render_standalone_result",
    "render_status",
    "status_label",
    "task_id_of",
    "task_reference",
    "unexpected_error_message",
    "unknown_model_message",
]

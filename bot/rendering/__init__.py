"""Pure rendering of everything the bot shows in Discord, built from engine data with no I/O.

`render_status` makes the public status message, `render_result_reply` the reply that pings the
requester when a task ends, `render_standalone_result` / `render_dm_result` its fallbacks, the
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
    prompt_empty_message,
    prompt_too_long_message,
    task_reference,
    unexpected_error_message,
    unknown_model_message,
)
from bot.rendering.history import (
    TASKS_PER_PAGE,
    page_count,
    render_shown_task,
    render_task_list,
    show_public_refused_note,
)
from bot.rendering.minimal import (
    minimal_dm_result,
    minimal_result_reply,
    minimal_standalone_result,
    minimal_status,
)
from bot.rendering.result_actions import (
    delete_not_allowed_message,
    model_gone_message,
    no_result_image_message,
    not_your_list_message,
    reference_gone_message,
    result_deleted_message,
    still_delivering_message,
    task_forgotten_message,
)
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

__all__ = [
    "TASKS_PER_PAGE",
    "DisplayState",
    "RenderedMessage",
    "active_limit_message",
    "already_finished_message",
    "attachment_not_image_message",
    "attachment_too_large_message",
    "build_task_embed",
    "busy_message",
    "cancel_done_message",
    "cancel_failed_message",
    "delete_not_allowed_message",
    "display_state",
    "footer_text",
    "guild_only_message",
    "invalid_option_message",
    "minimal_dm_result",
    "minimal_result_reply",
    "minimal_standalone_result",
    "minimal_status",
    "model_gone_message",
    "no_result_image_message",
    "no_such_task_here_message",
    "not_your_list_message",
    "nothing_to_cancel_message",
    "page_count",
    "prompt_empty_message",
    "prompt_too_long_message",
    "reference_gone_message",
    "render_dm_result",
    "render_result_reply",
    "render_shown_task",
    "render_standalone_result",
    "render_status",
    "render_task_list",
    "result_deleted_message",
    "show_public_refused_note",
    "status_label",
    "still_delivering_message",
    "task_forgotten_message",
    "task_id_of",
    "task_reference",
    "unexpected_error_message",
    "unknown_model_message",
]

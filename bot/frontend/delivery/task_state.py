"""What the notifier remembers of one task's status message between two updates.

All of it can be rebuilt: forgetting a task costs at most an edit that changes nothing visible, or one
more request on a route that was already known to refuse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.store.interface import TaskRecord
    from bot.frontend.delivery.result_posts import Posted


@dataclass
class MessageState:
    touched_at: float = 0.0  # time.monotonic() of the last update the engine or the cog gave for it
    last_payload: str | None = None  # payload_key() of what the status message shows
    last_edit_at: float = float("-inf")  # time.monotonic()
    pending: TaskRecord | None = None  # the newest progress not shown yet
    timer: asyncio.Task[None] | None = None  # the task that shows `pending`, coalescing updates
    finalising: bool = False
    # The status message cannot be edited for this task any more (deleted, archived thread, no
    # access...): the result goes out as a new message instead of a reply under it.
    status_unusable: bool = False
    token_dead: bool = False  # the interaction-token route refused for good
    minimal_only: bool = False  # Discord refused the full rendering as an invalid form
    status_final_shown: bool = False  # kept across the engine's retries of the final: edited once
    channel_refused: bool = False  # the channel refused the result for good: retries go to the DMs
    # Kept across the engine's retries of the final, so what is done is not done twice: the result
    # post, its id in the store, the file's job, the DM notice.
    posted: Posted | None = None
    reply_recorded: bool = False
    media_followed: bool = False
    notice_sent: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def idle_keys(states: Mapping[str, MessageState], *, now: float, limit: float) -> list[str]:
    """Tasks without any update for more than `limit` seconds and nothing in flight: their final may
    never come (the engine lost or dropped them), so what is kept for them is only taking memory."""
    return [
        key for key, state in states.items() if now - state.touched_at > limit and not state.lock.locked()
    ]


async def stop_timer(state: MessageState) -> None:
    """Stop the progress timer and wait until it has let go of the message. Its outcome is not
    awaited: a timer that died of an error was logged by create_task, and must not fail the final."""
    timer = state.timer
    state.timer = None
    if timer is None or timer is asyncio.current_task():
        return
    timer.cancel()
    await asyncio.wait({timer})

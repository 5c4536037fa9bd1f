"""Shows engine updates in Discord: edits the status message, posts the result, and never drops one.

Progress is coalesced per task by a timer (at most one edit per `min_edit_interval`); a progress edit
that fails in any way is logged and forgotten, since the next one or the final carries the state. The
final edits the status message (status_edits.py) and posts the result (result_posts.py), raising only
for failures that may pass, so the engine re-delivers it later with backoff. Once the result is out,
its message id is stored, its file is re-hosted in the background (rehosting.py) and the requester
gets the DM they asked for with /notify (completion_dm.py); none of these waits for a download.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import discord

from bot import rendering
from bot.background import create_task
from bot.engine.notifier import TaskUpdate
from bot.frontend.delivery.channel_budget import ChannelEditBudget
from bot.frontend.delivery.completion_dm import CompletionNotice
from bot.frontend.delivery.failures import describe_failure
from bot.frontend.delivery.rehosting import MediaRehoster
from bot.frontend.delivery.result_posts import Posted, ResultPoster
from bot.frontend.delivery.status_edits import ChannelBusyError, StatusEditor
from bot.frontend.delivery.task_state import MessageState, idle_keys, stop_timer

if TYPE_CHECKING:
    from bot.engine.store.interface import TaskRecord
    from bot.engine.task_engine import TaskEngine
    from bot.frontend.delivery.downloads import AssetDownloader

log = logging.getLogger(__name__)

# A task without any update for this long is forgotten: its final may never come (a lost row), and
# everything kept for it can be rebuilt should it come after all.
STATE_IDLE_LIMIT = 3600.0


class DiscordNotifier:
    """The engine's `TaskNotifier` for Discord."""

    def __init__(
        self,
        client: discord.Client,
        engine: TaskEngine,
        *,
        min_edit_interval: float = 2.0,
        busy_retry: float = 2.5,
        channel_budget: ChannelEditBudget | None = None,
        state_idle_limit: float = STATE_IDLE_LIMIT,
        downloader: AssetDownloader | None = None,
    ) -> None:
        self._engine = engine
        self._min_edit_interval = min_edit_interval
        self._busy_retry = busy_retry
        self._state_idle_limit = state_idle_limit
        self._editor = StatusEditor(client, engine, channel_budget or ChannelEditBudget())
        self._poster = ResultPoster(client)
        self._media = MediaRehoster(
            engine, self._editor, self._poster, downloader, min_edit_interval=min_edit_interval
        )
        self._notice = CompletionNotice(client, engine)
        self._states: dict[str, MessageState] = {}
        self._timers: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    # -- what the front end tells us ----------------------------------------------------------------

    def remember_sent(self, key: str, rendered: rendering.RenderedMessage) -> None:
        """The cog sent the first status message: an identical 'Queued' needs no edit."""
        state = self._state(key)
        state.last_payload = rendered.payload_key()
        state.last_edit_at = time.monotonic()

    # -- TaskNotifier ---------------------------------------------------------------------------------

    async def task_updated(self, update: TaskUpdate) -> None:
        if update.is_final:
            await self._deliver_final(update.record)
        else:
            self._schedule_progress(update.record)

    async def resume_media(self) -> int:
        """At a start: go on re-hosting the files the last run left pending; how many."""
        return await self._media.resume()

    def task_abandoned(self, key: str) -> None:
        if self._forget(key):
            log.info("task %s: forgotten, the engine gave up reporting it", key)

    async def close(self) -> None:
        timers = list(self._timers)
        if self._sweeper is not None:
            timers.append(self._sweeper)
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        await self._media.close()
        self._states.clear()

    # -- memory per task: freed after the final, on abandonment, or after an idle time ---------------

    def _state(self, key: str) -> MessageState:
        state = self._states.setdefault(key, MessageState())
        state.touched_at = time.monotonic()
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = create_task(self._forget_idle_tasks(), name="delivery-idle-sweep")
        return state

    def _forget(self, key: str) -> bool:
        state = self._states.pop(key, None)
        if state is None:
            return False
        if state.timer is not None:
            state.timer.cancel()  # not awaited: it only sleeps or edits, and ends on its own
        return True

    async def _forget_idle_tasks(self) -> None:
        """While anything is remembered, drop the tasks that had no update for the idle limit."""
        while self._states:
            await asyncio.sleep(self._state_idle_limit / 4)
            idle = idle_keys(self._states, now=time.monotonic(), limit=self._state_idle_limit)
            for key in idle:
                self._forget(key)
                log.warning(
                    "task %s: forgotten after no update for %g s (its final never came)",
                    key,
                    self._state_idle_limit,
                )

    # -- progress: coalesced, at most one edit per message per min_edit_interval ---------------------

    def _schedule_progress(self, record: TaskRecord) -> None:
        state = self._state(record.key)
        if state.finalising:
            return
        state.pending = record
        if state.timer is None or state.timer.done():
            state.timer = create_task(
                self._flush_progress(record.key), name=f"progress-{record.key}", group=self._timers
            )

    async def _flush_progress(self, key: str) -> None:
        state = self._states.get(key)
        while state is not None and state.pending is not None and not state.finalising:
            await self._wait_edit_interval(state)
            async with state.lock:
                record, state.pending = state.pending, None
                if record is None or state.finalising or state.status_unusable:
                    return
                rendered = rendering.render_status(record)
                if rendered.payload_key() == state.last_payload:
                    continue
                try:
                    await self._editor.show(record, rendered, state, final=False)
                except ChannelBusyError:
                    # Keep the newest pending update, if one arrived meanwhile, else this one.
                    state.pending = state.pending or record
                    state.last_edit_at = time.monotonic() + self._busy_retry - self._min_edit_interval
                except Exception as error:
                    # Network, store or HTTP: a lost progress edit is harmless, the next one (or the
                    # final) carries the state, and nothing here may outlive the edit and block the final.
                    log.warning("task %s: progress edit failed (%s)", key, describe_failure(error))

    async def _wait_edit_interval(self, state: MessageState) -> None:
        wait = state.last_edit_at + self._min_edit_interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    # -- final: edit to the final state, then post the result; raise only for failures that may pass --

    async def _deliver_final(self, record: TaskRecord) -> None:
        state = self._state(record.key)
        state.finalising = True
        await stop_timer(state)
        try:
            posted = await self._show_and_post(record, state)
            await self._after_the_result(record, posted, state)
        except Exception as error:
            log.error(
                "task %s: delivering the final state failed (%s); the engine will try again later",
                record.key,
                describe_failure(error),
            )
            raise
        self._forget(record.key)
        log.info("task %s: final state handled, result posted: %s", record.key, posted.kind.value)

    async def _show_and_post(self, record: TaskRecord, state: MessageState) -> Posted:
        """What is done stays done across the engine's retries: the final edit, then the post."""
        async with state.lock:
            if not state.status_final_shown:
                if not state.status_unusable:
                    await self._wait_edit_interval(state)
                    rendered = rendering.render_status(record)
                    if rendered.payload_key() != state.last_payload:
                        await self._editor.show(record, rendered, state, final=True)
                state.status_final_shown = True
            if state.posted is None:
                state.posted = await self._poster.post(record, state)
            return state.posted

    async def _after_the_result(self, record: TaskRecord, posted: Posted, state: MessageState) -> None:
        """Once the result is out: keep its id (for Delete and /show), start re-hosting its file (in
        the background, pending in the store from here on) and send the DM of /notify. A store
        failure raises, and the engine's retry resumes at the first step not done."""
        if posted.message_id is not None and not state.reply_recorded:
            await self._engine.set_reply_message(record.key, message_id=posted.message_id)
            state.reply_recorded = True
        if not state.media_followed:
            await self._media.follow(record, last_edit_at=state.last_edit_at)
            state.media_followed = True
        if not state.notice_sent:
            await self._notice.send(record, posted)
            state.notice_sent = True

"""Shows engine updates in Discord: edits the status message, posts the result, and never drops one.

Routes, in order of preference, for the status message:
1. the interaction token (`/webhooks/{app}/{token}/messages/{id}`): its own rate-limit bucket, valid
   15 minutes; dropped for good on 401/50027 (repeated 401s count against Cloudflare's ban limit);
2. the channel route (`/channels/{id}/messages/{id}`): shared by the whole channel (about 5 edits per
   5 s), so progress edits there are skipped while the channel is busy, but final states always go.
When the status message is gone the result is posted as a new message mentioning the requester, and
when the channel cannot be reached it goes to the requester's DMs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

import discord

from bot import rendering
from bot.background import create_task
from bot.engine.notifier import TaskUpdate
from bot.frontend.components import cancel_view
from bot.frontend.delivery.channel_budget import ChannelEditBudget

if TYPE_CHECKING:
    from bot.engine.store.interface import TaskRecord
    from bot.engine.task_engine import TaskEngine

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
INVALID_WEBHOOK_TOKEN = 50027
# Stop using a token a little before Discord does, so an edit never races its expiry.
TOKEN_SAFETY_MARGIN = timedelta(seconds=30)


class Delivery(Enum):
    EDITED = "edited"
    MESSAGE_GONE = "message_gone"
    CHANNEL_UNREACHABLE = "channel_unreachable"


def describe_failure(error: Exception) -> str:
    """A failure for the log: status and Discord code of an HTTP error, else only the exception's type
    (a network error's text may carry the request URL, and token routes have the token in it)."""
    if isinstance(error, discord.HTTPException):
        return f"{error.status} {error.code}"
    return type(error).__name__


class ChannelBusyError(Exception):
    """The channel's edit budget is spent; a progress edit waits for the next window."""


@dataclass
class _MessageState:
    last_payload: str | None = None
    last_edit_at: float = float("-inf")  # time.monotonic()
    pending: TaskRecord | None = None
    timer: asyncio.Task[None] | None = None
    finalising: bool = False
    message_gone: bool = False
    token_dead: bool = False
    status_final_shown: bool = False
    reply_posted: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


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
    ) -> None:
        self._client = client
        self._engine = engine
        self._min_edit_interval = min_edit_interval
        self._busy_retry = busy_retry
        self._channel_budget = channel_budget or ChannelEditBudget()
        self._states: dict[str, _MessageState] = {}
        self._timers: set[asyncio.Task[None]] = set()

    # -- what the front end tells us ----------------------------------------------------------------

    def remember_sent(self, key: str, rendered: rendering.RenderedMessage) -> None:
        """The cog sent the first status message: an identical 'Queued' needs no edit."""
        state = self._states.setdefault(key, _MessageState())
        state.last_payload = rendered.payload_key()
        state.last_edit_at = time.monotonic()

    # -- TaskNotifier ---------------------------------------------------------------------------------

    async def task_updated(self, update: TaskUpdate) -> None:
        if update.is_final:
            await self._deliver_final(update.record)
        else:
            self._schedule_progress(update.record)

    def task_abandoned(self, key: str) -> None:
        self._states.pop(key, None)

    async def close(self) -> None:
        timers = list(self._timers)
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self._states.clear()

    # -- progress: coalesced, at most one edit per message per min_edit_interval ---------------------

    def _schedule_progress(self, record: TaskRecord) -> None:
        state = self._states.setdefault(record.key, _MessageState())
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
            wait = state.last_edit_at + self._min_edit_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            async with state.lock:
                record, state.pending = state.pending, None
                if record is None or state.finalising or state.message_gone:
                    return
                rendered = rendering.render_status(record)
                if rendered.payload_key() == state.last_payload:
                    continue
                try:
                    await self._edit_status(record, rendered, state, progress=True)
                except ChannelBusyError:
                    # Keep the newest pending update, if one arrived meanwhile, else this one.
                    state.pending = state.pending or record
                    state.last_edit_at = time.monotonic() + self._busy_retry - self._min_edit_interval
                except Exception as error:
                    # Network, store or HTTP: a lost progress edit is harmless, the next one (or the
                    # final) carries the state, and nothing here may outlive the edit and block the final.
                    log.warning("task %s: progress edit failed (%s)", key, describe_failure(error))

    # -- final: edit to the final state, then post the result; raise only for failures that may pass --

    async def _deliver_final(self, record: TaskRecord) -> None:
        state = self._states.setdefault(record.key, _MessageState())
        state.finalising = True
        await self._stop_timer(state)
        async with state.lock:
            delivery = Delivery.MESSAGE_GONE if state.message_gone else Delivery.EDITED
            if not state.status_final_shown and not state.message_gone:
                wait = state.last_edit_at + self._min_edit_interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                rendered = rendering.render_status(record)
                if rendered.payload_key() != state.last_payload:
                    delivery = await self._edit_status(record, rendered, state, progress=False)
                state.status_final_shown = True
            if not state.reply_posted:
                await self._post_result(record, delivery)
                state.reply_posted = True
        self._states.pop(record.key, None)
        log.info("task %s: result delivered (%s)", record.key, delivery.value)

    @staticmethod
    async def _stop_timer(state: _MessageState) -> None:
        """Stop the progress timer and wait until it has let go of the message. Its outcome is not
        awaited: a timer that died of an error was logged by create_task, and must not fail the final."""
        timer = state.timer
        state.timer = None
        if timer is None or timer is asyncio.current_task():
            return
        timer.cancel()
        await asyncio.wait({timer})

    # -- the two edit routes ----------------------------------------------------------------------------

    def _usable_token(self, record: TaskRecord, state: _MessageState) -> str | None:
        """The interaction token, while it can still edit the status message; else None."""
        expires = record.reply_token_expires_at
        usable = (
            record.message_id is not None
            and not state.token_dead
            and expires is not None
            and expires - TOKEN_SAFETY_MARGIN > datetime.now(UTC)
            and self._client.application_id is not None
        )
        return record.reply_token if usable else None

    async def _edit_status(
        self, record: TaskRecord, rendered: rendering.RenderedMessage, state: _MessageState, *, progress: bool
    ) -> Delivery:
        fields: dict[str, Any] = {
            "content": rendered.content,
            "embeds": list(rendered.embeds),
            "view": cancel_view(record.key) if rendered.show_cancel else None,
        }
        token = self._usable_token(record, state)
        if token is not None and record.message_id is not None:
            webhook = discord.Webhook.partial(self._client.application_id or 0, token, client=self._client)
            try:
                await webhook.edit_message(record.message_id, **fields)
            except discord.NotFound as error:
                if error.code == UNKNOWN_MESSAGE:
                    return self._message_gone(record, state)
                await self._drop_token(record, state, error)
            except discord.HTTPException as error:
                if error.status not in (401, 403) and error.code != INVALID_WEBHOOK_TOKEN:
                    raise
                await self._drop_token(record, state, error)
            else:
                self._sent(state, rendered)
                return Delivery.EDITED

        if record.message_id is None:
            return self._message_gone(record, state)
        if progress and not self._channel_budget.try_take(record.channel_id):
            raise ChannelBusyError
        message = self._client.get_partial_messageable(
            record.channel_id, guild_id=record.guild_id
        ).get_partial_message(record.message_id)
        try:
            await message.edit(**fields)
        except discord.NotFound as error:
            if error.code == UNKNOWN_CHANNEL:
                log.warning("task %s: channel %s is gone", record.key, record.channel_id)
                return Delivery.CHANNEL_UNREACHABLE
            return self._message_gone(record, state)
        except discord.Forbidden:
            log.warning("task %s: no access to channel %s", record.key, record.channel_id)
            return Delivery.CHANNEL_UNREACHABLE
        self._sent(state, rendered)
        return Delivery.EDITED

    @staticmethod
    def _sent(state: _MessageState, rendered: rendering.RenderedMessage) -> None:
        state.last_payload = rendered.payload_key()
        state.last_edit_at = time.monotonic()

    @staticmethod
    def _message_gone(record: TaskRecord, state: _MessageState) -> Delivery:
        log.info("task %s: status message %s is gone", record.key, record.message_id)
        state.message_gone = True
        return Delivery.MESSAGE_GONE

    async def _drop_token(
        self, record: TaskRecord, state: _MessageState, error: discord.HTTPException
    ) -> None:
        log.info("task %s: interaction token no longer usable (%s %s)", record.key, error.status, error.code)
        state.token_dead = True
        await self._engine.update_message(record.key, message_id=record.message_id, drop_reply_token=True)

    # -- the result post ---------------------------------------------------------------------------------

    async def _post_result(self, record: TaskRecord, delivery: Delivery) -> None:
        requester_only = discord.AllowedMentions(
            everyone=False, roles=False, users=[discord.Object(id=record.requester_id)], replied_user=False
        )
        if delivery is not Delivery.CHANNEL_UNREACHABLE:
            channel = self._client.get_partial_messageable(record.channel_id, guild_id=record.guild_id)
            if delivery is Delivery.EDITED and record.message_id is not None:
                rendered = rendering.render_result_reply(record)
                reference: discord.MessageReference | None = discord.MessageReference(
                    message_id=record.message_id, channel_id=record.channel_id, fail_if_not_exists=False
                )
            else:
                rendered = rendering.render_standalone_result(record)
                reference = None
            try:
                await channel.send(
                    content=rendered.content,
                    embeds=list(rendered.embeds),
                    reference=reference,  # type: ignore[arg-type]  # None means a plain message
                    allowed_mentions=requester_only,
                )
            except (discord.NotFound, discord.Forbidden) as error:
                log.warning(
                    "task %s: cannot post in channel %s (%s)", record.key, record.channel_id, error.code
                )
            else:
                return
        await self._post_in_dm(record, requester_only)

    async def _post_in_dm(self, record: TaskRecord, mentions: discord.AllowedMentions) -> None:
        rendered = rendering.render_dm_result(record, channel_id=record.channel_id, guild_id=record.guild_id)
        try:
            dm = await self._client.create_dm(discord.Object(id=record.requester_id))
            await dm.send(content=rendered.content, embeds=list(rendered.embeds), allowed_mentions=mentions)
        except (discord.NotFound, discord.Forbidden) as error:
            # Every route is closed (channel gone, DMs closed): nothing more can be done; keep it loud.
            log.error(
                "task %s: result could not be delivered to user %s anywhere (%s)",
                record.key,
                record.requester_id,
                error.code,
            )
        else:
            log.info("task %s: result sent to the requester's DMs", record.key)

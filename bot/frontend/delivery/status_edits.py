"""Editing a task's status message over its two routes, and deciding when it is unusable.

1. The interaction token (`/webhooks/{app}/{token}/messages/{id}`): its own rate-limit bucket, valid
   15 minutes. 401/50027, 404/10015 and 403 drop it for good (repeated 401s count against Cloudflare's
   ban limit); any other refusal moves this task's edits to the channel route.
2. The channel route (`/channels/{id}/messages/{id}`): shared by the whole channel (about 5 edits per
   5 s), so progress edits there take from a budget and wait while the channel is busy.

Any 4xx other than 429 and 401 on the channel route (a deleted message, an archived thread, lost
access) makes the status message unusable for the task: the result is then posted as a new message.
400/50035 is answered with the minimal rendering; 429, 5xx and a 401 (the bot's own token refused) are
raised for the engine to try again later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot import rendering
from bot.frontend.components import status_view
from bot.frontend.delivery.channel_budget import ChannelEditBudget
from bot.frontend.delivery.failures import (
    INVALID_WEBHOOK_TOKEN,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    bot_token_refused,
    describe_failure,
    file_refused,
    may_pass,
    minimal_if_invalid,
)
from bot.frontend.delivery.task_state import MessageState

if TYPE_CHECKING:
    from bot.engine.store.interface import TaskRecord
    from bot.engine.task_engine import TaskEngine
    from bot.frontend.delivery.downloads import DownloadedFile

log = logging.getLogger(__name__)

# Stop using a token a little before Discord does, so an edit never races its expiry.
TOKEN_SAFETY_MARGIN = timedelta(seconds=30)


class ChannelBusyError(Exception):
    """The channel's edit budget is spent; a progress edit waits for the next window."""


class StatusEditor:
    def __init__(self, client: discord.Client, engine: TaskEngine, channel_budget: ChannelEditBudget) -> None:
        self._client = client
        self._engine = engine
        self._channel_budget = channel_budget

    async def show(
        self,
        record: TaskRecord,
        rendered: rendering.RenderedMessage,
        state: MessageState,
        *,
        final: bool,
        files: Sequence[DownloadedFile] = (),
        then: str = "the result will be posted as a new message",
    ) -> bool:
        """Show `rendered` in the status message: True once shown, False when the message turned out
        unusable (`state.status_unusable`). Raises ChannelBusyError (progress only) and what may pass.

        `files` replace the message's attachments (an edit without files keeps them); Discord refusing
        a file (413) is raised, since the message itself is still usable. `then` says in the log what
        happens instead when the message is unusable."""
        if self._usable_token(record, state) is not None:
            shown = await self._show_by_token(record, rendered, state, final=final, files=files, then=then)
            if shown is not None:
                return shown
        if record.message_id is None:
            return self._unusable(record, state, "it was never shown", final=final, then=then)
        if not final and not self._channel_budget.try_take(record.channel_id):
            raise ChannelBusyError
        message = self._client.get_partial_messageable(
            record.channel_id, guild_id=record.guild_id
        ).get_partial_message(record.message_id)

        async def edit(shown: rendering.RenderedMessage) -> None:
            await message.edit(**self._fields(record, shown, files))

        try:
            await self._send(edit, record, rendered, state)
        except discord.HTTPException as error:
            if may_pass(error) or bot_token_refused(error) or (files and file_refused(error)):
                raise
            return self._unusable(
                record,
                state,
                f"the channel route refused it ({describe_failure(error)})",
                final=final,
                then=then,
            )
        return True

    def _usable_token(self, record: TaskRecord, state: MessageState) -> str | None:
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

    async def _show_by_token(
        self,
        record: TaskRecord,
        rendered: rendering.RenderedMessage,
        state: MessageState,
        *,
        final: bool,
        files: Sequence[DownloadedFile],
        then: str,
    ) -> bool | None:
        """True once shown, False when the message is gone, None when the channel route should try."""
        token = self._usable_token(record, state)
        message_id = record.message_id
        if token is None or message_id is None:
            return None
        webhook = discord.Webhook.partial(self._client.application_id or 0, token, client=self._client)

        async def edit(shown: rendering.RenderedMessage) -> None:
            await webhook.edit_message(message_id, **self._fields(record, shown, files))

        try:
            await self._send(edit, record, rendered, state)
        except discord.HTTPException as error:
            if may_pass(error) or (files and file_refused(error)):
                raise
            if error.status == 404 and error.code == UNKNOWN_MESSAGE:
                return self._unusable(record, state, "it was deleted", final=final, then=then)
            state.token_dead = True
            level = logging.ERROR if final else logging.WARNING
            log.log(
                level,
                "task %s: giving up the interaction-token route (%s); editing through the channel",
                record.key,
                describe_failure(error),
            )
            if error.status in (401, 403) or error.code in (INVALID_WEBHOOK_TOKEN, UNKNOWN_WEBHOOK):
                # The token itself is dead: forget it for good, also across restarts.
                await self._engine.update_message(
                    record.key, message_id=record.message_id, drop_reply_token=True
                )
            return None
        return True

    @staticmethod
    async def _send(
        edit: Callable[[rendering.RenderedMessage], Awaitable[None]],
        record: TaskRecord,
        rendered: rendering.RenderedMessage,
        state: MessageState,
    ) -> None:
        """Edit with `rendered`, or with the minimal rendering once Discord refused this task's full one."""

        def minimal() -> rendering.RenderedMessage:
            return rendering.minimal_status(record)

        if state.minimal_only:
            await edit(minimal())
        else:
            _, went_minimal = await minimal_if_invalid(
                edit, rendered, minimal, key=record.key, what="status edit"
            )
            state.minimal_only = went_minimal
        # What was meant to be shown: an unchanged rendering needs no edit, full or minimal.
        state.last_payload = rendered.payload_key()
        state.last_edit_at = time.monotonic()

    @staticmethod
    def _fields(
        record: TaskRecord, rendered: rendering.RenderedMessage, files: Sequence[DownloadedFile] = ()
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "content": rendered.content,
            "embeds": list(rendered.embeds),
            "view": status_view(record, rendered),
        }
        if files:
            # Fresh discord.File objects for every attempt: an upload consumes the one it sends.
            fields["attachments"] = [file.discord_file() for file in files]
        return fields

    @staticmethod
    def _unusable(record: TaskRecord, state: MessageState, why: str, *, final: bool, then: str) -> bool:
        state.status_unusable = True
        level = logging.ERROR if final else logging.WARNING
        log.log(
            level,
            "task %s: giving up the status message %s: %s; %s",
            record.key,
            record.message_id,
            why,
            then,
        )
        return False

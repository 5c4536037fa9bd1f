"""Posting a task's result: a reply under the status message, else a new message in the channel, else
a direct message to the requester. Each mentions the requester, the only user the bot ever pings.

A permanent refusal (any 4xx but 429 and 401) moves on to the next route; 400/50035 is answered with
the minimal rendering first; 429, 5xx, 401 (the bot's own token refused) and network errors are raised
for the engine to try again later.

Every post carries a nonce fixed per task and kind of post. discord.py sends `enforce_nonce` with it,
so when a post whose answer was lost (a reset connection, a stop in mid-request) is sent again, Discord
returns the earlier message instead of creating a second one, for the same author, channel and nonce
within a few minutes. A repeat later than that window can still post twice.
"""

from __future__ import annotations

import hashlib
import logging
from enum import Enum
from typing import TYPE_CHECKING

import discord

from bot import rendering
from bot.frontend.delivery.failures import (
    bot_token_refused,
    describe_failure,
    may_pass,
    minimal_if_invalid,
)

if TYPE_CHECKING:
    from bot.engine.store.interface import TaskRecord
    from bot.frontend.delivery.task_state import MessageState

log = logging.getLogger(__name__)


class Post(Enum):
    REPLY = "reply"  # under the status message
    STANDALONE = "standalone"  # a new message in the channel: the status message is unusable
    DM = "dm"  # the channel refused: the requester's DMs
    NOWHERE = "nowhere"  # every route refused


# Discord's limit on a nonce's length; task keys are snowflakes of up to 20 digits.
NONCE_LIMIT = 25
_NONCE_PREFIXES = {Post.REPLY: "r", Post.STANDALONE: "s", Post.DM: "d"}


def result_nonce(key: str, post: Post) -> str:
    """The nonce of one kind of result post of one task: the same every time it is sent."""
    prefix = _NONCE_PREFIXES[post]
    if len(prefix) + len(key) <= NONCE_LIMIT:
        return prefix + key
    return prefix + hashlib.sha256(key.encode()).hexdigest()[: NONCE_LIMIT - len(prefix)]


class ResultPoster:
    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, record: TaskRecord, state: MessageState) -> Post:
        """Post the result where it can go; raises only what may pass. A channel that refused it is
        remembered in `state`, so the engine's retries of a failed DM do not ask the channel again."""
        if not state.channel_refused:
            kind = Post.STANDALONE if state.status_unusable or record.message_id is None else Post.REPLY
            try:
                await self._post_in_channel(record, kind)
            except discord.HTTPException as error:
                if may_pass(error) or bot_token_refused(error):
                    raise
                state.channel_refused = True
                log.error(
                    "task %s: giving up channel %s for the result (%s); sending it to the requester's DMs",
                    record.key,
                    record.channel_id,
                    describe_failure(error),
                )
            else:
                return kind
        return await self._post_in_dm(record)

    async def _post_in_channel(self, record: TaskRecord, kind: Post) -> None:
        channel = self._client.get_partial_messageable(record.channel_id, guild_id=record.guild_id)
        if kind is Post.REPLY and record.message_id is not None:
            full = rendering.render_result_reply(record)
            reference: discord.MessageReference | None = discord.MessageReference(
                message_id=record.message_id, channel_id=record.channel_id, fail_if_not_exists=False
            )
        else:
            full = rendering.render_standalone_result(record)
            reference = None

        async def send(shown: rendering.RenderedMessage) -> None:
            await channel.send(
                content=shown.content,
                embeds=list(shown.embeds),
                reference=reference,  # type: ignore[arg-type]  # None means a plain message
                allowed_mentions=requester_only(record),
                nonce=result_nonce(record.key, kind),
            )

        minimal = (
            rendering.minimal_result_reply if kind is Post.REPLY else rendering.minimal_standalone_result
        )
        await minimal_if_invalid(send, full, lambda: minimal(record), key=record.key, what=kind.value)

    async def _post_in_dm(self, record: TaskRecord) -> Post:
        async def send(shown: rendering.RenderedMessage) -> None:
            dm = await self._client.create_dm(discord.Object(id=record.requester_id))
            await dm.send(
                content=shown.content,
                embeds=list(shown.embeds),
                allowed_mentions=requester_only(record),
                nonce=result_nonce(record.key, Post.DM),
            )

        try:
            await minimal_if_invalid(
                send,
                rendering.render_dm_result(record, channel_id=record.channel_id, guild_id=record.guild_id),
                lambda: rendering.minimal_dm_result(
                    record, channel_id=record.channel_id, guild_id=record.guild_id
                ),
                key=record.key,
                what="direct message",
            )
        except discord.HTTPException as error:
            if may_pass(error) or bot_token_refused(error):
                raise
            # Every route is closed (channel refused, DMs closed): nothing more can be done; keep it loud.
            log.error(
                "task %s: result could not be delivered to user %s anywhere (%s)",
                record.key,
                record.requester_id,
                describe_failure(error),
            )
            return Post.NOWHERE
        log.info("task %s: result sent to the requester's DMs", record.key)
        return Post.DM


def requester_only(record: TaskRecord) -> discord.AllowedMentions:
    """Only the requester may be pinged; the client's default (no one) covers everything else."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=record.requester_id)], replied_user=False
    )

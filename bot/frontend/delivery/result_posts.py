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
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import discord

from bot import rendering
from bot.frontend.delivery.failures import (
    bot_token_refused,
    describe_failure,
    file_refused,
    may_pass,
    minimal_if_invalid,
)

if TYPE_CHECKING:
    from bot.engine.store.interface import TaskRecord
    from bot.frontend.delivery.downloads import DownloadedFile
    from bot.frontend.delivery.task_state import MessageState

log = logging.getLogger(__name__)


class Post(Enum):
    REPLY = "reply"  # under the status message
    STANDALONE = "standalone"  # a new message in the channel: the status message is unusable
    DM = "dm"  # the channel refused: the requester's DMs
    NOWHERE = "nowhere"  # every route refused


@dataclass(frozen=True, slots=True)
class Posted:
    """Where the result went, and the id of the message that carries it (None when nowhere)."""

    kind: Post
    message_id: int | None


# Discord's limit on a nonce's length; task keys are snowflakes of up to 20 digits.
NONCE_LIMIT = 25
_NONCE_PREFIXES = {Post.REPLY: "r", Post.STANDALONE: "s", Post.DM: "d"}
FILE_POST_NONCE = "m"  # the result's file, posted on its own when the status message cannot carry it
NOTICE_NONCE = "n"  # the DM of /notify


def result_nonce(key: str, post: Post) -> str:
    """The nonce of one kind of result post of one task: the same every time it is sent."""
    return post_nonce(key, _NONCE_PREFIXES[post])


def post_nonce(key: str, prefix: str) -> str:
    """The nonce of the post of kind `prefix` of the task `key`: the same every time it is sent."""
    if len(prefix) + len(key) <= NONCE_LIMIT:
        return prefix + key
    return prefix + hashlib.sha256(key.encode()).hexdigest()[: NONCE_LIMIT - len(prefix)]


class ResultPoster:
    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, record: TaskRecord, state: MessageState) -> Posted:
        """Post the result where it can go; raises only what may pass. A channel that refused it is
        remembered in `state`, so the engine's retries of a failed DM do not ask the channel again."""
        if not state.channel_refused:
            kind = Post.STANDALONE if state.status_unusable or record.message_id is None else Post.REPLY
            try:
                message = await self._post_in_channel(record, kind)
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
                return Posted(kind, message.id)
        return await self._post_in_dm(record)

    async def _post_in_channel(self, record: TaskRecord, kind: Post) -> discord.Message:
        channel = self._client.get_partial_messageable(record.channel_id, guild_id=record.guild_id)
        if kind is Post.REPLY and record.message_id is not None:
            full = rendering.render_result_reply(record)
            reference: discord.MessageReference | None = discord.MessageReference(
                message_id=record.message_id, channel_id=record.channel_id, fail_if_not_exists=False
            )
        else:
            full = rendering.render_standalone_result(record)
            reference = None

        async def send(shown: rendering.RenderedMessage) -> discord.Message:
            return await channel.send(
                content=shown.content,
                embeds=list(shown.embeds),
                reference=reference,  # type: ignore[arg-type]  # None means a plain message
                allowed_mentions=requester_only(record),
                nonce=result_nonce(record.key, kind),
            )

        minimal = (
            rendering.minimal_result_reply if kind is Post.REPLY else rendering.minimal_standalone_result
        )
        message, _ = await minimal_if_invalid(
            send, full, lambda: minimal(record), key=record.key, what=kind.value
        )
        return message

    async def _post_in_dm(self, record: TaskRecord) -> Posted:
        async def send(shown: rendering.RenderedMessage) -> discord.Message:
            dm = await self._client.create_dm(discord.Object(id=record.requester_id))
            return await dm.send(
                content=shown.content,
                embeds=list(shown.embeds),
                allowed_mentions=requester_only(record),
                nonce=result_nonce(record.key, Post.DM),
            )

        try:
            message, _ = await minimal_if_invalid(
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
            return Posted(Post.NOWHERE, None)
        log.info("task %s: result sent to the requester's DMs", record.key)
        return Posted(Post.DM, message.id)

    async def post_file(self, record: TaskRecord, file: DownloadedFile) -> bool:
        """Post the result's file as a message of its own, for when the status message cannot carry
        it: under the result in the channel, else in the requester's DMs. No ping (the result had the
        one), and a fixed nonce, so a repeat is not a second post. True once posted; False when both
        refused it; raises what may pass and Discord's refusal of the file itself (413)."""
        shown = rendering.render_file_post(record, file.filename)
        reference = None
        if record.reply_message_id is not None:
            reference = discord.MessageReference(
                message_id=record.reply_message_id, channel_id=record.channel_id, fail_if_not_exists=False
            )
        channel = self._client.get_partial_messageable(record.channel_id, guild_id=record.guild_id)
        try:
            await channel.send(
                content=shown.content,
                embeds=list(shown.embeds),
                file=file.discord_file(),
                reference=reference,  # type: ignore[arg-type]  # None means a plain message
                nonce=post_nonce(record.key, FILE_POST_NONCE),
            )
        except discord.HTTPException as error:
            if may_pass(error) or bot_token_refused(error) or file_refused(error):
                raise
            log.warning(
                "task %s: channel %s refused the result's file (%s); sending it to the requester's DMs",
                record.key,
                record.channel_id,
                describe_failure(error),
            )
        else:
            return True
        try:
            dm = await self._client.create_dm(discord.Object(id=record.requester_id))
            await dm.send(
                content=shown.content,
                embeds=list(shown.embeds),
                file=file.discord_file(),
                nonce=post_nonce(record.key, FILE_POST_NONCE),
            )
        except discord.HTTPException as error:
            if may_pass(error) or bot_token_refused(error) or file_refused(error):
                raise
            log.warning(
                "task %s: the result's file could not be posted anywhere (%s)", record.key, error.code
            )
            return False
        return True


def requester_only(record: TaskRecord) -> discord.AllowedMentions:
    """Only the requester may be pinged; the client's default (no one) covers everything else."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=record.requester_id)], replied_user=False
    )

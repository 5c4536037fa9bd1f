"""The DM a user asked for with `/notify on`: a link to the result message when one of their jobs ends.

It is a courtesy beside the result, never part of its delivery: sent once per final (a flag kept
across the engine's retries, and a fixed Discord nonce across a restart within Discord's nonce
window), and a refusal (closed DMs, or anything else) is logged once and not tried again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot import rendering
from bot.frontend.delivery.failures import describe_failure
from bot.frontend.delivery.result_posts import NOTICE_NONCE, Post, post_nonce

if TYPE_CHECKING:
    from bot.engine.store.interface import TaskRecord
    from bot.engine.task_engine import TaskEngine
    from bot.frontend.delivery.result_posts import Posted

log = logging.getLogger(__name__)


class CompletionNotice:
    def __init__(self, client: discord.Client, engine: TaskEngine) -> None:
        self._client = client
        self._engine = engine

    async def send(self, record: TaskRecord, posted: Posted) -> None:
        """DM the requester a link to the result, if they asked for it and the result is in a channel
        (a result that went to their DMs already is its own notice). Never raises for Discord."""
        if posted.kind not in (Post.REPLY, Post.STANDALONE) or posted.message_id is None:
            return
        if not await self._engine.notify_dm(record.requester_id):
            return
        link = rendering.message_link(record.guild_id, record.channel_id, posted.message_id)
        shown = rendering.render_completion_dm(record, link)
        try:
            dm = await self._client.create_dm(discord.Object(id=record.requester_id))
            await dm.send(content=shown.content, nonce=post_nonce(record.key, NOTICE_NONCE))
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as error:
            # Closed DMs are the user's choice; whatever the reason, the result itself is delivered.
            log.info(
                "task %s: the completion DM to user %s was not sent (%s); it is not tried again",
                record.key,
                record.requester_id,
                describe_failure(error),
            )
            return
        log.info("task %s: completion DM sent to user %s", record.key, record.requester_id)

"""Discord's rules for messages in archived and locked threads, as the fake's REST routes apply them.

From https://discord.com/developers/docs/topics/threads: only active threads can be manipulated ("Users
cannot edit messages ... in archived threads"); "Sending a message will automatically unarchive the
thread, unless the thread has been locked by a moderator"; locked threads "can only be unarchived by a
user with the MANAGE_THREADS permission", and without it no one can "create or update messages in locked
threads". Codes (topics/opcodes-and-status-codes): 50083 "Tried to perform an operation on an archived
thread", 160005 "Thread is locked".

Statuses, which Discord does not document: an edit in an archived thread answers 400 / 50083; a send to
a locked archived thread 403 / 50083 (the answer reported for replies in locked threads,
discord-api-docs #7707); a send or edit in a locked active thread 403 / 160005.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fakes.discord_channels import FakeChannel
from tests.fakes.discord_http import ApiError
from tests.fakes.discord_model import MANAGE_THREADS

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

THREAD_ARCHIVED = 50083
THREAD_LOCKED = 160005


class ThreadRules:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    def _bot_manages_threads(self, thread: FakeChannel) -> bool:
        return bool(self.fake.permissions_in(self.fake.bot_user, thread) & MANAGE_THREADS)

    def before_send(self, channel: FakeChannel) -> None:
        """Refuse a new message in a locked thread the bot may not manage."""
        if channel.is_thread and channel.locked and not self._bot_manages_threads(channel):
            if channel.archived:
                raise ApiError(403, THREAD_ARCHIVED, "Thread is archived")
            raise ApiError(403, THREAD_LOCKED, "Thread is locked")

    def after_send(self, channel: FakeChannel) -> None:
        """A message went into an archived thread: it is active again (THREAD_UPDATE)."""
        if channel.is_thread and channel.archived:
            self.fake.update_thread(channel, archived=False)

    def before_edit(self, channel: FakeChannel) -> None:
        """Refuse an edit in an archived thread, or in a locked one without MANAGE_THREADS."""
        if not channel.is_thread:
            return
        if channel.archived:
            raise ApiError(400, THREAD_ARCHIVED, "Thread is archived")
        if channel.locked and not self._bot_manages_threads(channel):
            raise ApiError(403, THREAD_LOCKED, "Thread is locked")

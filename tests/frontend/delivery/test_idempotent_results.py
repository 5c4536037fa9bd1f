"""A result post whose answer never reached the bot is not posted twice when it is sent again: each post
carries a nonce fixed per task and kind, and Discord returns the earlier message for a repeated one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.engine.api.models import TaskStatus
from bot.frontend.delivery.result_posts import Post, result_nonce
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_faults import ABORTED
from tests.fakes.discord_model import FakeMessage
from tests.harness import (
    direct_messages,
    embed_text,
    replies_to,
    running_bot,
    standalone_results,
    start_job,
    wait_until_reported,
)


async def test_a_reply_interrupted_by_a_clean_stop_is_posted_once_after_the_restart(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    db = tmp_path / "bot.sqlite3"
    # A short stop timeout: the stop does not wait long for the reply that is held in flight.
    async with running_bot(discord_fake, gateway, db, engine={"stop_timeout": 0.2}):
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a quay", user="alice")
        await discord_fake.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
        hold = discord_fake.faults.hold("channel_message", method="POST")
        gateway.set_status(task.task_id, TaskStatus.SUCCEEDED)
        await discord_fake.wait_for(lambda: hold.waiting == 1, timeout=10)
        # Discord has the reply; the bot has not heard back when it is stopped.
        assert len(replies_to(discord_fake, message.id)) == 1
    hold.release()

    async with running_bot(discord_fake, gateway, db) as bot:
        await wait_until_reported(bot, str(interaction.id))

    [reply] = replies_to(discord_fake, message.id)
    assert f"https://cdn.fake.test/{task.task_id}.png" in reply.content
    assert reply.pinged_users == {interaction.user.id}
    posts = [c for c in discord_fake.calls_of("channel_message") if c.method == "POST"]
    assert len(posts) == 2  # it was sent again after the restart...
    assert posts[0].json["nonce"] == posts[1].json["nonce"]  # ...as the same post


def lose_the_reply(discord: FakeDiscord, user: str) -> None:
    channel = discord.channel("general").id
    discord.faults.abort_next("channel_message", path=f"/channels/{channel}/", after_processing=True)


def lose_the_standalone(discord: FakeDiscord, user: str) -> None:
    for kind in ("webhook", "channel_message"):
        discord.faults.fail_next(kind, 1000, status=404, code=10008, method="PATCH")
    lose_the_reply(discord, user)


def lose_the_dm(discord: FakeDiscord, user: str) -> None:
    for kind in ("webhook", "channel_message"):
        discord.faults.fail_next(kind, 1000, status=404, code=10008, method="PATCH")
    channel = discord.channel("general").id
    discord.faults.fail_next("channel_message", 1000, status=403, code=50013, path=f"/channels/{channel}/")
    dm = discord.dm_channel(discord.user(user)).id
    discord.faults.abort_next("channel_message", path=f"/channels/{dm}/", after_processing=True)


def posted_replies(discord: FakeDiscord, message: FakeMessage, _user: str) -> list[FakeMessage]:
    return replies_to(discord, message.id)


def posted_standalone(discord: FakeDiscord, message: FakeMessage, _user: str) -> list[FakeMessage]:
    return standalone_results(discord, message)


def posted_dms(discord: FakeDiscord, _message: FakeMessage, user: str) -> list[FakeMessage]:
    return direct_messages(discord, user)


@pytest.mark.parametrize(
    ("lose_the_answer", "posted"),
    [(lose_the_reply, posted_replies), (lose_the_standalone, posted_standalone), (lose_the_dm, posted_dms)],
    ids=["reply", "standalone", "dm"],
)
async def test_a_result_post_whose_answer_was_lost_is_not_posted_twice(
    discord_fake: FakeDiscord,
    gateway: FakeGateway,
    tmp_path: Path,
    lose_the_answer: Callable[[FakeDiscord, str], None],
    posted: Callable[[FakeDiscord, FakeMessage, str], list[FakeMessage]],
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a quay", user="bob")
        await discord_fake.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
        # The post takes effect but its answer is lost: the bot cannot know and sends it again later.
        lose_the_answer(discord_fake, "bob")
        gateway.set_status(task.task_id, TaskStatus.SUCCEEDED)
        await wait_until_reported(bot, str(interaction.id))

        [result] = posted(discord_fake, message, "bob")
        assert f"https://cdn.fake.test/{task.task_id}.png" in embed_text(result)
        assert ABORTED in [c.status for c in discord_fake.calls_of("channel_message")]
        if posted is not posted_dms:
            assert not direct_messages(discord_fake, "bob")
        assert bot.notifier._states == {}


def test_result_nonces_are_fixed_per_task_and_kind_and_fit_discords_limit() -> None:
    longest_snowflake = str(2**64 - 1)  # 20 digits
    nonces = {post: result_nonce(longest_snowflake, post) for post in (Post.REPLY, Post.STANDALONE, Post.DM)}
    assert len(set(nonces.values())) == 3
    assert all(len(nonce) <= 25 and longest_snowflake in nonce for nonce in nonces.values())
    assert result_nonce(longest_snowflake, Post.REPLY) == nonces[Post.REPLY]
    odd_key = "k" * 300  # not a snowflake: still within the limit, still fixed
    assert len(result_nonce(odd_key, Post.DM)) <= 25
    assert result_nonce(odd_key, Post.DM) == result_nonce(odd_key, Post.DM)
    assert result_nonce(odd_key, Post.DM) != result_nonce("k" * 301, Post.DM)

"""Which route a result takes when Discord refuses one: permanent refusals fall back (new message, DM),
invalid forms get the minimal rendering, and only rate limits and server errors are retried as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.api.models import TaskStatus
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeInteraction, FakeMessage
from tests.harness import (
    cancel_custom_ids,
    direct_messages,
    embed_text,
    replies_to,
    running_bot,
    standalone_results,
    start_job,
    wait_until_reported,
)

MANY = 1000  # "every request from now on", for a refusal that does not pass


def result_url(task_id: str) -> str:
    return f"https://cdn.fake.test/{task_id}.png"


async def processing_job(
    discord: FakeDiscord, gateway: FakeGateway, user: str = "alice"
) -> tuple[FakeInteraction, FakeMessage, str]:
    gateway.default_script = Script.never_finishes()
    interaction, message, task = await start_job(discord, gateway, "imagine", "a harbour", user=user)
    await discord.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
    return interaction, message, task.task_id


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, 50083), (403, 50013), (404, 10008)],
    ids=["thread-archived", "missing-permissions", "unknown-message"],
)
async def test_a_status_message_refused_on_both_routes_gets_the_result_as_a_new_message(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, status: int, code: int
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task_id = await processing_job(discord_fake, gateway)
        for kind in ("webhook", "channel_message"):
            discord_fake.faults.fail_next(kind, MANY, status=status, code=code, method="PATCH")
        gateway.set_status(task_id, TaskStatus.SUCCEEDED)

        [posted] = await discord_fake.wait_for(lambda: standalone_results(discord_fake, message), timeout=10)
        await wait_until_reported(bot, str(interaction.id))
        assert result_url(task_id) in embed_text(posted)
        assert posted.pinged_users == {interaction.user.id}
        assert len(standalone_results(discord_fake, message)) == 1
        assert not replies_to(discord_fake, message.id)
        assert not direct_messages(discord_fake, "alice")
        assert bot.notifier._states == {}


async def test_when_the_channel_refuses_the_new_message_too_the_result_goes_to_dms(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task_id = await processing_job(discord_fake, gateway)
        discord_fake.expire_token(interaction)
        general = discord_fake.channel("general").id
        discord_fake.faults.fail_next("channel_message", MANY, status=400, code=50083, method="PATCH")
        # The DM goes through the same route kind: refuse only this channel's sends.
        hold_dm_open = discord_fake.dm_channel(discord_fake.user("alice"))
        assert hold_dm_open.id != general
        discord_fake.faults.fail_next("channel_message", 1, status=403, code=50013, method="POST")
        gateway.set_status(task_id, TaskStatus.SUCCEEDED)

        [dm] = await discord_fake.wait_for(lambda: direct_messages(discord_fake, "alice"), timeout=10)
        await wait_until_reported(bot, str(interaction.id))
        assert result_url(task_id) in embed_text(dm)
        assert str(general) in embed_text(dm)
        assert not standalone_results(discord_fake, message)
        assert not replies_to(discord_fake, message.id)
        assert bot.notifier._states == {}


async def test_an_invalid_form_is_answered_with_the_minimal_rendering_not_the_same_payload(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task_id = await processing_job(discord_fake, gateway)
        discord_fake.faults.fail_next("webhook", 1, status=400, code=50035, method="PATCH")
        discord_fake.faults.fail_next("channel_message", 1, status=400, code=50035, method="POST")
        gateway.set_status(task_id, TaskStatus.SUCCEEDED)

        [reply] = await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        await wait_until_reported(bot, str(interaction.id))
        # The status message: after the refused edit, a plain one without embed, still with the result.
        refused, resent = [c for c in discord_fake.calls_of("webhook") if c.method == "PATCH"][-2:]
        assert refused.status == 400
        assert resent.status == 200
        assert resent.json["embeds"] == []
        assert resent.json != refused.json
        assert "Done" in message.content
        assert result_url(task_id) in message.content
        assert not message.embeds
        assert not cancel_custom_ids(message)
        # The reply: sent again in its minimal form, still pinging the requester with the result.
        refused_post, reply_post = [c for c in discord_fake.calls_of("channel_message") if c.method == "POST"]
        assert refused_post.status == 400
        assert reply_post.json["content"] != refused_post.json["content"]
        assert result_url(task_id) in reply.content
        assert reply.pinged_users == {interaction.user.id}
        assert len(replies_to(discord_fake, message.id)) == 1
        assert bot.notifier._states == {}


@pytest.mark.parametrize(
    ("kind", "status"),
    [("webhook", 429), ("channel_message", 503), ("channel_message", 429), ("channel_message", 401)],
    ids=["token-route-429", "channel-route-503", "channel-route-429", "bot-token-refused-401"],
)
async def test_rate_limits_and_server_errors_are_retried_on_the_same_route(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, kind: str, status: int
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task_id = await processing_job(discord_fake, gateway)
        if kind == "channel_message":
            discord_fake.expire_token(interaction)
        # A 429 without Via (taken for a Cloudflare ban) and a 503 are raised by discord.py at once. A 401
        # on the channel route refuses the bot's own token: every fallback would fail alike, so wait.
        discord_fake.faults.fail_next(kind, 2, status=status, code=0, method="PATCH")
        gateway.set_status(task_id, TaskStatus.SUCCEEDED)

        [reply] = await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        await wait_until_reported(bot, str(interaction.id))
        edits = [c.status for c in discord_fake.calls_of(kind) if c.method == "PATCH"]
        assert edits[-3:] == [status, status, 200]
        assert "Done" in embed_text(message)
        assert result_url(task_id) in reply.content
        assert not standalone_results(discord_fake, message)
        assert not direct_messages(discord_fake, "alice")
        assert bot.notifier._states == {}


async def test_an_unknown_webhook_moves_the_edits_to_the_channel_route(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task_id = await processing_job(discord_fake, gateway)
        discord_fake.faults.fail_next("webhook", MANY, status=404, code=10015, method="PATCH")
        gateway.set_status(task_id, TaskStatus.SUCCEEDED)

        await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        await wait_until_reported(bot, str(interaction.id))
        assert message.states[-1].route == "channel"
        assert "Done" in embed_text(message)
        assert [c.status for c in discord_fake.calls_of("webhook") if c.method == "PATCH"][-1] == 404
        assert bot.notifier._states == {}


async def test_a_channel_that_refused_the_result_is_not_asked_again_when_the_dm_is_retried(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task_id = await processing_job(discord_fake, gateway)
        general = discord_fake.channel("general").id
        dm = discord_fake.dm_channel(discord_fake.user("alice")).id
        for kind in ("webhook", "channel_message"):
            discord_fake.faults.fail_next(kind, MANY, status=404, code=10008, method="PATCH")
        discord_fake.faults.fail_next(
            "channel_message", MANY, status=403, code=50013, path=f"/channels/{general}/"
        )
        discord_fake.faults.fail_next("channel_message", 2, status=503, code=0, path=f"/channels/{dm}/")
        gateway.set_status(task_id, TaskStatus.SUCCEEDED)

        [delivered] = await discord_fake.wait_for(lambda: direct_messages(discord_fake, "alice"), timeout=10)
        await wait_until_reported(bot, str(interaction.id))
        assert result_url(task_id) in embed_text(delivered)
        sends = [c for c in discord_fake.calls_of("channel_message") if c.method == "POST"]
        in_channel = [c.status for c in sends if c.path.startswith(f"/channels/{general}/")]
        in_dm = [c.status for c in sends if c.path.startswith(f"/channels/{dm}/")]
        assert in_channel == [403]  # refused once, for good: the retries went straight to the DM
        assert in_dm == [503, 503, 200]
        assert not replies_to(discord_fake, message.id)
        assert not standalone_results(discord_fake, message)
        assert bot.notifier._states == {}

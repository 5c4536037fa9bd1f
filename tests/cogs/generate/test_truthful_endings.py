"""Issue 8 as a user sees it in Discord: every ending is visible, final and true.

The real bot (discord.py, engine, SQLite, httpx) between the fake Discord and the fake gateway.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from bot.engine.api.models import TaskStatus
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeMessage, MessageState
from tests.harness import cancel_custom_ids, embed_text, replies_to, running_bot, status_message


def state_text(state: MessageState) -> str:
    return state.content + "\n" + json.dumps(state.embeds, ensure_ascii=False)


def state_has_cancel(state: MessageState) -> bool:
    return any(
        c.get("custom_id", "").startswith("mindproxy:cancel:")
        for row in state.components
        for c in row.get("components", [])
    )


async def run_to_the_end(
    discord_fake: FakeDiscord, prompt: str, *, command: str = "imagine"
) -> tuple[FakeMessage, FakeMessage]:
    """Run a command and wait for its status message and the one reply that ends it."""
    interaction = await discord_fake.slash_command(command, {"prompt": prompt}, user="alice")
    message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
    replies = await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=20)
    return message, replies[0]


async def test_while_the_gateway_fails_the_message_says_so_keeps_cancel_and_promises_nothing_at_the_end(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.fail_next(100_000, status=503, kind="create")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", task_max_age=3.0):
        message, reply = await run_to_the_end(discord_fake, "a bridge")
        trying = [
            s for s in message.states if "Still trying to reach the generation service" in state_text(s)
        ]
        assert trying, "the status message never said the bot was still trying"
        assert all(state_has_cancel(s) for s in trying)
        final = embed_text(message)
        assert "never confirmed" in final
        assert "charged" not in final.lower() and "charged" not in reply.content.lower()
        assert not cancel_custom_ids(message)
        assert len(replies_to(discord_fake, message.id)) == 1


async def test_a_gateway_that_cannot_be_reached_at_all_ends_with_nothing_charged_and_try_again(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    async with running_bot(
        discord_fake, gateway, tmp_path / "bot.sqlite3", task_max_age=2.0, mindproxy_base_url=closed
    ):
        message, reply = await run_to_the_end(discord_fake, "a bridge")
        assert "could not be reached" in embed_text(message)
        assert "nothing was charged" in reply.content.lower()
        assert "try again" in reply.content


async def test_a_replayed_create_answered_done_still_delivers_the_image(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.script_when("fox", Script.success(after=0.0))
    gateway.slow_next(1, delay=3.0, kind="create")  # accepted, but the answer misses the time-out
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", gateway_timeout=0.5):
        message, reply = await run_to_the_end(discord_fake, "a fox")
        (task,) = gateway.tasks.values()
        image = f"https://cdn.fake.test/{task.task_id}.png"
        assert image in reply.content
        assert image in embed_text(message)
        assert len(gateway.tasks) == 1


async def test_an_unreadable_success_is_final_with_the_link_found_and_the_task_id(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.script_when("fox", Script.invalid_result(after=0.2))
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        message, reply = await run_to_the_end(discord_fake, "a fox")
        (task,) = gateway.tasks.values()
        text = embed_text(message)
        assert "Finished, but the result could not be read" in text
        assert "https://cdn.fake.test/x.png" in text
        assert task.task_id in text
        assert "could not be read" in reply.content
        assert not cancel_custom_ids(message)


async def test_a_refused_create_shows_the_gateways_own_words(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.models = {"flux-1-dev"}  # midjourney-v7 is configured in the bot, unknown to the gateway
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction = await discord_fake.slash_command(
            "imagine", {"prompt": "a ship", "model": "midjourney-v7"}, user="alice"
        )
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        text = embed_text(message)
        assert "is not available on the generation service" in text
        assert "The service said" in text and "model 'midjourney-v7' not found" in text  # its own words
        assert "model_not_found" in text


async def test_a_job_past_the_maximum_age_whose_cancel_is_confirmed_says_cancelled_and_not_charged(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", task_max_age=1.5):
        message, reply = await run_to_the_end(discord_fake, "forever", command="video")
        assert "Cancelled" in embed_text(message)
        assert "timed out waiting for a result" in embed_text(message)
        assert "nothing was charged" in reply.content.lower()


async def test_a_job_past_the_maximum_age_with_no_confirmed_end_says_the_outcome_is_unknown(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    gateway.fail_next(100_000, status=500, kind="cancel")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", task_max_age=1.5):
        message, reply = await run_to_the_end(discord_fake, "forever", command="video")
        (task,) = gateway.tasks.values()
        text = embed_text(message)
        assert "Timed out" in text
        assert "not known" in text
        assert task.task_id in text
        assert "charged" not in text.lower() and "charged" not in reply.content.lower()
        assert task.status() is not TaskStatus.CANCELLED

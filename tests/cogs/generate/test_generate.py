"""/imagine and /video from a user's click to the delivered result, through both fakes."""

from __future__ import annotations

import re
from pathlib import Path

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeAttachment
from tests.harness import (
    cancel_custom_ids,
    embed_text,
    ephemeral_texts,
    has,
    replies_to,
    running_bot,
    status_message,
)


async def test_imagine_success_shows_queued_then_image_and_pings_only_the_requester(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    alice = discord_fake.user("alice")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction = await discord_fake.slash_command(
            "imagine", {"prompt": "a lighthouse at dusk --ar 16:9"}, user=alice
        )
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        first = message.states[0]
        assert first.route == "callback"
        assert "a lighthouse at dusk --ar 16:9" in embed_text(message)
        assert "flux-1-dev" in embed_text(message)
        assert cancel_custom_ids(message) == [f"mindproxy:cancel:{interaction.id}"]

        reply = await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        result_reply = reply[0]
        task = gateway.tasks_by_key[str(interaction.id)]
        assert task.task_type.api_name == "async_image"
        assert isinstance(task.metadata, dict)
        assert task.metadata["user_id"] == str(alice.id)
        assert result_reply.pinged_users == {alice.id}
        assert not result_reply.pinged_everyone and not result_reply.pinged_roles
        assert "https://" in embed_text(result_reply)

        await discord_fake.wait_for(has(lambda: not cancel_custom_ids(message)))
        final = embed_text(message)
        assert "image_url" not in final  # rendered, not dumped
        assert any("image" in e for e in message.embeds), message.embeds
        assert not message.pinged_anyone
        assert ephemeral_texts(discord_fake, interaction.id) == []


async def test_video_from_an_image_passes_the_attachment_and_shows_a_playable_link(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction = await discord_fake.slash_command(
            "video",
            {"prompt": "the waves start moving"},
            attachments={"image": FakeAttachment("beach.png", size=200_000)},
            user="bob",
        )
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        reply = (await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10))[0]
        task = gateway.tasks_by_key[str(interaction.id)]
        assert task.task_type.api_name == "video"
        assert task.public_model == "kling-v2"
        assert isinstance(task.input_assets, dict)
        assert "beach.png" in task.input_assets["image_url"]
        video_url = f"https://cdn.fake.test/{task.task_id}.mp4"
        assert video_url in reply.content.splitlines()  # a bare URL: Discord shows its player
        await discord_fake.wait_for(has(lambda: video_url in message.content))


async def test_midjourney_model_runs_as_a_midjourney_task_with_flags_untouched(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        prompt = "koi pond, ukiyo-e --ar 16:9 --stylize 250"
        interaction = await discord_fake.slash_command(
            "imagine", {"prompt": prompt, "model": "midjourney-v7"}, user="alice"
        )
        await gateway.wait_for_tasks(1)
        task = gateway.tasks_by_key[str(interaction.id)]
        assert task.task_type.api_name == "midjourney"
        assert task.prompt == prompt


async def test_failure_shows_the_gateway_reason_and_that_nothing_was_charged(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.script_when(
        "forbidden", Script.failure(after=0.3, code="content_policy", message="Prompt refused")
    )
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction = await discord_fake.slash_command(
            "imagine", {"prompt": "something forbidden"}, user="alice"
        )
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        reply = (await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10))[0]
        for shown in (embed_text(message), embed_text(reply)):
            assert "Prompt refused" in shown
            assert "content_policy" in shown
            assert "charged" in shown.lower()
        assert not cancel_custom_ids(message)
        assert reply.pinged_users == {discord_fake.user("alice").id}


async def test_gateway_refusals_at_create_are_shown_on_the_status_message(
    discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    async with (
        FakeGateway(enabled_types={"async_image"}, models={"flux-1-dev", "kling-v2"}) as gateway,
        running_bot(
            discord_fake, gateway, tmp_path / "bot.sqlite3", imagine_models="flux-1-dev,unlisted-model"
        ),
    ):
        not_enabled = await discord_fake.slash_command("video", {"prompt": "a river"}, user="alice")
        unknown = await discord_fake.slash_command(
            "imagine", {"prompt": "a hill", "model": "unlisted-model"}, user="bob"
        )
        for interaction in (not_enabled, unknown):
            message = await discord_fake.wait_for(lambda i=interaction: status_message(discord_fake, i.id))
            await discord_fake.wait_for(lambda m=message: replies_to(discord_fake, m.id), timeout=10)
            assert not cancel_custom_ids(message)
        assert "not enabled" in embed_text(status_message(discord_fake, not_enabled.id)).lower()
        assert "is not available on the generation service" in embed_text(
            status_message(discord_fake, unknown.id)
        )
        assert gateway.tasks == {}


async def test_a_refused_api_key_is_explained_without_leaking_it(
    discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    async with (
        FakeGateway(api_key="the-right-key") as gateway,
        running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", tt_api_key="sk-wrong-secret-123"),
    ):
        interaction = await discord_fake.slash_command("imagine", {"prompt": "a fox"}, user="alice")
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10)
        shown = embed_text(message)
        assert "key" in shown.lower()
        assert "sk-wrong-secret-123" not in shown
        assert all("sk-wrong-secret-123" not in embed_text(m) for m in discord_fake.messages_by_id.values())


async def test_a_gateway_that_keeps_failing_the_create_is_retried_then_succeeds(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.fail_next(5, status=503, kind="create")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction = await discord_fake.slash_command("imagine", {"prompt": "a bridge"}, user="alice")
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=15)
        assert len(gateway.tasks) == 1
        creates = gateway.requests_of("create")
        assert len(creates) >= 6
        assert {r.json_body["idempotency_key"] for r in creates} == {str(interaction.id)}


async def test_a_gateway_that_stays_down_ends_the_job_with_a_clear_error(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.fail_next(1000, status=503, kind="create")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", task_max_age=1.5):
        interaction = await discord_fake.slash_command("imagine", {"prompt": "a bridge"}, user="alice")
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        reply = (await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=15))[0]
        # A 503 may mean the task exists: the bot says it was never confirmed, not "unreachable".
        assert "never confirmed" in embed_text(message)
        assert not re.search(r"\b503\b", reply.content)  # no raw HTTP status for the user
        assert not cancel_custom_ids(message)
        assert gateway.tasks == {}


async def test_a_job_that_never_finishes_is_given_up_after_the_maximum_age(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", task_max_age=1.5):
        interaction = await discord_fake.slash_command("video", {"prompt": "forever"}, user="bob")
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=15)
        assert "timed out" in embed_text(message).lower()
        assert gateway.tasks_by_key[str(interaction.id)].cancel_reason is not None


async def test_a_prompt_of_6000_characters_is_sent_whole_and_shown_within_discords_limits(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    prompt = ("a very long and detailed scene with **bold** words and @everyone " * 100)[:5990] + " --ar 16:9"
    assert len(prompt) == 6000
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", max_prompt_length=6000):
        interaction = await discord_fake.slash_command("imagine", {"prompt": prompt}, user="alice")
        message = await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        reply = (await discord_fake.wait_for(lambda: replies_to(discord_fake, message.id), timeout=10))[0]
        (create,) = gateway.requests_of("create")
        assert create.json_body["prompt"] == prompt  # the gateway gets it whole
        task = gateway.tasks_by_key[str(interaction.id)]
        image = f"https://cdn.fake.test/{task.task_id}.png"
        assert image in reply.content and image in embed_text(message)
        # Every write was accepted: the fake refuses anything over Discord's limits with 400/50035.
        assert [c for c in discord_fake.calls if c.status >= 400] == []
        assert len(reply.content) <= 2000

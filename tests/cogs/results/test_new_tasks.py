"""Issue 10 part 2: Reroll, Vary and Animate on a finished result make exactly one new task per click,
owned by whoever clicked, with the right inputs, through the same checks as a command."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.cogs.results.support import (
    actions,
    button,
    finished_job,
    new_status_message,
    private_answer,
    rehost,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeAttachment
from tests.harness import custom_ids, replies_to, running_bot, status_message


def served_result(gateway: FakeGateway, name: str = "result.png") -> Script:
    """A success whose image the fake gateway really serves (the default one names a host that
    does not exist)."""
    return Script.success(after=0.3, assets={"image_url": gateway.asset_url(name), "seed": 99})


async def test_a_finished_image_offers_reroll_vary_animate_delete_a_video_reroll_delete_a_failure_none(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.script_when("broken", Script.failure(after=0.2))
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        image, image_message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "a fox"}, user="alice"
        )
        assert custom_ids(image_message) == [
            f"mindproxy:{action}:{image.id}" for action in ("reroll", "vary", "animate", "delete")
        ]
        _, video_message, _ = await finished_job(
            bot, discord_fake, gateway, "video", {"prompt": "a fox running"}, user="alice"
        )
        assert actions(video_message) == ["reroll", "delete"]

        failed = await discord_fake.slash_command("imagine", {"prompt": "broken fox"}, user="alice")
        failed_message = await discord_fake.wait_for(lambda: status_message(discord_fake, failed.id))
        await discord_fake.wait_for(lambda: replies_to(discord_fake, failed_message.id), timeout=10)
        assert custom_ids(failed_message) == []


async def test_reroll_makes_one_task_for_the_clicker_with_the_same_prompt_model_reference_and_type(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = served_result(gateway)
    reference = FakeAttachment("ref.png", url=gateway.asset_url("ref.png"))
    bob = discord_fake.user("bob")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        original, message, first = await finished_job(
            bot,
            discord_fake,
            gateway,
            "imagine",
            {"prompt": "koi pond --ar 16:9 --stylize 250", "model": "midjourney-v7", "image": reference},
            user="alice",
        )
        click = await discord_fake.click_button(message, button(message, "reroll"), user=bob)
        shown = await new_status_message(discord_fake, click)
        rerolled = await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(click.id)))

        assert (rerolled.prompt, rerolled.public_model, rerolled.task_type) == (
            "koi pond --ar 16:9 --stylize 250",
            "midjourney-v7",
            first.task_type,
        )
        assert rerolled.input_assets == first.input_assets
        assert isinstance(rerolled.metadata, dict) and rerolled.metadata["user_id"] == str(bob.id)
        assert custom_ids(shown) == [f"mindproxy:cancel:{click.id}"]  # its own Cancel button
        record = await bot.engine.get(str(click.id))
        assert record is not None
        assert (record.requester_id, record.origin_key, record.origin_action) == (
            bob.id,
            str(original.id),
            "reroll",
        )
        assert record.upload_limit == 10 * 1024 * 1024  # the click's own limit, kept for delivery

        # The new task runs its own course: its result pings the one who clicked.
        reply = (await discord_fake.wait_for(lambda: replies_to(discord_fake, shown.id), timeout=10))[0]
        assert reply.pinged_users == {bob.id}
        assert len(gateway.requests_of("create")) == 2
        # The reference was checked through a client that carries no credentials.
        checks = [r for r in gateway.asset_requests if r.path.endswith("/ref.png")]
        assert checks and all("authorization" not in {k.lower() for k in r.headers} for r in checks)


async def test_vary_uses_the_attachment_link_the_clicked_message_carries_now(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = served_result(gateway)
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        original, message, _ = await finished_job(
            bot,
            discord_fake,
            gateway,
            "imagine",
            {"prompt": "a red fox", "model": "flux-1-dev"},
            user="alice",
        )
        await rehost(bot, discord_fake, message, str(original.id))
        discord_fake.cdn.expire_links()  # links handed out before the click no longer work

        click = await discord_fake.click_button(message, button(message, "vary"), user="carol")
        await new_status_message(discord_fake, click)
        varied = await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(click.id)))
        fresh_link = click.payload["message"]["attachments"][0]["url"]
        assert isinstance(varied.input_assets, dict)
        assert varied.input_assets["image_url"] == fresh_link
        assert (varied.prompt, varied.public_model) == ("a red fox", "flux-1-dev")
        [check] = discord_fake.cdn.requests
        assert check.status < 400
        assert "authorization" not in {k.lower() for k in check.headers}
        record = await bot.engine.get(str(click.id))
        assert record is not None and (record.origin_key, record.origin_action) == (str(original.id), "vary")


async def test_vary_without_a_file_on_the_message_uses_the_gateways_link(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = served_result(gateway, "fox-7.png")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        _, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "fox"}, user="alice"
        )
        click = await discord_fake.click_button(message, button(message, "vary"), user="alice")
        varied = await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(click.id)))
        assert isinstance(varied.input_assets, dict)
        assert varied.input_assets["image_url"] == gateway.asset_url("fox-7.png")
        assert all(
            "authorization" not in {k.lower() for k in r.headers} and gateway.api_key not in str(r.headers)
            for r in gateway.asset_requests
        )


async def test_animate_makes_a_video_of_the_result_image_with_the_same_prompt(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = served_result(gateway, "still.png")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        original, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "a lighthouse at dusk"}, user="alice"
        )
        click = await discord_fake.click_button(message, button(message, "animate"), user="bob")
        shown = await new_status_message(discord_fake, click)
        video = await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(click.id)))
        assert video.task_type.api_name == "video"
        assert video.public_model == "kling-v2"  # the first video model
        assert video.prompt == "a lighthouse at dusk"
        assert isinstance(video.input_assets, dict)
        assert video.input_assets["image_url"] == gateway.asset_url("still.png")
        assert "Video" in str(shown.embeds)
        record = await bot.engine.get(str(click.id))
        assert record is not None and record.origin_action == "animate"
        assert record.origin_key == str(original.id)


async def test_a_reference_image_that_is_gone_is_answered_privately_and_makes_no_task(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = served_result(gateway, "gone.jpg")  # the fake serves no .jpg: a 404
    expired = FakeAttachment("ref.png", url=gateway.asset_url("expired.jpg"))
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        _, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "fox", "image": expired}, user="alice"
        )
        for action in ("reroll", "vary", "animate"):
            click = await discord_fake.click_button(message, button(message, action), user="alice")
            answer = await private_answer(discord_fake, click)
            assert "no longer available" in answer and "404" in answer, answer
            assert (
                status_message(discord_fake, click.id) is None
                or status_message(discord_fake, click.id).ephemeral
            )
        # A link that now serves something else than an image (here a video) is no reference either.
        not_an_image = FakeAttachment("ref.png", url=gateway.asset_url("clip.mp4"))
        _, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "owl", "image": not_an_image}, user="alice"
        )
        click = await discord_fake.click_button(message, button(message, "reroll"), user="alice")
        assert "no longer an image" in await private_answer(discord_fake, click)
        assert len(gateway.requests_of("create")) == 2


async def test_the_clickers_own_limit_applies_and_a_click_delivered_twice_makes_one_task(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    gateway.default_script = served_result(gateway)
    gateway.script_when("forever", Script.never_finishes())
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", max_active_per_user=1) as bot:
        _, message, _ = await finished_job(
            bot, discord_fake, gateway, "imagine", {"prompt": "fox"}, user="alice"
        )
        await discord_fake.slash_command("imagine", {"prompt": "bob runs forever"}, user="bob")
        await gateway.wait_for_tasks(2)

        refused = await discord_fake.click_button(message, button(message, "reroll"), user="bob")
        assert "limit is 1" in await private_answer(discord_fake, refused)
        assert str(refused.id) not in gateway.tasks_by_key

        click = await discord_fake.click_button(message, button(message, "reroll"), user="alice")
        await new_status_message(discord_fake, click)
        await discord_fake.gateway.dispatch(
            "INTERACTION_CREATE", click.payload, guild_id=click.channel.guild_id
        )
        await discord_fake.wait_for(lambda: f"task {click.id}: interaction delivered twice" in caplog.text)
        await discord_fake.wait_for(lambda: str(click.id) in gateway.tasks_by_key)
        creates = [r for r in gateway.requests_of("create") if str(click.id) in str(r.json_body)]
        assert len(creates) == 1
        assert len([m for m in discord_fake.messages_by_id.values() if m.interaction_id == click.id]) == 1

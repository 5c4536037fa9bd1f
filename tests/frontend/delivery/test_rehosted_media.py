"""The result stays visible: once a task succeeds its file is downloaded (without credentials) and the
status message is edited to carry it, shown inline through `attachment://`; the reply links to it.
When the file cannot be attached, the link stays with a note why. The final never waits for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.engine.api.models import TaskStatus
from bot.testing.fake_gateway.assets import placeholder_mp4, placeholder_png
from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeMessage
from tests.harness import (
    embed_text,
    replies_to,
    running_bot,
    standalone_results,
    start_job,
    wait_until_reported,
)

pytestmark = pytest.mark.timeout(30)


def succeeds_with(gateway: FakeGateway, **assets: Any) -> None:
    gateway.default_script = Script.success(after=0.3, assets={"seed": 42, **assets})


def jump_link(discord: FakeDiscord, message: FakeMessage) -> str:
    return f"https://discord.com/channels/{discord.guild_id}/{message.channel_id}/{message.id}"


def file_shown(message: FakeMessage) -> bool:
    return bool(message.files)


def assert_no_credential_reached_the_file_host(gateway: FakeGateway) -> None:
    assert gateway.asset_requests, "the file was never downloaded"
    for request in gateway.asset_requests:
        assert "authorization" not in {name.lower() for name in request.headers}
        assert gateway.api_key is not None
        assert all(gateway.api_key not in value for value in request.headers.values())


async def test_an_image_is_attached_to_the_status_message_and_the_reply_links_to_it(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    image_url = gateway.asset_url("lighthouse.png")
    succeeds_with(gateway, image_url=image_url)
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a quay", user="alice")
        await wait_until_reported(bot, str(interaction.id))
        await discord_fake.wait_for(lambda: file_shown(message), timeout=10)

        shown = message.embed_image_file()
        assert shown is not None, message.embeds
        assert (shown.filename, shown.content_type, shown.data) == (
            f"{task.task_id}.png",
            "image/png",
            placeholder_png(),
        )
        assert message.embeds[0]["image"]["url"] == f"attachment://{task.task_id}.png"
        assert "Done" in embed_text(message)
        # status_view: no Cancel on a finished task; its result buttons instead.
        labels = [c.get("label") for row in message.components for c in row.get("components", [])]
        assert "Cancel" not in labels and "Reroll" in labels
        [reply] = replies_to(discord_fake, message.id)
        assert jump_link(discord_fake, message) in reply.content
        assert reply.pinged_users == {interaction.user.id}
        record = await bot.engine.get(str(interaction.id))
        assert record is not None
        assert (record.media_state, record.media_filename) == ("attached", f"{task.task_id}.png")
        assert record.result is not None and record.result.image_url == image_url  # the gateway's URL is kept
        assert record.reply_message_id == reply.id
    assert_no_credential_reached_the_file_host(gateway)
    assert len(discord_fake.messages_in(discord_fake.channel("general"))) == 2  # status and reply


async def test_a_video_is_attached_so_discord_plays_it_with_the_thumbnail_in_the_embed(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    video_url, thumbnail_url = gateway.asset_url("clip.mp4"), gateway.asset_url("thumb.png")
    succeeds_with(gateway, video_url=video_url, thumbnail_url=thumbnail_url)
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task = await start_job(discord_fake, gateway, "video", "waves", user="bob")
        await wait_until_reported(bot, str(interaction.id))
        await discord_fake.wait_for(lambda: file_shown(message), timeout=10)

        [video] = message.files
        assert (video.filename, video.content_type, video.data) == (
            f"{task.task_id}.mp4",
            "video/mp4",
            placeholder_mp4(),
        )
        assert video_url not in message.content  # the file plays; no second player from the link
        assert message.embeds[0]["image"]["url"] == thumbnail_url
        [reply] = replies_to(discord_fake, message.id)
        assert jump_link(discord_fake, message) in reply.content
    assert_no_credential_reached_the_file_host(gateway)


def too_large(gateway: FakeGateway, discord: FakeDiscord) -> tuple[str, str]:
    discord.upload_limit = 100_000  # the interaction's attachment_size_limit: this server's limit
    return gateway.asset_url("big.png", size=100_001), "larger than this server's 98 KB upload limit"


def missing(gateway: FakeGateway, discord: FakeDiscord) -> tuple[str, str]:
    return gateway.asset_url("gone.png", status=404), "could not be downloaded (`HTTP 404`)"


def not_media(gateway: FakeGateway, discord: FakeDiscord) -> tuple[str, str]:
    return gateway.asset_url("page.png", content_type="text/html"), "`text/html`, not an image or a video"


def too_slow(gateway: FakeGateway, discord: FakeDiscord) -> tuple[str, str]:
    return gateway.asset_url("slow.png", delay=10), "took longer than 0.5 s"


@pytest.mark.parametrize("problem", [too_large, missing, not_media, too_slow])
async def test_a_file_that_cannot_be_attached_stays_a_link_with_a_note_why(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, problem: Any
) -> None:
    image_url, why = problem(gateway, discord_fake)
    succeeds_with(gateway, image_url=image_url)
    async with running_bot(
        discord_fake, gateway, tmp_path / "bot.sqlite3", result_download_timeout=0.5
    ) as bot:
        interaction, message, _ = await start_job(discord_fake, gateway, "imagine", "a quay", user="alice")
        await wait_until_reported(bot, str(interaction.id))
        await discord_fake.wait_for(lambda: "Not attached" in embed_text(message), timeout=10)

        assert why in embed_text(message)
        assert message.embeds[0]["image"]["url"] == image_url
        assert message.files == []
        record = await bot.engine.get(str(interaction.id))
        assert record is not None and record.media_state == "skipped"
        assert record.upload_limit == discord_fake.upload_limit
        [reply] = replies_to(discord_fake, message.id)
        assert image_url in reply.content
    assert_no_credential_reached_the_file_host(gateway)


async def test_the_final_status_and_the_reply_do_not_wait_for_the_download(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    succeeds_with(gateway, image_url=gateway.asset_url("held.png"))
    hold = gateway.hold("asset")
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, _ = await start_job(discord_fake, gateway, "imagine", "a quay", user="alice")
        await wait_until_reported(bot, str(interaction.id))
        await hold.wait_held(1)
        assert "Done" in embed_text(message)
        assert len(replies_to(discord_fake, message.id)) == 1
        assert message.files == []
        hold.release()
        await discord_fake.wait_for(lambda: file_shown(message), timeout=10)
        assert len(replies_to(discord_fake, message.id)) == 1


async def test_when_the_status_message_is_gone_the_file_is_posted_once_as_its_own_message(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a quay", user="alice")
        await discord_fake.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
        discord_fake.delete_message(message.id)
        gateway.set_status(
            task.task_id, TaskStatus.SUCCEEDED, assets={"image_url": gateway.asset_url("orphan.png")}
        )
        await wait_until_reported(bot, str(interaction.id))
        [result] = standalone_results(discord_fake, message)
        await discord_fake.wait_for(lambda: replies_to(discord_fake, result.id), timeout=10)
        [file_post] = replies_to(discord_fake, result.id)
        shown = file_post.embed_image_file()
        assert shown is not None and shown.data == placeholder_png()
        assert task.task_id in file_post.content
        assert not file_post.pinged_anyone
        assert result.pinged_users == {interaction.user.id}
        record = await bot.engine.get(str(interaction.id))
        assert record is not None and record.reply_message_id == result.id
        assert record.media_state == "attached"


async def test_a_file_discord_refuses_stays_a_link_with_a_note(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    succeeds_with(gateway, image_url=gateway.asset_url("refused.png"))
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, _ = await start_job(discord_fake, gateway, "imagine", "a quay", user="alice")
        discord_fake.upload_limit = 10  # the server lost its boost after the command: Discord says 413
        await wait_until_reported(bot, str(interaction.id))
        await discord_fake.wait_for(lambda: "Not attached" in embed_text(message), timeout=10)
        assert "Discord did not accept the file" in embed_text(message)
        assert message.files == []
        assert len(discord_fake.messages_in(discord_fake.channel("general"))) == 2


async def test_a_download_cut_by_a_restart_is_resumed_and_nothing_is_posted_twice(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    succeeds_with(gateway, image_url=gateway.asset_url("resumed.png"))
    hold = gateway.hold("asset")
    async with running_bot(discord_fake, gateway, db) as bot:
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a quay", user="alice")
        await wait_until_reported(bot, str(interaction.id))
        await hold.wait_held(1)
        record = await bot.engine.get(str(interaction.id))
        assert record is not None and record.media_state == "pending"
    hold.release()
    assert message.files == []

    async with running_bot(discord_fake, gateway, db) as bot:
        await discord_fake.wait_for(lambda: file_shown(message), timeout=10)
        record = await bot.engine.get(str(interaction.id))
        assert record is not None and record.media_state == "attached"
    edits_with_the_file = [state for state in message.states if state.files]
    async with running_bot(discord_fake, gateway, db):
        pass  # a third start finds nothing pending
    assert [state for state in message.states if state.files] == edits_with_the_file
    assert len(replies_to(discord_fake, message.id)) == 1
    shown = message.embed_image_file()
    assert shown is not None and shown.filename == f"{task.task_id}.png"


async def test_a_result_sent_by_dm_has_its_message_id_recorded_and_its_file_follows_there(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3") as bot:
        interaction, message, task = await start_job(discord_fake, gateway, "imagine", "a quay", user="carol")
        await discord_fake.wait_for(lambda: "Processing" in embed_text(message), timeout=10)
        discord_fake.delete_message(message.id)
        discord_fake.channel("general").forbidden = True  # the bot lost access: results go to DMs
        gateway.set_status(
            task.task_id, TaskStatus.SUCCEEDED, assets={"image_url": gateway.asset_url("dm.png")}
        )
        await wait_until_reported(bot, str(interaction.id))
        dm_channel = discord_fake.dm_channel(discord_fake.user("carol"))
        await discord_fake.wait_for(lambda: len(discord_fake.messages_in(dm_channel)) == 2, timeout=10)
        result, file_post = discord_fake.messages_in(dm_channel)
        record = await bot.engine.get(str(interaction.id))
        assert record is not None and record.reply_message_id == result.id
        assert task.task_id in result.content
        assert [f.data for f in file_post.files] == [placeholder_png()]

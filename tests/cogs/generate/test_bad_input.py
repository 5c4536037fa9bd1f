"""What a user can get wrong is answered privately, and no task is created."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeAttachment
from tests.harness import ephemeral_texts, running_bot, status_message


@pytest.mark.parametrize(
    ("command", "options", "attachments", "expected"),
    [
        ("imagine", {"prompt": "   \n\t "}, None, "empty"),
        ("imagine", {"prompt": "x" * 4001}, None, "4,000"),
        ("imagine", {"prompt": "a cat", "model": "no-such-model"}, None, "no-such-model"),
        (
            "video",
            {"prompt": "a cat"},
            {"image": FakeAttachment("notes.pdf", content_type="application/pdf")},
            "image",
        ),
        (
            "imagine",
            {"prompt": "a cat"},
            {"image": FakeAttachment("huge.png", size=50 * 1024 * 1024)},
            "at most 10 mb",
        ),
    ],
    ids=["blank", "too-long", "unknown-model", "not-an-image", "too-large"],
)
async def test_bad_input_gets_a_clear_private_answer_and_no_task(
    discord_fake: FakeDiscord,
    gateway: FakeGateway,
    tmp_path: Path,
    command: str,
    options: dict[str, str],
    attachments: dict[str, FakeAttachment] | None,
    expected: str,
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction = await discord_fake.slash_command(
            command, options, attachments=attachments, user="alice"
        )
        texts = await discord_fake.wait_for(lambda: ephemeral_texts(discord_fake, interaction.id))
        assert expected in texts[0].lower()
        assert (
            status_message(discord_fake, interaction.id) is None
            or status_message(discord_fake, interaction.id).ephemeral
        )
        assert gateway.requests_of("create") == []
        assert no_public_messages(discord_fake)


def no_public_messages(discord_fake: FakeDiscord) -> bool:
    return all(m.ephemeral for m in discord_fake.messages_by_id.values())


async def test_the_per_user_limit_on_unfinished_tasks(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", max_active_per_user=2):
        for n in range(2):
            accepted = await discord_fake.slash_command("imagine", {"prompt": f"task {n}"}, user="alice")
            await discord_fake.wait_for(lambda i=accepted: status_message(discord_fake, i.id))
        refused = await discord_fake.slash_command("imagine", {"prompt": "one too many"}, user="alice")
        texts = await discord_fake.wait_for(lambda: ephemeral_texts(discord_fake, refused.id))
        assert "2" in texts[0] and "/cancel" in texts[0]
        others = await discord_fake.slash_command("imagine", {"prompt": "bob is fine"}, user="bob")
        await discord_fake.wait_for(lambda: status_message(discord_fake, others.id))
        await gateway.wait_for_tasks(3)
        assert len(gateway.tasks) == 3


async def test_two_quick_commands_cannot_both_pass_the_limit(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.never_finishes()
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3", max_active_per_user=1):
        first, second = await asyncio.gather(
            discord_fake.slash_command("imagine", {"prompt": "one"}, user="alice"),
            discord_fake.slash_command("imagine", {"prompt": "two"}, user="alice"),
        )

        def answered(interaction_id: int) -> bool:
            return bool(
                status_message(discord_fake, interaction_id) or ephemeral_texts(discord_fake, interaction_id)
            )

        await discord_fake.wait_for(lambda: answered(first.id) and answered(second.id))
        refused = [i for i in (first, second) if ephemeral_texts(discord_fake, i.id)]
        assert len(refused) == 1
        await gateway.wait_for_tasks(1)
        assert len(gateway.tasks) == 1


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("logo.svg", "image/svg+xml"),
        ("scan.tiff", "image/tiff"),
        ("photo.heic", "image/heic"),
        ("doc.pdf", "application/pdf"),
        ("renamed.svg", "image/png"),  # the type says PNG, the name says otherwise: refused
        ("no-extension", "image/png"),
    ],
)
async def test_only_png_jpeg_webp_and_gif_are_accepted_with_type_and_extension_agreeing(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, filename: str, content_type: str
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction = await discord_fake.slash_command(
            "imagine",
            {"prompt": "a cat"},
            attachments={"image": FakeAttachment(filename, content_type=content_type)},
            user="alice",
        )
        texts = await discord_fake.wait_for(lambda: ephemeral_texts(discord_fake, interaction.id))
        assert "PNG, JPEG, WebP or GIF" in texts[0]
        assert gateway.requests_of("create") == []
        assert no_public_messages(discord_fake)


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("a.png", "image/png"),
        ("b.JPG", "image/jpeg"),
        ("c.jpeg", "image/jpeg"),
        ("d.webp", "image/webp"),
        ("e.gif", "image/gif"),
    ],
)
async def test_each_advertised_image_format_is_accepted(
    discord_fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path, filename: str, content_type: str
) -> None:
    async with running_bot(discord_fake, gateway, tmp_path / "bot.sqlite3"):
        interaction = await discord_fake.slash_command(
            "imagine",
            {"prompt": "a cat"},
            attachments={"image": FakeAttachment(filename, content_type=content_type)},
            user="alice",
        )
        await discord_fake.wait_for(lambda: status_message(discord_fake, interaction.id))
        (create,) = await gateway.wait_for_request("create")
        assert create.json_body["input_assets_json"]["filename"] == filename

"""Files sent to the fake Discord: their bytes and types are kept per attachment, an edit keeps or
replaces them as Discord does, embeds show them through `attachment://`, and the upload limit holds."""

from __future__ import annotations

import io

import discord
import pytest

from tests.fakes.client_helpers import received, recorded_interactions
from tests.fakes.discord import FakeDiscord

pytestmark = pytest.mark.timeout(20)

PNG = b"\x89PNG\r\n\x1a\n" + b"picture"
MP4 = b"\x00\x00\x00\x18ftypisom" + b"moving"


def png(name: str = "out.png") -> discord.File:
    return discord.File(io.BytesIO(PNG), filename=name)


async def test_a_sent_file_keeps_its_name_type_and_bytes(fake: FakeDiscord, client: discord.Client) -> None:
    channel = client.get_partial_messageable(fake.channel("general").id)
    sent = await channel.send("here", file=png())
    [stored] = fake.message(sent.id).files
    assert (stored.filename, stored.content_type, stored.data) == ("out.png", "image/png", PNG)
    assert fake.message(sent.id).attachments == ["out.png"]
    [call] = fake.calls_of("channel_message")
    assert call.files == ["out.png"]
    assert [upload.data for upload in call.uploads] == [PNG]
    # discord.py reads what Discord answers: the attachment's size and a CDN URL.
    [attachment] = sent.attachments
    described = (attachment.filename, attachment.size, attachment.content_type)
    assert described == ("out.png", len(PNG), "image/png")
    # The link the message carries is the fake CDN's, and it serves the very bytes uploaded.
    assert attachment.url.startswith(f"http://127.0.0.1:{fake.port}/cdn/attachments/")
    assert await attachment.read() == PNG


async def test_an_embed_shows_a_file_of_its_own_message_through_attachment_urls(
    fake: FakeDiscord, client: discord.Client
) -> None:
    channel = client.get_partial_messageable(fake.channel("general").id)
    embed = discord.Embed(title="done").set_image(url="attachment://out.png")
    sent = await channel.send(embed=embed, file=png())
    message = fake.message(sent.id)
    shown = message.embed_image_file()
    assert shown is not None and shown.data == PNG
    plain = await channel.send(embed=discord.Embed(title="x").set_image(url="https://example.test/a.png"))
    assert fake.message(plain.id).embed_image_file() is None


async def test_an_edit_with_a_file_replaces_the_attachments_and_one_without_keeps_them(
    fake: FakeDiscord, client: discord.Client
) -> None:
    channel = client.get_partial_messageable(fake.channel("general").id)
    sent = await channel.send("first", file=png("first.png"))
    message = channel.get_partial_message(sent.id)
    await message.edit(content="video", attachments=[discord.File(io.BytesIO(MP4), filename="clip.mp4")])
    assert [(f.filename, f.content_type, f.data) for f in fake.message(sent.id).files] == [
        ("clip.mp4", "video/mp4", MP4)
    ]
    await message.edit(content="only the text changes")
    assert fake.message(sent.id).attachments == ["clip.mp4"]
    edited = await message.edit(content="cleared", attachments=[])
    assert fake.message(sent.id).attachments == [] and edited.attachments == []


async def test_an_edit_can_keep_an_attachment_by_its_id_beside_a_new_file(
    fake: FakeDiscord, client: discord.Client
) -> None:
    channel = client.get_partial_messageable(fake.channel("general").id)
    sent = await channel.send("first", file=png("keep.png"))
    edited = await channel.get_partial_message(sent.id).edit(
        attachments=[sent.attachments[0], discord.File(io.BytesIO(MP4), filename="clip.mp4")]
    )
    assert [a.filename for a in edited.attachments] == ["keep.png", "clip.mp4"]
    assert [f.data for f in fake.message(sent.id).files] == [PNG, MP4]
    assert edited.attachments[0].id == sent.attachments[0].id


async def test_a_file_over_the_upload_limit_is_refused_and_interactions_carry_the_limit(
    fake: FakeDiscord, client: discord.Client
) -> None:
    fake.upload_limit = 100
    channel = client.get_partial_messageable(fake.channel("general").id)
    with pytest.raises(discord.HTTPException) as raised:
        await channel.send(file=discord.File(io.BytesIO(bytes(101)), filename="big.png"))
    assert (raised.value.status, raised.value.code) == (413, 40005)
    assert fake.messages_in(fake.channel("general")) == []
    await channel.send(file=discord.File(io.BytesIO(bytes(100)), filename="fits.png"))

    seen = recorded_interactions(client)
    interaction = await fake.slash_command("anything", user="alice")
    assert (await received(fake, seen, interaction)).filesize_limit == 100

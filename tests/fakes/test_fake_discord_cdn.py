"""The fake Discord's CDN: attachment links signed afresh on every read, serving the file while its
message exists, dead once expired or deleted."""

from __future__ import annotations

import io

import discord
import httpx
import pytest

from tests.fakes.discord import FakeDiscord

pytestmark = pytest.mark.timeout(20)


async def test_a_sent_file_is_served_at_the_link_the_message_carries_signed_afresh_on_each_read(
    fake: FakeDiscord, client: discord.Client
) -> None:
    channel = client.get_partial_messageable(fake.channel("general").id)
    sent = await channel.send("result", file=discord.File(io.BytesIO(b"x"), filename="result.png"))
    fetched = await channel.fetch_message(sent.id)
    first, again = sent.attachments[0].url, fetched.attachments[0].url
    assert first != again  # a new signature each time Discord hands the message out
    assert first.startswith(f"http://127.0.0.1:{fake.port}/cdn/attachments/")
    async with httpx.AsyncClient() as http:
        answer = await http.get(again)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/png"
        assert answer.content == b"x"  # the very bytes uploaded
        assert (await http.get(again.replace("result.png", "other.png"))).status_code == 404


async def test_expired_links_and_deleted_messages_serve_nothing(
    fake: FakeDiscord, client: discord.Client
) -> None:
    channel = client.get_partial_messageable(fake.channel("general").id)
    sent = await channel.send("result", file=discord.File(io.BytesIO(b"x"), filename="result.png"))
    old = sent.attachments[0].url
    fake.cdn.expire_links()
    fresh = (await channel.fetch_message(sent.id)).attachments[0].url
    async with httpx.AsyncClient() as http:
        assert (await http.get(old)).status_code == 404
        assert (await http.get(fresh)).status_code == 200
        fake.delete_message(sent.id)
        assert (await http.get(fresh)).status_code == 404
    assert [r.status for r in fake.cdn.requests] == [404, 200, 404]

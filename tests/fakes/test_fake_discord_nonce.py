"""The fake Discord's `enforce_nonce`: a repeated send returns the earlier message instead of a second one."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeDiscord

pytestmark = pytest.mark.timeout(20)


async def test_the_same_nonce_in_the_same_channel_returns_the_earlier_message(
    fake: FakeDiscord, client: discord.Client
) -> None:
    channel = client.get_partial_messageable(fake.channel("general").id)
    first = await channel.send("result", nonce="r1312345678901234567")
    again = await channel.send("result, sent again after a restart", nonce="r1312345678901234567")
    assert again.id == first.id
    [stored] = fake.messages_in(fake.channel("general"))
    assert stored.content == "result"
    assert stored.nonce == "r1312345678901234567"
    # discord.py asks for the check whenever a nonce is given.
    assert all(call.json["enforce_nonce"] is True for call in fake.calls_of("channel_message"))
    assert [call.status for call in fake.calls_of("channel_message")] == [200, 200]


async def test_another_nonce_or_another_channel_makes_a_new_message(
    fake: FakeDiscord, client: discord.Client
) -> None:
    general = client.get_partial_messageable(fake.channel("general").id)
    imagine = client.get_partial_messageable(fake.channel("imagine").id)
    first = await general.send("a", nonce="r1")
    other_nonce = await general.send("b", nonce="s1")
    other_channel = await imagine.send("c", nonce="r1")
    assert len({first.id, other_nonce.id, other_channel.id}) == 3


async def test_past_the_window_the_same_nonce_makes_a_second_message(
    fake: FakeDiscord, client: discord.Client
) -> None:
    fake.nonce_window = 0.0
    channel = client.get_partial_messageable(fake.channel("general").id)
    first = await channel.send("result", nonce="r1")
    again = await channel.send("result", nonce="r1")
    assert again.id != first.id
    assert len(fake.messages_in(fake.channel("general"))) == 2


async def test_a_nonce_without_enforce_nonce_is_not_checked(fake: FakeDiscord) -> None:
    url = f"{fake.rest_base}/channels/{fake.channel('general').id}/messages"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake.token}"}) as session:
        for _ in range(2):
            async with session.post(url, json={"content": "x", "nonce": "r1"}) as response:
                assert response.status == 200
    assert len(fake.messages_in(fake.channel("general"))) == 2


async def test_a_nonce_longer_than_25_characters_is_an_invalid_form(
    fake: FakeDiscord, client: discord.Client
) -> None:
    channel = client.get_partial_messageable(fake.channel("general").id)
    with pytest.raises(discord.HTTPException) as raised:
        await channel.send("x", nonce="n" * 26)
    assert (raised.value.status, raised.value.code) == (400, 50035)
    await channel.send("x", nonce="n" * 25)

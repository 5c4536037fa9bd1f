"""The fake Discord's injected failures against the real discord.py client: errors, resets, held answers."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_faults import ABORTED

pytestmark = pytest.mark.timeout(20)


async def _sent(fake: FakeDiscord, client: discord.Client, content: str) -> discord.Message:
    return await client.get_partial_messageable(fake.channel("general").id).send(content)


async def test_fail_next_answers_the_given_status_and_code_then_lets_requests_through(
    fake: FakeDiscord, client: discord.Client
) -> None:
    message = await _sent(fake, client, "first")
    fake.faults.fail_next(
        "channel_message", 2, status=400, code=50083, message="Thread is archived", method="PATCH"
    )
    for _ in range(2):
        with pytest.raises(discord.HTTPException) as raised:
            await message.edit(content="edited")
        error = raised.value
        assert (error.status, error.code, error.text) == (400, 50083, "Thread is archived")
    await _sent(fake, client, "a send is not an edit: it goes through")
    await message.edit(content="edited at last")
    assert fake.message(message.id).content == "edited at last"
    statuses = [(c.method, c.status) for c in fake.calls_of("channel_message")]
    assert statuses == [("POST", 200), ("PATCH", 400), ("PATCH", 400), ("POST", 200), ("PATCH", 200)]


async def test_fail_next_turns_403_and_404_into_discord_py_exceptions(
    fake: FakeDiscord, client: discord.Client
) -> None:
    message = await _sent(fake, client, "first")
    fake.faults.fail_next("channel_message", status=403, code=50013, method="PATCH")
    fake.faults.fail_next("channel_message", status=404, code=10008, method="PATCH")
    with pytest.raises(discord.Forbidden):
        await message.edit(content="x")
    with pytest.raises(discord.NotFound):
        await message.edit(content="x")
    assert fake.message(message.id).content == "first"


async def test_abort_next_resets_the_connection_without_an_answer(
    fake: FakeDiscord, client: discord.Client
) -> None:
    message = await _sent(fake, client, "first")
    fake.faults.abort_next("channel_message", method="PATCH")
    with pytest.raises(aiohttp.ClientError) as raised:
        await message.edit(content="lost")
    assert isinstance(raised.value, OSError)  # ClientOSError: connection reset by peer
    assert fake.message(message.id).content == "first"  # the request never took effect
    assert fake.calls_of("channel_message")[-1].status == ABORTED
    await message.edit(content="the next one goes through")
    assert fake.message(message.id).content == "the next one goes through"


async def test_abort_after_processing_loses_only_the_answer(
    fake: FakeDiscord, client: discord.Client
) -> None:
    fake.faults.abort_next("channel_message", method="POST", after_processing=True)
    with pytest.raises(aiohttp.ClientError):
        await _sent(fake, client, "created, but the bot never hears of it")
    [created] = fake.messages_in(fake.channel("general"))
    assert created.content == "created, but the bot never hears of it"


async def test_a_held_request_takes_effect_at_once_and_is_answered_on_release(
    fake: FakeDiscord, client: discord.Client
) -> None:
    hold = fake.faults.hold("channel_message", method="POST")
    sending = asyncio.create_task(_sent(fake, client, "held"))
    await fake.wait_for(lambda: hold.waiting == 1)
    [stored] = fake.messages_in(fake.channel("general"))
    assert stored.content == "held"
    assert not sending.done()
    hold.release()
    sent = await sending
    assert sent.id == stored.id
    await _sent(fake, client, "after the release nothing is held")
    assert hold.held == 1


async def test_a_failure_can_target_one_channel(fake: FakeDiscord, client: discord.Client) -> None:
    general, imagine = fake.channel("general"), fake.channel("imagine")
    fake.faults.fail_next("channel_message", 5, status=403, code=50013, path=f"/channels/{general.id}/")
    await client.get_partial_messageable(imagine.id).send("another channel is not refused")
    with pytest.raises(discord.Forbidden):
        await client.get_partial_messageable(general.id).send("refused")
    assert [m.content for m in fake.messages_in(imagine)] == ["another channel is not refused"]
    assert fake.messages_in(general) == []


async def test_a_hold_can_target_one_channel(fake: FakeDiscord, client: discord.Client) -> None:
    general, imagine = fake.channel("general"), fake.channel("imagine")
    hold = fake.faults.hold("channel_message", method="POST", path=f"/channels/{imagine.id}/")
    await client.get_partial_messageable(general.id).send("another channel is not held")
    sending = asyncio.create_task(client.get_partial_messageable(imagine.id).send("held"))
    await fake.wait_for(lambda: hold.waiting == 1)
    assert [m.content for m in fake.messages_in(imagine)] == ["held"]
    hold.release()
    await sending

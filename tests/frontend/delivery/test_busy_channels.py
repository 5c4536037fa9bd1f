"""200 concurrent jobs across 4 channels under Discord-like rate limits all finish, without a 429 storm.

Time is compressed tenfold: the fake's channel bucket is 5 requests per 0.5 s instead of per 5 s.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_model import FakeInteraction
from tests.harness import cancel_custom_ids, embed_text, replies_to, running_bot, status_message

JOBS = 200
CHANNELS = ("general", "imagine", "mod-log", "video")


async def test_two_hundred_jobs_in_four_busy_channels_all_finish(
    discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    discord_fake.add_channel("video")
    discord_fake.channel_rate_limit(limit=5, per=0.5)
    discord_fake.webhook_rate_limit(limit=5, per=0.2)
    rng = random.Random(7)
    users = ["alice", "bob", "carol"]  # 3 users x 100 allowed unfinished tasks each

    def lifecycle(_request: object) -> Script:
        return Script.success(after=rng.uniform(1.0, 4.0), progress=["25%", "50%", "75%"])

    async with (
        FakeGateway(default_script=lifecycle) as gateway,
        running_bot(
            discord_fake,
            gateway,
            tmp_path / "bot.sqlite3",
            max_active_per_user=100,
            status_edit_interval=0.2,
            poll_interval=0.3,
        ),
    ):
        interactions: list[FakeInteraction] = []
        for n in range(JOBS):
            interactions.append(
                await discord_fake.slash_command(
                    "imagine",
                    {"prompt": f"job {n}"},
                    user=users[n % len(users)],
                    channel=CHANNELS[n % len(CHANNELS)],
                )
            )
            if n % 20 == 19:
                await asyncio.sleep(0.05)  # users click over a moment, not in one instant

        def all_delivered() -> bool:
            for interaction in interactions:
                message = status_message(discord_fake, interaction.id)
                if message is None or not replies_to(discord_fake, message.id):
                    return False
            return True

        await discord_fake.wait_for(all_delivered, timeout=60, interval=0.25)

        for interaction in interactions:
            message = status_message(discord_fake, interaction.id)
            assert message is not None
            assert len(replies_to(discord_fake, message.id)) == 1
            await discord_fake.wait_for(lambda m=message: not cancel_custom_ids(m), timeout=10)
            assert "Done" in embed_text(message)
        assert len(gateway.tasks) == JOBS
        # discord.py waits on the X-RateLimit headers, and progress edits back off when a channel is
        # busy: a handful of 429s at most, never a storm.
        assert discord_fake.rate_limited_count <= JOBS // 10, discord_fake.rate_limited_count

"""Issue 13: two bot processes split Discord's shards over one PostgreSQL database.

Each is `python -m bot` as an operator runs it (SHARD_COUNT=2, SHARD_IDS=0 or 1), against the fake
Discord (which routes each server's events to the connection of its shard) and the fake gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from bot.testing.fake_gateway.script import Script
from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_guilds import FakeGuild
from tests.harness import replies_to, status_message
from tests.operator_env import operator_env

SHARDS = 2


class BotProcess:
    """One `python -m bot` process running some shards; its log is kept in a file to read back."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    def logged(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def delivered(self, key: str) -> bool:
        """Whether this process handled the final state of task `key` (the notifier logs it)."""
        return f"task {key}: final state handled" in self.logged()

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), 20)


@contextlib.asynccontextmanager
async def bot_process(
    name: str, shard: int, discord_fake: FakeDiscord, gateway: FakeGateway, database: str, workdir: Path
) -> AsyncIterator[BotProcess]:
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "bot.log"
    env = operator_env(
        DISCORD_TOKEN=discord_fake.token,
        TT_API_KEY=gateway.api_key,
        MINDPROXY_BASE_URL=gateway.base_url,
        DISCORD_API_BASE_URL=discord_fake.rest_base,
        DATABASE_URL=database,
        DATA_DIR=str(folder),
        SHARD_COUNT=str(SHARDS),
        SHARD_IDS=str(shard),
        POLL_INTERVAL="0.2",
        STATUS_EDIT_INTERVAL="0.2",
        GATEWAY_TIMEOUT="2",
        LEASE_SECONDS="2",
        LOG_LEVEL="INFO",
    )
    with log.open("w", encoding="utf-8") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=folder, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    running = BotProcess(process, log)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def ready(discord_fake: FakeDiscord, guild: FakeGuild, process: BotProcess) -> None:
    """Wait until the process's shard is connected (its guild routed) and it has said it is set up."""
    await discord_fake.gateway.wait_until_routed(guild.id, timeout=30)
    await discord_fake.wait_for(lambda: "bot set up" in process.logged(), timeout=30)


async def test_each_process_serves_its_shards_servers_and_a_killed_one_loses_nothing(
    postgres_url: str, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.default_script = Script.success(after=1.5, progress=["50%"])
    async with FakeDiscord(shard_count=SHARDS) as discord_fake:
        zero = discord_fake.add_guild("Zero", shard=0, members=["alice"])
        one = discord_fake.add_guild("One", shard=1, members=["bob"])
        here = discord_fake.add_channel("general", guild=zero)
        there = discord_fake.add_channel("general", guild=one)
        async with (
            bot_process("p0", 0, discord_fake, gateway, postgres_url, tmp_path) as p0,
            bot_process("p1", 1, discord_fake, gateway, postgres_url, tmp_path) as p1,
        ):
            await ready(discord_fake, zero, p0)
            await ready(discord_fake, one, p1)

            # 1. A command in each server is handled and delivered by the process of its shard.
            mine = await discord_fake.slash_command(
                "imagine", {"prompt": "zero"}, user="alice", channel=here, guild=zero
            )
            theirs = await discord_fake.slash_command(
                "imagine", {"prompt": "one"}, user="bob", channel=there, guild=one
            )
            for interaction in (mine, theirs):
                message = await discord_fake.wait_for(
                    lambda i=interaction: status_message(discord_fake, i.id), timeout=15
                )
                await discord_fake.wait_for(lambda m=message: replies_to(discord_fake, m.id), timeout=30)
            # The notifier logs a final right after posting it.
            await discord_fake.wait_for(lambda: p0.delivered(str(mine.id)) and p1.delivered(str(theirs.id)))
            assert not p1.delivered(str(mine.id)) and not p0.delivered(str(theirs.id))
            routed = {c.shard_id: c.guild_ids("INTERACTION_CREATE") for c in discord_fake.gateway.connections}
            assert routed[0] == [zero.id] and routed[1] == [one.id]

            # 2. Shard 1's process dies with a job under way; nothing is lost.
            gateway.default_script = Script.success(after=3.0, progress=["50%"])
            late = await discord_fake.slash_command(
                "imagine", {"prompt": "late"}, user="bob", channel=there, guild=one
            )
            late_message = await discord_fake.wait_for(
                lambda: status_message(discord_fake, late.id), timeout=15
            )
            await discord_fake.wait_for(lambda: gateway.tasks_by_key.get(str(late.id)), timeout=15)
            assert await p1.stop(signal.SIGKILL) == -signal.SIGKILL
            # Shard 0's process takes the task's polling over once p1's lease runs out, but leaves its
            # report to the process of shard 1: a replacement delivers it, once.
            await discord_fake.wait_for(
                lambda: gateway.tasks_by_key[str(late.id)].completed_monotonic() is not None, timeout=30
            )
            async with bot_process(
                "p1-again", 1, discord_fake, gateway, postgres_url, tmp_path
            ) as replacement:
                await discord_fake.wait_for(lambda: replies_to(discord_fake, late_message.id), timeout=30)
                await asyncio.sleep(0.5)  # a second reply would show up now
                assert len(replies_to(discord_fake, late_message.id)) == 1
                await discord_fake.wait_for(lambda: replacement.delivered(str(late.id)))
                assert not p0.delivered(str(late.id))
                assert await replacement.stop() == 0
            assert await p0.stop() == 0
        assert len(gateway.tasks_by_key) == 3  # one gateway task per request

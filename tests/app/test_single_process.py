"""One bot process per SQLite database (issue 8): a second one is refused with one line, and a
process killed with SIGKILL leaves no lock behind."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from bot.app.single_process import DatabaseInUseError, exclusive_database_lock, lock_path_for
from tests.operator_env import operator_env

REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time
from pathlib import Path
from bot.app.single_process import exclusive_database_lock
with exclusive_database_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


async def start_holder(database: Path) -> asyncio.subprocess.Process:
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, str(database), cwd=REPO, stdout=asyncio.subprocess.PIPE
    )
    assert holder.stdout is not None
    async with asyncio.timeout(15):
        assert (await holder.stdout.readline()).decode().strip() == "held"
    return holder


async def test_a_second_bot_process_on_the_same_database_is_refused_with_one_line(tmp_path: Path):
    database = tmp_path / "data" / "bot.sqlite3"
    database.parent.mkdir()
    holder = await start_holder(database)
    try:
        env = operator_env(
            DISCORD_TOKEN="fake-discord-token-for-the-lock-test",
            TT_API_KEY="fake-api-key-for-the-lock-test",
            DATABASE_URL=f"sqlite:///{database}",
        )
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(second.communicate(), 30)
    finally:
        holder.kill()
        await holder.wait()
    text = output.decode()
    assert second.returncode == 1
    lines = [line for line in text.splitlines() if "another bot process" in line]
    assert len(lines) == 1, text
    assert str(lock_path_for(database)) in lines[0]
    assert "Traceback" not in text
    assert not database.exists()  # it never opened the database


async def test_the_lock_of_a_process_killed_with_sigkill_is_free_at_once(tmp_path: Path):
    database = tmp_path / "bot.sqlite3"
    holder = await start_holder(database)
    with pytest.raises(DatabaseInUseError), exclusive_database_lock(database):
        pass
    holder.send_signal(signal.SIGKILL)
    await holder.wait()
    with exclusive_database_lock(database) as path:  # a restart right after the kill works
        assert path.exists()

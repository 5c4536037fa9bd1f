"""`python -m bot check | sync | health` and start-up configuration errors, as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.testing.fake_gateway.server import FakeGateway
from tests.fakes.discord import FakeDiscord
from tests.operator_env import operator_env

REPO = Path(__file__).resolve().parents[2]


async def run_module(*args: str, cwd: Path, env: dict[str, str], within: float = 30) -> tuple[int, str]:
    """Run `python -m bot ...` as a user would, from `cwd`, with only the given settings."""
    clean_env = operator_env(**env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=clean_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.fixture
async def fakes():
    async with FakeDiscord() as discord_fake, FakeGateway(api_key="gw-key-for-cli-tests") as gateway:
        yield discord_fake, gateway


def good_env(discord_fake: FakeDiscord, gateway: FakeGateway) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": discord_fake.token,
        "TT_API_KEY": gateway.api_key,
        "MINDPROXY_BASE_URL": gateway.base_url,
        "DISCORD_API_BASE_URL": discord_fake.rest_base,
        "DATABASE_URL": "sqlite:///data/bot.sqlite3",
    }


async def test_check_passes_with_a_good_configuration_read_from_dotenv_in_the_working_directory(
    fakes, tmp_path: Path
) -> None:
    discord_fake, gateway = fakes
    dotenv = "\n".join(f"{k}={v}" for k, v in good_env(discord_fake, gateway).items())
    (tmp_path / ".env").write_text(dotenv + "\n")
    code, output = await run_module("check", cwd=tmp_path, env={})
    assert code == 0, output
    assert "all checks passed" in output
    assert "logged in as" in output
    assert (tmp_path / "data" / "bot.sqlite3").exists()
    assert gateway.api_key not in output
    assert discord_fake.token not in output


@pytest.mark.parametrize(
    ("change", "expected_code", "expected_text"),
    [
        ({"TT_API_KEY": "wrong-key"}, 1, "refused TT_API_KEY"),
        ({"MINDPROXY_BASE_URL": "http://127.0.0.1:9"}, 1, "unreachable"),
        ({"DISCORD_TOKEN": "not-the-token"}, 1, "DISCORD_TOKEN was refused"),
        ({"DISCORD_API_BASE_URL": "http://127.0.0.1:9/api/v10"}, 1, "Discord is unreachable"),
        ({"POLL_INTERVAL": "soon"}, 2, "POLL_INTERVAL is invalid"),
        ({"IMAGINE_MODELS": "flux:painting"}, 2, "IMAGINE_MODELS is invalid"),
        ({"TT_API_KEY": None}, 2, "TT_API_KEY is not set"),
    ],
    ids=["bad-key", "gateway-down", "bad-token", "discord-down", "bad-number", "bad-models", "missing-key"],
)
async def test_check_names_each_kind_of_problem(
    fakes, tmp_path: Path, change: dict[str, str | None], expected_code: int, expected_text: str
) -> None:
    discord_fake, gateway = fakes
    env = good_env(discord_fake, gateway)
    for name, value in change.items():
        if value is None:
            env.pop(name)
        else:
            env[name] = value
    code, output = await run_module("check", cwd=tmp_path, env=env)
    assert code == expected_code, output
    assert expected_text in output
    assert "Traceback" not in output
    for secret in ("wrong-key", gateway.api_key, discord_fake.token, "not-the-token"):
        assert secret not in output


async def test_the_bot_stops_with_one_line_naming_a_missing_setting(tmp_path: Path) -> None:
    code, output = await run_module(cwd=tmp_path, env={"TT_API_KEY": "x"})
    assert code == 2
    assert output.strip().splitlines() == [
        "configuration error: DISCORD_TOKEN is not set (put it in .env or the environment)"
    ]


async def test_sync_publishes_every_command_to_one_guild(fakes, tmp_path: Path) -> None:
    discord_fake, gateway = fakes
    code, output = await run_module(
        "sync", "--guild", str(discord_fake.guild_id), cwd=tmp_path, env=good_env(discord_fake, gateway)
    )
    assert code == 0, output
    names = sorted(c["name"] for c in discord_fake.commands[discord_fake.guild_id])
    assert names == ["cancel", "imagine", "notify", "show", "tasks", "video"]
    imagine = next(c for c in discord_fake.commands[discord_fake.guild_id] if c["name"] == "imagine")
    prompt = next(o for o in imagine["options"] if o["name"] == "prompt")
    assert prompt["max_length"] == 6000  # Discord's own limit; MAX_PROMPT_LENGTH is checked in code
    assert prompt["required"] is True
    assert all(o.get("description") for o in imagine["options"])
    assert "synced 6 commands" in output


async def test_health_reads_the_heartbeat(tmp_path: Path) -> None:
    env = {"DISCORD_TOKEN": "t", "TT_API_KEY": "k", "DATABASE_URL": "sqlite:///data/bot.sqlite3"}
    code, output = await run_module("health", cwd=tmp_path, env=env)
    assert code == 1
    assert "no heartbeat" in output
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "heartbeat").write_text(datetime.now(UTC).isoformat())
    code, output = await run_module("health", cwd=tmp_path, env=env)
    assert code == 0, output
    (tmp_path / "data" / "heartbeat").write_text((datetime.now(UTC) - timedelta(minutes=5)).isoformat())
    code, _ = await run_module("health", cwd=tmp_path, env=env)
    assert code == 1


async def test_run_bot_stops_cleanly_on_sigterm(
    fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app.runtime import run_bot
    from tests.fakes.discord import install
    from tests.harness import make_settings

    discord_fake, gateway = fakes
    install(discord_fake, monkeypatch)
    settings = make_settings(discord_fake, gateway, tmp_path / "data" / "bot.sqlite3")
    runner = asyncio.create_task(run_bot(settings))
    await discord_fake.wait_for(lambda: discord_fake.gateway.identify_count >= 1, timeout=10)
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(runner, 15) == 0
    assert (tmp_path / "data" / "bot.sqlite3").exists()

"""`python -m bot simulate`: the simulated gateway an operator runs to try the bot without a key."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.engine.api.client import TaskApiClient
from bot.engine.api.models import TaskStatus, TaskType
from bot.testing.fake_gateway.assets import PNG_SIGNATURE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LISTENING = "listening on "


@pytest.fixture
async def simulator() -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "simulate",
        "--port",
        "0",
        "--min-duration",
        "0.05",
        "--max-duration",
        "0.1",
        "--stats",
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(10):
            first = (await process.stdout.readline()).decode()
            hint = (await process.stdout.readline()).decode()
        assert LISTENING in first
        base_url = first.split(LISTENING, 1)[1].strip()
        assert f"MINDPROXY_BASE_URL={base_url}" in hint
        yield process, base_url
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def finish(client: TaskApiClient, task_id: str) -> TaskStatus:
    async with asyncio.timeout(5):
        while True:  # poll, as the bot does
            task = await client.get_task(task_id)
            if task.status.is_terminal:
                return task.status
            await asyncio.sleep(0.02)


async def test_tasks_succeed_with_a_placeholder_image_served_by_the_simulator(simulator):
    process, base_url = simulator
    # Any key is accepted: the operator has none yet.
    async with TaskApiClient(base_url=base_url, api_key="anything", max_attempts=1) as client:
        created = await client.create_task(
            task_type=TaskType.ASYNC_IMAGE, model="any", prompt="a lighthouse", idempotency_key="k1"
        )
        assert await finish(client, created.task_id) is TaskStatus.SUCCEEDED
        task = await client.get_task(created.task_id)
        events = await client.list_events(created.task_id)
    assert task.result is not None and task.result.image_url is not None
    assert task.result.image_url.startswith(base_url)
    assert any(event.message == "50%" for event in events)  # progress, as a real job shows
    async with httpx.AsyncClient() as http:  # the asset host needs no credentials
        image = await http.get(task.result.image_url)
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(PNG_SIGNATURE)

    process.send_signal(signal.SIGTERM)
    assert process.stdout is not None
    async with asyncio.timeout(10):
        summary = json.loads((await process.stdout.readline()).decode())
        assert await process.wait() == 0
    assert summary["tasks_terminal"] == 1


async def test_video_tasks_get_an_mp4_and_a_prompt_with_fail_fails(simulator):
    _, base_url = simulator
    async with TaskApiClient(base_url=base_url, api_key="k", max_attempts=1) as client:
        video = await client.create_task(
            task_type=TaskType.VIDEO, model="any", prompt="waves", idempotency_key="v1"
        )
        failing = await client.create_task(
            task_type=TaskType.ASYNC_IMAGE, model="any", prompt="oops --fail", idempotency_key="f1"
        )
        assert await finish(client, video.task_id) is TaskStatus.SUCCEEDED
        assert await finish(client, failing.task_id) is TaskStatus.FAILED
        done = await client.get_task(video.task_id)
        failed = await client.get_task(failing.task_id)
    assert done.result is not None and done.result.video_url is not None
    async with httpx.AsyncClient() as http:
        clip = await http.get(done.result.video_url)
    assert clip.headers["content-type"] == "video/mp4"
    assert clip.content[4:8] == b"ftyp"
    assert failed.error_code == "simulated_failure"


async def test_a_bad_duration_range_is_refused_with_one_line():
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "simulate",
        "--min-duration",
        "5",
        "--max-duration",
        "1",
        cwd=PROJECT_ROOT,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 2
    assert "--min-duration" in err.decode()

"""The fake gateway itself: lifecycles, holds, rate allowance, stats and the stand-alone process."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest

from bot.engine.api.client import TaskApiClient
from bot.engine.api.models import TaskStatus, TaskType
from bot.testing.fake_gateway.server import FakeGateway, Script

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def raw_client(gateway: FakeGateway, key: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key or gateway.api_key}"}
    return httpx.AsyncClient(base_url=gateway.base_url, headers=headers, timeout=5)


async def post_task(http: httpx.AsyncClient, prompt: str = "p", key: str | None = None) -> httpx.Response:
    body = {
        "task_type": "async_image",
        "public_model": "flux-1-dev",
        "prompt": prompt,
        "idempotency_key": key,
    }
    return await http.post("/v1/tasks", json=body)


async def test_held_create_is_registered_before_the_answer(fake_gateway, gateway_api_key):
    hold = fake_gateway.hold("create")
    client = TaskApiClient(base_url=fake_gateway.base_url, api_key=gateway_api_key)
    pending = asyncio.create_task(
        client.create_task(task_type=TaskType.VIDEO, model="kling-video", prompt="p", idempotency_key="held")
    )
    await hold.wait_held(1)
    assert list(fake_gateway.tasks_by_key) == ["held"]  # processed, answer not sent yet
    pending.cancel()  # the "bot" dies before it learns the task id
    with contextlib.suppress(asyncio.CancelledError):
        await pending
    await client.aclose()
    hold.release()
    async with TaskApiClient(base_url=fake_gateway.base_url, api_key=gateway_api_key) as restarted:
        again = await restarted.create_task(
            task_type=TaskType.VIDEO, model="kling-video", prompt="p", idempotency_key="held"
        )
    assert again.task_id == fake_gateway.tasks_by_key["held"].task_id
    assert len(fake_gateway.tasks) == 1


@pytest.mark.parametrize(
    ("script", "status", "error_code"),
    [
        (Script.expires(after=0.0), TaskStatus.EXPIRED, "task_expired"),
        (Script.refunded(after=0.0), TaskStatus.REFUNDED, "refunded"),
        (Script.cancelled_by_gateway(after=0.0), TaskStatus.CANCELLED, "cancelled"),
        (Script.failure(after=0.0, code="boom"), TaskStatus.FAILED, "boom"),
    ],
)
async def test_terminal_scripts(fake_gateway, script, status, error_code):
    fake_gateway.default_script = script
    async with raw_client(fake_gateway) as http:
        task_id = (await post_task(http)).json()["task_id"]
        answer = (await http.get(f"/v1/tasks/{task_id}")).json()
    assert (answer["status"], answer["error_code"], answer["result_assets_json"]) == (
        status,
        error_code,
        None,
    )
    assert answer["completed_at"].endswith("Z")
    assert fake_gateway.completion_time(task_id) is not None


async def test_lifecycle_is_driven_by_the_clock_and_by_hand(fake_gateway):
    fake_gateway.script_when("slow", Script.success(after=0.2))
    fake_gateway.script_when(lambda create: create.task_type is TaskType.VIDEO, Script.never_finishes())
    async with raw_client(fake_gateway) as http:
        slow_id = (await post_task(http, "slow one")).json()["task_id"]
        stuck_id = (await post_task(http, "other")).json()["task_id"]  # default: succeeds after 0.3 s
        assert (await http.get(f"/v1/tasks/{slow_id}")).json()["status"] < TaskStatus.SUCCEEDED
        assert fake_gateway.completion_time(slow_id) is None
        await asyncio.sleep(0.25)
        done = (await http.get(f"/v1/tasks/{slow_id}")).json()
        assert done["status"] == TaskStatus.SUCCEEDED
        assert (
            done["result_assets_json"]
            == f'{{"image_url": "https://cdn.fake.test/{slow_id}.png", "seed": 12345}}'
        )
        fake_gateway.set_status(stuck_id, TaskStatus.SUCCEEDED, assets={"image_url": "https://x.test/i.png"})
        moved = (await http.get(f"/v1/tasks/{stuck_id}")).json()
        assert moved["result_assets_json"] == '{"image_url": "https://x.test/i.png"}'
        events = (await http.get(f"/v1/tasks/{stuck_id}/events", params={"limit": 10})).json()["task_events"]
    assert [e["status"] for e in events] == [1, 2, 3, 4]
    assert [e["event_type"] for e in events][-1] == "succeeded"


async def test_auth_and_body_validation(fake_gateway):
    async with raw_client(fake_gateway, key="nope") as http:
        denied = await post_task(http)
    async with httpx.AsyncClient(base_url=fake_gateway.base_url) as anonymous:
        missing = await anonymous.get("/v1/tasks/x")
    assert denied.status_code == missing.status_code == 401
    assert denied.json()["error"]["code"] == "invalid_api_key"
    async with raw_client(fake_gateway) as http:
        not_json = await http.post(
            "/v1/tasks", content=b"{oops", headers={"Content-Type": "application/json"}
        )
        no_prompt = await http.post("/v1/tasks", json={"task_type": "video", "public_model": "kling-video"})
        bad_type = await http.post("/v1/tasks", json={"task_type": "audio", "prompt": "p"})
    assert (not_json.status_code, no_prompt.status_code, bad_type.status_code) == (400, 400, 422)
    assert len(fake_gateway.tasks) == 0


async def test_max_rps_answers_429_with_retry_after():
    async with FakeGateway(max_rps=3) as gateway, raw_client(gateway) as http:
        answers = await asyncio.gather(*(http.get("/v1/tasks/unknown") for _ in range(6)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [404, 404, 404, 429, 429, 429]
    assert all(a.headers["Retry-After"] == "1" for a in answers if a.status_code == 429)


async def test_faults_can_be_limited_to_one_kind(fake_gateway):
    fake_gateway.fail_next(1, status=502, kind="events")
    async with raw_client(fake_gateway) as http:
        task_id = (await post_task(http)).json()["task_id"]
        assert (await http.get(f"/v1/tasks/{task_id}")).status_code == 200
        assert (await http.get(f"/v1/tasks/{task_id}/events")).status_code == 502
        assert (await http.get(f"/v1/tasks/{task_id}/events")).status_code == 200
    assert fake_gateway.faults.pending() == 0
    seen = await fake_gateway.wait_for_request("events", count=2, within=1)
    assert [r.status for r in seen] == [502, 200]


async def test_stats_endpoint_reports_rates_and_completions(fake_gateway):
    fake_gateway.default_script = Script.success(after=0.0)
    async with raw_client(fake_gateway) as http:
        task_id = (await post_task(http, key="s1")).json()["task_id"]
        await http.get(f"/v1/tasks/{task_id}")
        stats = (await http.get("/_fake/stats")).json()
        light = (await http.get("/_fake/stats", params={"tasks": "0"})).json()
    assert stats["requests_total"] == 2  # control requests are not counted
    assert stats["requests_by_kind"] == {"create": 1, "get": 1}
    assert stats["requests_per_second"] == [2]
    assert stats["max_requests_in_any_1s_window"] == 2
    assert stats["tasks"][task_id]["completed_monotonic"] is not None
    assert stats["tasks"][task_id]["idempotency_key"] == "s1"
    assert "tasks" not in light
    assert light["tasks_terminal"] == 1


# ---- result files: real bytes, and the ways a CDN can let a download down -----------------------


async def test_result_files_are_real_bytes_of_their_type(fake_gateway):
    async with httpx.AsyncClient(timeout=5) as anonymous:
        png = await anonymous.get(fake_gateway.asset_url("result.png"))
        mp4 = await anonymous.get(fake_gateway.asset_url("clip.mp4"))
        missing = await anonymous.get(fake_gateway.asset_url("nothing.txt"))
    assert (png.status_code, png.headers["content-type"]) == (200, "image/png")
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert (mp4.status_code, mp4.headers["content-type"]) == (200, "video/mp4")
    assert mp4.content[4:8] == b"ftyp"
    assert missing.status_code == 404
    assert [r.path for r in fake_gateway.asset_requests] == [
        "/_fake/assets/result.png",
        "/_fake/assets/clip.mp4",
        "/_fake/assets/nothing.txt",
    ]


async def test_result_files_can_be_large_streamed_slow_mistyped_or_missing(fake_gateway):
    url = fake_gateway.asset_url
    async with httpx.AsyncClient(timeout=5) as anonymous:
        large = await anonymous.get(url("big.png", size=300_000))
        streamed = await anonymous.get(url("big.png", size=300_000, chunked=True))
        mistyped = await anonymous.get(url("page.png", content_type="text/html"))
        gone = await anonymous.get(url("gone.png", status=404))
        started = asyncio.get_running_loop().time()
        slow = await anonymous.get(url("slow.png", delay=0.3))
        waited = asyncio.get_running_loop().time() - started
    assert len(large.content) == int(large.headers["content-length"]) == 300_000
    assert large.content.startswith(b"\x89PNG")
    assert "content-length" not in streamed.headers and streamed.headers["transfer-encoding"] == "chunked"
    assert streamed.content == large.content
    assert (mistyped.status_code, mistyped.headers["content-type"]) == (200, "text/html")
    assert gone.status_code == 404
    assert slow.status_code == 200 and waited >= 0.3


async def test_a_slow_result_file_does_not_hold_up_the_gateways_stop():
    gateway = FakeGateway()
    await gateway.start()
    async with httpx.AsyncClient(timeout=5) as anonymous:
        pending = asyncio.create_task(anonymous.get(gateway.asset_url("slow.png", delay=30)))
        await asyncio.sleep(0.1)
        started = asyncio.get_running_loop().time()
        await gateway.stop()
        with contextlib.suppress(httpx.HTTPError):
            await pending
    assert asyncio.get_running_loop().time() - started < 5


async def test_a_result_file_can_be_held_until_released(fake_gateway):
    hold = fake_gateway.hold("asset")
    async with httpx.AsyncClient(timeout=5) as anonymous:
        pending = asyncio.create_task(anonymous.get(fake_gateway.asset_url("held.png")))
        await hold.wait_held(1)
        assert not pending.done()
        hold.release()
        assert (await pending).content.startswith(b"\x89PNG")

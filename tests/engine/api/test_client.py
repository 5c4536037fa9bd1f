"""TaskApiClient over real HTTP against the fake gateway."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC

import pytest

from bot.engine.api.client import TaskApiClient
from bot.engine.api.errors import (
    AuthenticationError,
    GatewayUnavailableError,
    MalformedResponseError,
    RateLimitedError,
    RequestRejectedError,
    TaskNotFoundError,
)
from bot.engine.api.models import GatewayTask, TaskStatus, TaskType
from bot.testing.fake_gateway.server import FakeGateway, Script


async def create(client: TaskApiClient, key: str = "key-1", **overrides: object) -> str:
    arguments: dict[str, object] = {
        "task_type": TaskType.ASYNC_IMAGE,
        "model": "flux-1-dev",
        "prompt": "a red fox",
        "idempotency_key": key,
    }
    arguments.update(overrides)
    created = await client.create_task(**arguments)  # type: ignore[arg-type]
    return created.task_id


async def wait_until_terminal(client: TaskApiClient, task_id: str, within: float = 3.0) -> GatewayTask:
    async with asyncio.timeout(within):
        while True:
            task = await client.get_task(task_id)
            if task.status.is_terminal:
                return task
            await asyncio.sleep(0.02)


def make_client(gateway: FakeGateway, api_key: str, **overrides: object) -> TaskApiClient:
    options: dict[str, object] = {
        "timeout": 2.0,
        "max_attempts": 3,
        "max_retry_wait": 0.5,
        "backoff_base": 0.01,
    }
    options.update(overrides)
    return TaskApiClient(base_url=gateway.base_url, api_key=api_key, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ happy paths


async def test_create_sends_spec_body_and_parses_answer(fake_gateway, task_client, gateway_api_key):
    created = await task_client.create_task(
        task_type=TaskType.ASYNC_IMAGE,
        model="flux-1-dev",
        prompt="a futuristic city",
        idempotency_key="job-42",
        input_assets={"image_url": "https://example.test/ref.png"},
        metadata={"guild": "1", "user": "2"},
    )
    assert created.status is TaskStatus.CREATED
    assert created.request_id
    assert created.request_id.startswith("req_")
    assert created.hold_id
    assert created.hold_id.startswith("hold_")
    (request,) = fake_gateway.requests_of("create")
    assert request.json_body == {
        "task_type": "async_image",
        "public_model": "flux-1-dev",
        "prompt": "a futuristic city",
        "idempotency_key": "job-42",
        "input_assets_json": {"image_url": "https://example.test/ref.png"},
        "metadata_json": {"guild": "1", "user": "2"},
    }
    assert request.headers["Authorization"] == f"Bearer {gateway_api_key}"
    assert request.headers["User-Agent"].startswith("mindproxy-discord-bot/")
    task = fake_gateway.tasks[created.task_id]
    assert (task.input_assets, task.metadata) == (
        {"image_url": "https://example.test/ref.png"},
        {"guild": "1", "user": "2"},
    )
    assert task_client.requests_sent == 1


async def test_recreate_with_same_key_returns_same_task(fake_gateway, task_client):
    first = await create(task_client, "same-key")
    second = await create(task_client, "same-key")
    assert first == second
    assert len(fake_gateway.tasks) == 1
    assert await create(task_client, "other-key") != first


async def test_get_parses_success_with_unknown_keys_kept(fake_gateway, task_client):
    assets = {"image_url": "https://cdn.test/a.png", "seed": 99, "width": 1024, "grid": ["u1", "u2"]}
    fake_gateway.script_when("fox", Script.success(after=0.1, assets=assets))
    task_id = await create(task_client)
    assert (await task_client.get_task(task_id)).status in (TaskStatus.CREATED, TaskStatus.SUBMITTED)
    task = await wait_until_terminal(task_client, task_id)
    assert task.status is TaskStatus.SUCCEEDED
    assert task.task_type is TaskType.ASYNC_IMAGE
    assert task.public_model == "flux-1-dev"
    assert task.result is not None
    assert (task.result.image_url, task.result.seed) == ("https://cdn.test/a.png", 99)
    assert task.result.extra == {"width": 1024, "grid": ["u1", "u2"]}
    assert task.created_at is not None
    assert task.created_at.tzinfo is not None
    assert task.completed_at is not None
    assert task.completed_at.utcoffset() == UTC.utcoffset(None)
    assert task.completed_at >= task.created_at


@pytest.mark.parametrize(
    ("task_type", "model"), [(TaskType.VIDEO, "kling-video"), (TaskType.MIDJOURNEY, "mj-v7")]
)
async def test_numeric_task_type_is_mapped(fake_gateway, task_client, task_type, model):
    task_id = await create(task_client, task_type=task_type, model=model)
    assert fake_gateway.tasks[task_id].to_api()["task_type"] == task_type.code
    assert (await task_client.get_task(task_id)).task_type is task_type


async def test_failure_carries_gateway_error(fake_gateway, task_client):
    fake_gateway.script_when("fox", Script.failure(after=0.05, code="nsfw_blocked", message="prompt blocked"))
    task = await wait_until_terminal(task_client, await create(task_client))
    assert (task.status, task.error_code, task.error_message) == (
        TaskStatus.FAILED,
        "nsfw_blocked",
        "prompt blocked",
    )
    assert task.result is None


async def test_events_in_order_with_limit_and_offset(fake_gateway, task_client):
    fake_gateway.script_when("fox", Script.success(after=0.1, progress=["25%", "75%"]))
    task_id = await create(task_client)
    await wait_until_terminal(task_client, task_id)
    events = await task_client.list_events(task_id)
    assert [e.event_type for e in events] == [
        "created",
        "submitted",
        "processing",
        "progress",
        "progress",
        "succeeded",
    ]
    assert [e.message for e in events if e.event_type == "progress"] == ["25%", "75%"]
    assert events[-1].status is TaskStatus.SUCCEEDED
    assert all(e.created_at is not None for e in events)
    page = await task_client.list_events(task_id, limit=2, offset=3)
    assert [e.task_event_id for e in page] == [e.task_event_id for e in events[3:5]]
    assert fake_gateway.requests_of("events")[-1].query == {"limit": "2", "offset": "3"}


async def test_cancel_running_task(fake_gateway, task_client):
    fake_gateway.script_when("fox", Script.never_finishes())
    task_id = await create(task_client)
    await task_client.cancel_task(task_id, reason="user cancelled")
    task = await task_client.get_task(task_id)
    assert task.status is TaskStatus.CANCELLED
    assert fake_gateway.tasks[task_id].cancel_reason == "user cancelled"
    assert fake_gateway.requests_of("cancel")[0].json_body == {"reason": "user cancelled"}
    events = await task_client.list_events(task_id)
    assert events[-1].event_type == "cancelled"
    assert "user cancelled" in (events[-1].message or "")


async def test_cancel_finished_task_is_rejected_with_code(fake_gateway, task_client):
    fake_gateway.script_when("fox", Script.success(after=0.0))
    task_id = await create(task_client)
    with pytest.raises(RequestRejectedError) as caught:
        await task_client.cancel_task(task_id, reason="too late")
    assert caught.value.status_code == 409
    assert caught.value.error_code == "task_already_finished"
    assert len(fake_gateway.requests_of("cancel")) == 1


async def test_verify_access(fake_gateway, task_client, gateway_api_key):
    await task_client.verify_access()
    async with make_client(fake_gateway, "wrong-key") as bad:
        with pytest.raises(AuthenticationError):
            await bad.verify_access()


# ---------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_retried_then_succeed(fake_gateway, task_client, status):
    fake_gateway.fail_next(2, status=status, kind="create")
    task_id = await create(task_client)
    assert task_client.requests_sent == 3
    assert [r.status for r in fake_gateway.requests] == [status, status, 202]
    bodies = [r.json_body for r in fake_gateway.requests]
    assert bodies[0] == bodies[1] == bodies[2]  # retried with the very same idempotency key
    assert list(fake_gateway.tasks) == [task_id]


async def test_retries_exhausted_raise_gateway_unavailable(fake_gateway, task_client):
    fake_gateway.fail_next(5, status=503)
    with pytest.raises(GatewayUnavailableError) as caught:
        await task_client.get_task("some-task")
    assert caught.value.status_code == 503
    assert caught.value.transient
    assert len(fake_gateway.requests) == 3


async def test_retry_after_is_honoured(fake_gateway, task_client):
    fake_gateway.rate_limit_next(1, retry_after=0.2)
    await create(task_client)
    limited, accepted = fake_gateway.requests
    assert (limited.status, accepted.status) == (429, 202)
    assert accepted.received_at - limited.received_at >= 0.2


async def test_rate_limited_after_retries(fake_gateway, task_client):
    fake_gateway.rate_limit_next(3, retry_after=0.05)
    with pytest.raises(RateLimitedError) as caught:
        await create(task_client)
    assert caught.value.retry_after == pytest.approx(0.05)
    assert len(fake_gateway.tasks) == 0


async def test_slow_answer_times_out_and_is_retried(fake_gateway, gateway_api_key):
    fake_gateway.slow_next(3, delay=1.0, kind="get")
    async with make_client(fake_gateway, gateway_api_key, timeout=0.15) as client:
        task_id = await create(client)
        started = time.monotonic()
        with pytest.raises(GatewayUnavailableError, match="timed out"):
            await client.get_task(task_id)
        assert time.monotonic() - started < 1.0
        assert len(fake_gateway.requests_of("get")) == 3


async def test_create_retried_after_timeout_does_not_duplicate(fake_gateway, gateway_api_key):
    fake_gateway.slow_next(1, delay=1.0, kind="create")  # processed, but the answer comes too late
    async with make_client(fake_gateway, gateway_api_key, timeout=0.15) as client:
        task_id = await create(client, "retry-key")
    assert len(fake_gateway.requests_of("create")) == 2
    assert list(fake_gateway.tasks) == [task_id]


async def test_connection_refused_is_gateway_unavailable(gateway_api_key):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = TaskApiClient(
        base_url=f"http://127.0.0.1:{port}", api_key=gateway_api_key, max_attempts=2, backoff_base=0.01
    )
    async with client:
        with pytest.raises(GatewayUnavailableError, match="ConnectError"):
            await client.verify_access()
    assert client.requests_sent == 2


async def test_a_create_that_never_left_the_machine_is_known_not_sent(gateway_api_key):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with TaskApiClient(
        base_url=f"http://127.0.0.1:{port}", api_key=gateway_api_key, max_attempts=2, backoff_base=0.01
    ) as client:
        with pytest.raises(GatewayUnavailableError) as refused:
            await create(client, "never-sent")
    assert refused.value.maybe_sent is False  # nothing can exist at the gateway


@pytest.mark.parametrize("fault", ["slow", "503", "malformed"])
async def test_a_create_whose_fate_is_unknown_says_it_may_have_been_sent(
    fake_gateway, gateway_api_key, fault
):
    if fault == "slow":
        fake_gateway.slow_next(3, delay=1.0, kind="create")
    elif fault == "503":
        fake_gateway.fail_next(3, status=503, kind="create")
    else:
        fake_gateway.malformed_next(1, kind="create")
    async with make_client(fake_gateway, gateway_api_key, timeout=0.15, max_attempts=2) as client:
        with pytest.raises((GatewayUnavailableError, MalformedResponseError)) as failed:
            await create(client, f"maybe-{fault}")
    assert failed.value.maybe_sent is True
    assert failed.value.transient is True


async def test_malformed_json_is_reported(fake_gateway, task_client):
    fake_gateway.malformed_next(1, kind="get")
    task_id = await create(task_client)
    with pytest.raises(MalformedResponseError):
        await task_client.get_task(task_id)
    assert len(fake_gateway.requests_of("get")) == 1  # not retried


async def test_an_unreadable_success_is_an_answer_with_its_problem_and_the_urls_found(
    fake_gateway, task_client
):
    # Issue 8: a broken result_assets_json on a success is not an error to retry for two hours.
    fake_gateway.script_when("fox", Script.invalid_result(after=0.0))
    task_id = await create(task_client)
    task = await task_client.get_task(task_id)
    assert task.status is TaskStatus.SUCCEEDED
    assert task.result_problem == "result_assets_json is not valid JSON"
    assert task.result is not None
    assert task.result.extra["found_urls"] == ["https://cdn.fake.test/x.png"]


async def test_an_unknown_status_number_is_read_as_a_status_that_is_not_final(fake_gateway, task_client):
    task_id = await create(task_client)
    fake_gateway.override_task_fields(task_id, status=42)
    task = await task_client.get_task(task_id)
    assert int(task.status) == 42
    assert not task.status.is_terminal
    assert task.status.name == "STATUS_42"


async def test_an_answer_over_one_mebibyte_is_malformed(fake_gateway, task_client):
    task_id = await create(task_client)
    fake_gateway.override_task_fields(task_id, padding="x" * (1024 * 1024 + 10))
    with pytest.raises(MalformedResponseError, match="over 1048576 bytes"):
        await task_client.get_task(task_id)


async def test_odd_but_harmless_fields_do_not_crash(fake_gateway, task_client):
    task_id = await create(task_client)
    fake_gateway.override_task_fields(
        task_id, task_type=99, created_at="yesterday", result_assets_json="not json", status=3
    )
    task = await task_client.get_task(task_id)
    assert (task.status, task.task_type, task.created_at, task.result) == (
        TaskStatus.PROCESSING,
        None,
        None,
        None,
    )
    fake_gateway.override_task_fields(
        task_id, status=4, result_assets_json={"video_url": "https://v.test/1.mp4"}
    )
    task = await task_client.get_task(task_id)
    assert task.result is not None
    assert task.result.video_url == "https://v.test/1.mp4"


async def test_wrong_key_is_authentication_error_not_retried(fake_gateway):
    async with make_client(fake_gateway, "not-the-key") as client:
        with pytest.raises(AuthenticationError) as caught:
            await create(client)
    assert caught.value.status_code == 401
    assert caught.value.error_code == "invalid_api_key"
    assert len(fake_gateway.requests) == 1


async def test_task_type_not_enabled_is_rejected_with_clear_message(fake_gateway, task_client):
    fake_gateway.enabled_types.discard("video")
    with pytest.raises(RequestRejectedError) as caught:
        await create(task_client, task_type=TaskType.VIDEO, model="kling-video")
    assert (caught.value.status_code, caught.value.error_code) == (422, "task_type_not_enabled")
    assert "`video`" in caught.value.user_message
    assert "not enabled" in caught.value.user_message
    assert len(fake_gateway.requests) == 1


async def test_unknown_model_is_rejected_naming_the_model(fake_gateway, task_client):
    with pytest.raises(RequestRejectedError) as caught:
        await create(task_client, model="no-such-model")
    assert (caught.value.status_code, caught.value.error_code) == (400, "model_not_found")
    assert "`no-such-model`" in caught.value.user_message
    assert "not available" in caught.value.user_message


async def test_unknown_task_is_not_found(fake_gateway, task_client):
    with pytest.raises(TaskNotFoundError) as caught:
        await task_client.get_task("00000000-0000-4000-8000-000000000000")
    assert caught.value.error_code == "task_not_found"
    with pytest.raises(TaskNotFoundError):
        await task_client.list_events("nope")
    with pytest.raises(TaskNotFoundError):
        await task_client.cancel_task("nope", reason="x")


@pytest.mark.parametrize("hostile_id", ["../../admin", "..", "a/b?c=d#e", "x/events"])
async def test_task_id_cannot_inject_a_path(fake_gateway, task_client, hostile_id):
    with pytest.raises(TaskNotFoundError):
        await task_client.get_task(hostile_id)
    (request,) = fake_gateway.requests
    assert request.kind == "get"
    assert request.raw_path.startswith("/v1/tasks/")
    assert "/" not in request.raw_path.removeprefix("/v1/tasks/")
    assert "?" not in request.raw_path

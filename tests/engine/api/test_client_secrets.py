"""The API key never shows up in exception texts, reprs or log lines (ours, httpx's, httpcore's)."""

from __future__ import annotations

import io
import logging
import socket

import httpx
import pytest

from bot.engine.api.client import RedactSecretsFilter, TaskApiClient
from bot.engine.api.errors import (
    AuthenticationError,
    GatewayUnavailableError,
    MalformedResponseError,
    RateLimitedError,
    RequestRejectedError,
    TaskApiError,
    TaskNotFoundError,
)
from bot.engine.api.models import TaskType
from bot.engine.api.redaction import install_redaction, redact
from bot.testing.fake_gateway.server import FakeGateway


def assert_no_leak(secret: str, *texts: str) -> None:
    for text in texts:
        assert secret not in text


async def test_key_never_leaks_in_errors_or_logs(caplog, gateway_api_key):
    caplog.set_level(logging.DEBUG)  # root at DEBUG: httpx and httpcore inherit it
    errors: list[TaskApiError] = []
    async with FakeGateway(api_key=gateway_api_key, models={"flux-1-dev"}) as gateway:
        client = TaskApiClient(
            base_url=gateway.base_url,
            api_key=gateway_api_key,
            timeout=0.3,
            max_attempts=2,
            max_retry_wait=0.05,
            backoff_base=0.01,
        )
        async with client:

            async def expect(error_type: type[TaskApiError], call) -> None:
                with pytest.raises(error_type) as caught:
                    await call
                errors.append(caught.value)

            create = {"task_type": TaskType.ASYNC_IMAGE, "prompt": "p", "idempotency_key": "k"}
            await expect(RequestRejectedError, client.create_task(model="unknown-model", **create))
            await expect(TaskNotFoundError, client.get_task("missing"))
            gateway.rate_limit_next(2, retry_after=0.01)
            await expect(RateLimitedError, client.get_task("missing"))
            gateway.fail_next(2, status=503)
            await expect(GatewayUnavailableError, client.get_task("missing"))
            gateway.slow_next(2, delay=1.0)
            await expect(GatewayUnavailableError, client.get_task("missing"))
            gateway.malformed_next(1)
            await expect(MalformedResponseError, client.create_task(model="flux-1-dev", **create))
            client_repr = repr(client)
        async with TaskApiClient(base_url=gateway.base_url, api_key=gateway_api_key + "-wrong") as wrong:
            await expect(AuthenticationError, wrong.verify_access())
            client_repr += repr(wrong)
        # The key really was on the wire, so the absence checks below are meaningful.
        assert gateway.requests[0].headers["Authorization"] == f"Bearer {gateway_api_key}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with TaskApiClient(
        base_url=f"http://127.0.0.1:{port}", api_key=gateway_api_key, max_attempts=1
    ) as down:
        await expect(GatewayUnavailableError, down.get_task("x"))

    assert {type(e) for e in errors} >= {
        AuthenticationError,
        RequestRejectedError,
        TaskNotFoundError,
        RateLimitedError,
        GatewayUnavailableError,
        MalformedResponseError,
    }
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [e.user_message for e in errors]
    logged = [record.getMessage() for record in caplog.records]
    assert any(record.name.startswith("httpx") for record in caplog.records)
    assert any(record.name.startswith("httpcore") for record in caplog.records)
    assert any("retrying" in line for line in logged)
    assert_no_leak(gateway_api_key, client_repr, caplog.text, *texts, *logged)
    assert "***" in client_repr


async def test_key_echoed_by_gateway_is_redacted_from_error_text():
    secret = "sk-echo-SECRET-123456"

    def echo(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"]
        return httpx.Response(400, json={"error": {"code": "bad", "message": f"header was {token}"}})

    async with TaskApiClient(
        base_url="http://gw.test", api_key=secret, transport=httpx.MockTransport(echo)
    ) as client:
        with pytest.raises(RequestRejectedError) as caught:
            await client.get_task("t")
    assert_no_leak(secret, str(caught.value), repr(caught.value), caught.value.user_message)
    assert "Bearer ***" in str(caught.value)


def test_redaction_filter_rewrites_messages_args_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.redaction")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        redaction = install_redaction(["hunter2-key"], logger)
        assert isinstance(redaction, RedactSecretsFilter)
        logger.info("key=%s auth=%s", "hunter2-key", "Bearer abc.def-ghi")
        try:
            raise RuntimeError("boom with hunter2-key")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "hunter2-key" not in output
    assert "abc.def-ghi" not in output
    assert "key=*** auth=Bearer ***" in output
    assert "boom with ***" in output
    assert redact("x Bearer t0k3n y") == "x Bearer *** y"

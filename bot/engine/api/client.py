"""Async client of the MindProxy task API: create, read, list events, cancel.

Every call is paced by an optional `RequestRateLimiter`, retried on quick transient failures (the rule
and its waits are in `bot.engine.retries`) and mapped to the `TaskApiError` hierarchy.
The API key lives only in the default headers of the one `httpx.AsyncClient`; it is never logged,
never put in an exception text and never shown by `repr`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from bot.engine.api.errors import (
    AuthenticationError,
    GatewayUnavailableError,
    MalformedResponseError,
    RateLimitedError,
    RequestRejectedError,
    TaskApiError,
    TaskNotFoundError,
    rejection_message,
)
from bot.engine.api.models import CreatedTask, GatewayTask, TaskEvent, TaskType
from bot.engine.api.rate_limit import RequestRateLimiter
from bot.engine.api.redaction import RedactSecretsFilter, redact
from bot.engine.api.responses import (
    extract_error,
    parse_created_task,
    parse_events,
    parse_gateway_task,
    parse_retry_after,
)
from bot.engine.api.text import snippet
from bot.engine.retries import RETRYABLE_STATUS_CODES, equal_jitter, exponential_ceiling

__all__ = ["RedactSecretsFilter", "TaskApiClient"]

log = logging.getLogger(__name__)

USER_AGENT = "mindproxy-discord-bot/0.1 (+httpx)"
MAX_BODY_BYTES = 1024 * 1024  # a larger answer is malformed: no real task answer comes near it
_JSON_CONTENT = {"Content-Type": "application/json"}


class _RetryableError(Exception):
    """Internal: one attempt failed in a way worth another attempt. Never leaves this module."""

    def __init__(
        self, description: str, *, response: httpx.Response | None = None, maybe_sent: bool = True
    ) -> None:
        super().__init__(description)
        self.response = response
        self.maybe_sent = maybe_sent  # False only when the request certainly never left this machine
        self.retry_after = parse_retry_after(response.headers.get("Retry-After")) if response else None


def _task_path(task_id: str, suffix: str = "") -> str:
    """Escape a task id into exactly one path segment, whatever the gateway returned."""
    if not task_id:
        raise ValueError("task_id must not be empty")
    segment = quote(task_id, safe="")
    if set(segment) == {"."}:  # "." and ".." would be normalised away by URL handling
        segment = segment.replace(".", "%2E")
    return f"/v1/tasks/{segment}{suffix}"


class TaskApiClient:
    """One instance per bot process; owns one pooled `httpx.AsyncClient` (close with `aclose`)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr | str,
        timeout: float = 20.0,
        max_attempts: int = 4,
        max_retry_wait: float = 30.0,
        rate_limiter: RequestRateLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_base: float = 0.5,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if timeout <= 0 or max_retry_wait < 0 or backoff_base < 0:
            raise ValueError("timeout must be positive; max_retry_wait and backoff_base not negative")
        secret = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        key = secret.get_secret_value()
        if not key:
            raise ValueError("api_key must not be empty")
        self._secrets = (key,)
        self._base_url = base_url.rstrip("/")
        self._max_attempts = max_attempts
        self._max_retry_wait = max_retry_wait
        self._backoff_base = backoff_base
        self._rate_limiter = rate_limiter
        self._requests_sent = 0
        # Connect fails fast (a dead host should not eat the whole budget); reads may take longer.
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, max(0.5 * timeout, 0.001), 5.0))
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            headers={
                "Authorization": f"Bearer {key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=self._timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r}, api_key='***')"

    @property
    def requests_sent(self) -> int:
        """HTTP attempts made so far, retries included."""
        return self._requests_sent

    @property
    def base_url(self) -> str:
        return self._base_url

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ----------------------------------------------------------------------------------- operations

    async def create_task(
        self,
        *,
        task_type: TaskType,
        model: str,
        prompt: str,
        idempotency_key: str,
        input_assets: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> CreatedTask:
        """Submit a task. Retries resend this very body, so the gateway deduplicates on the key."""
        if not idempotency_key:
            raise ValueError("idempotency_key must not be empty: retries rely on it")
        body: dict[str, Any] = {
            "task_type": task_type.api_name,
            "public_model": model,
            "prompt": prompt,
            "idempotency_key": idempotency_key,
        }
        if input_assets is not None:
            body["input_assets_json"] = input_assets
        if metadata is not None:
            body["metadata_json"] = metadata
        context = {"model": model, "task_type": task_type.api_name}
        response = await self._call("POST", "/v1/tasks", json_body=body, context=context)
        return parse_created_task(self._json(response))

    async def get_task(self, task_id: str) -> GatewayTask:
        response = await self._call("GET", _task_path(task_id))
        return parse_gateway_task(self._json(response), requested_id=task_id)

    async def list_events(self, task_id: str, *, limit: int = 50, offset: int = 0) -> list[TaskEvent]:
        params = {"limit": str(limit), "offset": str(offset)}
        response = await self._call("GET", _task_path(task_id, "/events"), params=params)
        return parse_events(self._json(response))

    async def cancel_task(self, task_id: str, *, reason: str) -> None:
        """Cancel a task. A task that already finished raises RequestRejectedError (the caller decides)."""
        await self._call("POST", _task_path(task_id, "/cancel"), json_body={"reason": reason})

    async def verify_access(self) -> None:
        """Prove the key is accepted: reading a task that cannot exist must fail with 404, not 401."""
        try:
            await self._call("GET", _task_path(str(uuid.uuid4())))
        except (TaskNotFoundError, RequestRejectedError):
            return  # authenticated: the gateway looked the (made-up) task up and did not find it

    # -------------------------------------------------------------------------------------- plumbing

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        context: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise the mapped TaskApiError."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait_before_retry,
            retry=retry_if_exception_type(_RetryableError),
            before_sleep=self._log_retry,
            reraise=True,
        )
        # Serialised once, before the first attempt: every retry sends these exact bytes, so a create
        # is only ever retried with the same idempotency_key and the gateway cannot make a second task.
        payload = None if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
        maybe_sent = False  # whether any attempt may have reached the gateway (it then may hold a task)
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        response = await self._attempt(
                            method, path, payload, params, attempt.retry_state.attempt_number
                        )
                    except _RetryableError as failure:
                        maybe_sent = maybe_sent or failure.maybe_sent
                        raise
        except _RetryableError as failure:
            if failure.response is not None:
                error = self._error_for(failure.response, method, path, context)
            else:
                error = GatewayUnavailableError(
                    f"{method} {path}: {failure} after {self._max_attempts} attempt(s)"
                )
            error.maybe_sent = maybe_sent
            raise error from None
        if not response.is_success:
            raise self._error_for(response, method, path, context)
        return response

    async def _attempt(
        self,
        method: str,
        path: str,
        payload: bytes | None,
        params: dict[str, str] | None,
        attempt_number: int,
    ) -> httpx.Response:
        if self._rate_limiter is not None:
            await self._rate_limiter.acquire()
        self._requests_sent += 1
        started = time.monotonic()
        request = self._http.build_request(
            method,
            path,
            content=payload,
            params=params,
            headers=_JSON_CONTENT if payload is not None else None,
            timeout=self._timeout,
        )
        try:
            streamed = await self._http.send(request, stream=True)
            try:
                body = await _read_at_most(streamed, MAX_BODY_BYTES)
            finally:
                await streamed.aclose()
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "transport error"
            log.debug("%s %s -> %s (%s) attempt %d", method, path, kind, type(exc).__name__, attempt_number)
            # A connect-phase failure means the request never left this machine; anything later may
            # have reached the gateway (which then may hold a task for a create).
            never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            raise _RetryableError(f"{kind} ({type(exc).__name__})", maybe_sent=not never_sent) from exc
        if body is None:
            raise MalformedResponseError(
                f"task API answered {method} {path} with a body over {MAX_BODY_BYTES} bytes",
                status_code=streamed.status_code,
            )
        response = httpx.Response(
            streamed.status_code, headers=streamed.headers, content=body, request=request
        )
        log.debug(
            "%s %s -> %d attempt %d (%.3fs)",
            method,
            path,
            response.status_code,
            attempt_number,
            time.monotonic() - started,
        )
        if response.status_code in RETRYABLE_STATUS_CODES:
            raise _RetryableError(f"HTTP {response.status_code}", response=response)
        return response

    def _wait_before_retry(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _RetryableError) and failure.retry_after is not None:
            return min(failure.retry_after, self._max_retry_wait)
        return equal_jitter(
            exponential_ceiling(self._backoff_base, state.attempt_number, self._max_retry_wait)
        )

    def _log_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "task API request failed (%s), attempt %d/%d; retrying in %.2fs",
            redact(str(failure), self._secrets),
            state.attempt_number,
            self._max_attempts,
            wait,
        )

    def _json(self, response: httpx.Response) -> object:
        try:
            return response.json()
        except ValueError:
            raise MalformedResponseError(
                f"task API answered {response.request.method} {response.request.url.path} with non-JSON "
                f"(HTTP {response.status_code}): {self._clean(response.text[:300])!r}",
                status_code=response.status_code,
            ) from None

    def _clean(self, text: str) -> str:
        return snippet(redact(text, self._secrets))

    def _error_for(
        self, response: httpx.Response, method: str, path: str, context: dict[str, str] | None
    ) -> TaskApiError:
        status = response.status_code
        try:
            code, message = extract_error(response.json())
        except ValueError:
            code, message = None, response.text or None
        code = self._clean(code)[:80] if code else None
        message = self._clean(message) if message else None
        text = (
            f"{method} {path} -> HTTP {status}"
            + (f" [{code}]" if code else "")
            + (f": {message}" if message else "")
        )
        kwargs: dict[str, Any] = {"status_code": status, "error_code": code}
        if status in (401, 403):
            return AuthenticationError(text, **kwargs)
        if status == 404:
            return TaskNotFoundError(text, **kwargs)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RateLimitedError(text, retry_after=retry_after, **kwargs)
        if status >= 500:
            return GatewayUnavailableError(text, **kwargs)
        if 400 <= status < 500:
            return RequestRejectedError(
                text, user_message=rejection_message(code, message, context), **kwargs
            )
        return MalformedResponseError(text, **kwargs)


async def _read_at_most(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it passes `limit` bytes (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)

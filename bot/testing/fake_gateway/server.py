"""A fake MindProxy task gateway: a real HTTP server on 127.0.0.1 that follows the task API's spec.

In tests: `async with FakeGateway(api_key="k") as gw:` then point a client at `gw.base_url`.
In its own process: `python -m bot simulate` (bot/app/simulate.py), which the benchmark also uses;
`GET /_fake/stats` (no auth) tells request rates and per-task completion times.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.engine.api.models import TaskStatus, TaskType
from bot.testing.fake_gateway.assets import asset_query, serve_asset
from bot.testing.fake_gateway.faults import Fault, FaultAction, FaultQueue, Hold
from bot.testing.fake_gateway.records import RecordedRequest, summarize
from bot.testing.fake_gateway.script import FakeTask, Script, Step

__all__ = ["CreateRequest", "FakeGateway", "FakeTask", "Hold", "RecordedRequest", "Script", "Step"]

ALL_TYPES = frozenset(t.api_name for t in TaskType)
_JSON_BODY = web.RequestKey("json_body", object)


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A validated create body, as seen by script rules."""

    task_type: TaskType
    public_model: str | None
    prompt: str
    idempotency_key: str | None
    input_assets: object
    metadata: object


ScriptSource = Script | Callable[[CreateRequest], Script]  # a factory gets the create body


@dataclass(slots=True)
class _Rule:
    matches: Callable[[CreateRequest], bool]
    script: ScriptSource


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class FakeGateway:
    """The fake gateway. Tasks follow `default_script` unless a `script_when` rule matches at create."""

    def __init__(
        self,
        *,
        api_key: str | None = "fake-gateway-key",
        enabled_types: Iterable[str] = ALL_TYPES,
        models: Iterable[str] = (),
        default_script: ScriptSource | None = None,
        max_rps: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.api_key = api_key  # None: any bearer token is accepted (the simulator)
        self.enabled_types = set(enabled_types)
        self.models = set(models)
        self.default_script: ScriptSource = default_script or Script.success(after=0.3)
        self.max_rps = max_rps
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self.asset_requests: list[RecordedRequest] = []  # downloads of result files (no auth needed)
        self.tasks: dict[str, FakeTask] = {}
        self.tasks_by_key: dict[str, FakeTask] = {}
        self.faults = FaultQueue()
        self.cancel_delay = 0.0  # seconds a cancel takes to stop a task (a second one meanwhile is a 409)
        self._rules: list[_Rule] = []
        self._holds: list[Hold] = []
        self._before: dict[str, list[Callable[[], None]]] = {}
        self._arrivals: deque[float] = deque()
        self._request_seen = asyncio.Condition()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("FakeGateway is not started")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._pipeline])
        app.router.add_post("/v1/tasks", self._create, name="create")
        app.router.add_get("/v1/tasks/{task_id}", self._get, name="get")
        app.router.add_get("/v1/tasks/{task_id}/events", self._events, name="events")
        app.router.add_post("/v1/tasks/{task_id}/cancel", self._cancel, name="cancel")
        app.router.add_get("/_fake/stats", self._stats_endpoint, name="control")
        app.router.add_get("/_fake/assets/{name}", self._asset, name="asset")
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._stopping.set()
        for held in self._holds:
            held.release()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------------- test controls

    def script_when(self, match: str | Callable[[CreateRequest], bool], script: ScriptSource) -> None:
        """Tasks whose prompt contains `match` (or for which `match(request)` is true) follow `script`."""
        predicate = (lambda request: match in request.prompt) if isinstance(match, str) else match
        self._rules.append(_Rule(predicate, script))

    def set_status(
        self,
        task_id: str,
        status: TaskStatus,
        *,
        message: str | None = None,
        assets: dict[str, Any] | None = None,
        raw_result_assets_json: str | None = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        """Move a task by hand, now; its script stops."""
        self.tasks[task_id].move_to(
            status,
            message or f"moved to {status.name.lower()}",
            assets=assets,
            raw_result_assets_json=raw_result_assets_json,
            error=error,
        )

    def override_task_fields(self, task_id: str, **fields: object) -> None:
        """Force raw fields into the task's GET answers, e.g. `status=42` or `created_at="garbage"`."""
        self.tasks[task_id].api_overrides.update(fields)

    def fail_next(
        self, n: int = 1, status: int = 503, *, kind: str | None = None, method: str | None = None
    ) -> None:
        self.faults.add(Fault(FaultAction.FAIL, n, kind, method, status=status))

    def rate_limit_next(
        self,
        n: int = 1,
        retry_after: float | None = 1.0,
        *,
        kind: str | None = None,
        method: str | None = None,
    ) -> None:
        self.faults.add(Fault(FaultAction.RATE_LIMIT, n, kind, method, status=429, retry_after=retry_after))

    def slow_next(
        self, n: int = 1, delay: float = 1.0, *, kind: str | None = None, method: str | None = None
    ) -> None:
        self.faults.add(Fault(FaultAction.SLOW, n, kind, method, delay=delay))

    def malformed_next(self, n: int = 1, *, kind: str | None = None, method: str | None = None) -> None:
        self.faults.add(Fault(FaultAction.MALFORMED, n, kind, method, status=200))

    def before_next(self, kind: str, action: Callable[[], None]) -> None:
        """Run `action` when the next `kind` request arrives, before it is processed (e.g. let a task
        finish just as a cancel for it comes in)."""
        self._before.setdefault(kind, []).append(action)

    def hold(self, kind: str) -> Hold:
        """Hold answers to `kind` requests (already processed) until the returned hold is released;
        "asset" holds result files (those not streamed with `chunked`)."""
        held = Hold(kind)
        self._holds.append(held)
        return held

    def requests_of(self, kind: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if kind is None or r.kind == kind]

    async def wait_for_request(
        self, kind: str | None = None, count: int = 1, within: float = 5.0
    ) -> list[RecordedRequest]:
        """Wait until at least `count` requests of `kind` (any kind if None) have arrived."""
        async with asyncio.timeout(within), self._request_seen:
            await self._request_seen.wait_for(lambda: len(self.requests_of(kind)) >= count)
        return self.requests_of(kind)

    async def wait_for_tasks(self, count: int, within: float = 5.0) -> None:
        async with asyncio.timeout(within), self._request_seen:
            await self._request_seen.wait_for(lambda: len(self.tasks) >= count)

    def completion_time(self, task_id: str) -> float | None:
        """time.monotonic() at which the task reached a terminal status, or None if it has not."""
        return self.tasks[task_id].completed_monotonic()

    # ------------------------------------------------------------------------------- pipeline

    @web.middleware
    async def _pipeline(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        route_name = request.match_info.route.name
        if route_name == "asset":
            self.asset_requests.append(await self._record(request, "asset", keep=False))
            asset: web.StreamResponse = await handler(request)
            await self._wait_for_holds("asset")  # a streamed file was sent already: holds are for others
            return asset
        if route_name == "control":
            response: web.StreamResponse = await handler(request)
            return response
        record = await self._record(request, route_name or "other")
        response = await self._answer(request, handler, record)
        record.status = response.status
        return response

    async def _record(self, request: web.Request, kind: str, *, keep: bool = True) -> RecordedRequest:
        body: Any = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                body = None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            raw_path=request.raw_path,
            kind=kind,
            query=dict(request.query),
            json_body=body,
            headers=dict(request.headers),
            received_at=time.monotonic(),
        )
        if not keep:
            return record
        self.requests.append(record)
        if self.max_rps is not None:
            self._arrivals.append(record.received_at)
        request[_JSON_BODY] = body
        async with self._request_seen:
            self._request_seen.notify_all()
        return record

    async def _answer(
        self, request: web.Request, handler: Callable[[web.Request], Any], record: RecordedRequest
    ) -> web.StreamResponse:
        if self.max_rps is not None:
            window_start = record.received_at - 1.0
            while self._arrivals and self._arrivals[0] <= window_start:
                self._arrivals.popleft()
            if len(self._arrivals) > self.max_rps:
                wait = max(1, math.ceil(self._arrivals[0] + 1.0 - record.received_at))
                return _error(429, "rate_limited", "too many requests", {"Retry-After": str(wait)})
        waiting = self._before.get(record.kind)
        if waiting:
            waiting.pop(0)()
        early = self.faults.take(record.method, record.kind, before_processing=True)
        if early is not None and early.action is FaultAction.RATE_LIMIT:
            headers = {} if early.retry_after is None else {"Retry-After": _format_seconds(early.retry_after)}
            return _error(429, "rate_limited", "too many requests", headers)
        if early is not None:
            return _error(early.status, "upstream_unavailable", f"injected HTTP {early.status}")
        if not self._authorized(request.headers.get("Authorization", "")):
            return _error(401, "invalid_api_key", "missing or invalid API key")
        response: web.StreamResponse = await handler(request)
        late = self.faults.take(record.method, record.kind, before_processing=False)
        await self._wait_for_holds(record.kind)
        if late is not None and late.action is FaultAction.SLOW:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=late.delay)
        if late is not None and late.action is FaultAction.MALFORMED:
            return web.Response(status=200, text='{"task_id": <html>oops', content_type="application/json")
        return response

    async def _wait_for_holds(self, kind: str) -> None:
        for held in [h for h in self._holds if h.kind == kind and not h.released]:
            await held.note_held()
            await held.wait_released()

    def _authorized(self, header: str) -> bool:
        if self.api_key is None:
            return header.startswith("Bearer ") and bool(header.removeprefix("Bearer ").strip())
        return header == f"Bearer {self.api_key}"

    # ------------------------------------------------------------------------------- handlers

    async def _create(self, request: web.Request) -> web.Response:
        body = request[_JSON_BODY]
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "body must be a JSON object")
        raw_type, model, prompt = body.get("task_type"), body.get("public_model"), body.get("prompt")
        if not isinstance(raw_type, str) or raw_type not in ALL_TYPES or raw_type not in self.enabled_types:
            return _error(422, "task_type_not_enabled", f"task type {raw_type!r} is not enabled")
        if model is not None and not isinstance(model, str):
            return _error(400, "invalid_request", "public_model must be a string")
        if self.models and model not in self.models:
            return _error(400, "model_not_found", f"model {model!r} not found")
        if not isinstance(prompt, str):
            return _error(400, "invalid_request", "prompt must be a string")
        key = body.get("idempotency_key")
        if key is not None and not isinstance(key, str):
            return _error(400, "invalid_request", "idempotency_key must be a string")
        if key and key in self.tasks_by_key:
            task = self.tasks_by_key[key]
        else:
            create = CreateRequest(
                TaskType.parse(raw_type),
                model,
                prompt,
                key,
                body.get("input_assets_json"),
                body.get("metadata_json"),
            )
            task = self._new_task(create)
        answer = {"task_id": task.task_id, "status": int(task.status()), "request_id": task.request_id}
        answer["hold_id"] = task.hold_id
        return web.json_response(answer, status=202)

    def _new_task(self, create: CreateRequest) -> FakeTask:
        source = next((rule.script for rule in self._rules if rule.matches(create)), self.default_script)
        script = source if isinstance(source, Script) else source(create)
        task_id = str(uuid.uuid4())
        task = FakeTask(
            task_id=task_id,
            task_type=create.task_type,
            public_model=create.public_model,
            prompt=create.prompt,
            idempotency_key=create.idempotency_key,
            input_assets=create.input_assets,
            metadata=create.metadata,
            script=script,
            created_monotonic=time.monotonic(),
            created_wall=datetime.now(UTC),
            request_id=f"req_{uuid.uuid4().hex[:16]}",
            hold_id=f"hold_{uuid.uuid4().hex[:16]}",
        )
        self.tasks[task_id] = task
        if create.idempotency_key:
            self.tasks_by_key[create.idempotency_key] = task
        return task

    def _task_or_404(self, request: web.Request) -> FakeTask | web.Response:
        task = self.tasks.get(request.match_info["task_id"])
        return task if task is not None else _error(404, "task_not_found", "task not found")

    async def _get(self, request: web.Request) -> web.Response:
        task = self._task_or_404(request)
        return task if isinstance(task, web.Response) else web.json_response(task.to_api())

    async def _events(self, request: web.Request) -> web.Response:
        task = self._task_or_404(request)
        if isinstance(task, web.Response):
            return task
        try:
            limit = int(request.query.get("limit", "50"))
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            return _error(400, "invalid_request", "limit and offset must be integers")
        if limit < 0 or offset < 0:
            return _error(400, "invalid_request", "limit and offset must not be negative")
        return web.json_response({"task_events": task.events_to_api()[offset : offset + limit]})

    async def _cancel(self, request: web.Request) -> web.Response:
        task = self._task_or_404(request)
        if isinstance(task, web.Response):
            return task
        if task.status().is_terminal:
            return _error(409, "task_already_finished", "task already reached a terminal status")
        if task.cancel_reason is not None:  # accepted earlier, still taking effect (cancel_delay)
            return _error(409, "cancel_in_progress", "a cancel of this task is already in progress")
        body = request[_JSON_BODY]
        reason = body.get("reason") if isinstance(body, dict) else None
        task.cancel_reason = reason if isinstance(reason, str) else ""
        task.move_at(
            time.monotonic() + self.cancel_delay, TaskStatus.CANCELLED, f"cancelled: {task.cancel_reason}"
        )
        return web.json_response({"task_id": task.task_id, "status": int(task.status())})

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        """A result file, as a CDN would serve it (see assets.serve_asset); no credential needed."""
        return await serve_asset(request, self._stopping)

    def asset_url(
        self,
        name: str,
        *,
        size: int | None = None,
        delay: float | None = None,
        content_type: str | None = None,
        status: int | None = None,
        chunked: bool = False,
    ) -> str:
        """The URL of the result file `name` (`*.png`, `*.mp4`) on this gateway: `size` pads it to that
        many bytes, `delay` answers after that many seconds, `content_type` replaces its Content-Type,
        `status` answers that status without the file, `chunked` streams it without a Content-Length."""
        query = asset_query(size=size, delay=delay, content_type=content_type, status=status, chunked=chunked)
        return f"{self.base_url}/_fake/assets/{name}{query}"

    # ---------------------------------------------------------------------------------- stats

    def stats(self, *, include_tasks: bool = True) -> dict[str, Any]:
        """What happened, for benchmarks: request rates (at arrival) and per-task completion times."""
        return summarize(self.requests, self.tasks, include_tasks=include_tasks)

    async def _stats_endpoint(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats(include_tasks=request.query.get("tasks") != "0"))

"""HTTP plumbing of the fake Discord: route table, body parsing, auth, rate limits, call recording."""

from __future__ import annotations

import json
import math
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from tests.fakes.discord_faults import ABORTED, Fault, reset_connection
from tests.fakes.discord_model import RecordedCall, UploadedFile

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord


class ApiError(Exception):
    """Raised by a handler to answer with a Discord JSON error."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def json_reply(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON answer with Content-Type exactly `application/json`: discord.py's json_or_text compares the
    header verbatim, so aiohttp's default `; charset=utf-8` would make it see a plain string."""
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers=headers, content_type="application/json"
    )


def invalid_form(errors: dict[str, Any]) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors)


UNKNOWN_MESSAGE = (404, 10008, "Unknown Message")


@dataclass
class ApiRequest:
    method: str
    path: str
    params: dict[str, str]  # regex groups of the route
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    headers: dict[str, str]


Handler = Callable[[ApiRequest], Awaitable[tuple[int, Any]]]


@dataclass
class RouteSpec:
    method: str
    pattern: re.Pattern[str]
    kind: str
    handler: Handler
    needs_auth: bool
    bucket_param: str | None  # which path parameter keys the bucket ("channel_id", "token")


@dataclass
class Bucket:
    limit: int
    per: float
    used: int = 0
    reset_at: float = 0.0

    def take(self, now: float) -> float | None:
        """Count one request; return the retry_after when the bucket is already empty."""
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + self.per
        if self.used >= self.limit:
            return self.reset_at - now
        self.used += 1
        return None


@dataclass
class ForcedLimit:
    remaining: int
    retry_after: float
    via: bool


@dataclass
class RateLimits:
    """Buckets the fake enforces, forced one-off 429s and the count of 429s sent."""

    per_kind_config: dict[str, tuple[int, float]] = field(default_factory=dict)
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    forced: dict[str, list[ForcedLimit]] = field(default_factory=dict)
    sent_429: int = 0
    sent_429_by_kind: dict[str, int] = field(default_factory=dict)

    def bucket_for(self, kind: str, major: str) -> Bucket | None:
        config = self.per_kind_config.get(kind)
        if config is None:
            return None
        key = (kind, major)
        if key not in self.buckets:
            self.buckets[key] = Bucket(limit=config[0], per=config[1])
        return self.buckets[key]


def ratelimit_headers(kind: str, bucket: Bucket | None, now: float) -> dict[str, str]:
    if bucket is None:
        limit, remaining, reset_after = 50, 49, 1.0
    else:
        limit, remaining, reset_after = (
            bucket.limit,
            bucket.limit - bucket.used,
            max(bucket.reset_at - now, 0),
        )
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(remaining, 0)),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": f"fake-{kind}",
    }


def injected_answer(fault: Fault) -> web.Response:
    """The answer of an armed failure (a reset connection gets a placeholder that is never sent)."""
    if fault.status is None:
        return web.Response(status=500)
    return json_reply({"code": fault.code, "message": fault.message}, status=fault.status)


def too_many_requests(kind: str, retry_after: float, *, via: bool, limit: int) -> web.Response:
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": f"fake-{kind}",
        "X-RateLimit-Global": "false",
        "X-RateLimit-Scope": "user",
        "Retry-After": str(math.ceil(retry_after)),
    }
    if via:
        # discord.py only retries a 429 carrying Via; without it the 429 is taken for a Cloudflare ban.
        headers["Via"] = "1.1 google"
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
    return json_reply(body, status=429, headers=headers)


async def parse_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    """JSON body or multipart (payload_json + files[n]); returns (json, uploaded files)."""
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[UploadedFile] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            else:
                data = bytes(await part.read())
                filename = part.filename or part.name or "file"
                files.append(UploadedFile(_file_index(part.name, len(files)), filename, _type_of(part), data))
        return payload, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


def _file_index(name: str | None, fallback: int) -> int:
    """n of a `files[n]` part, which the payload's `attachments` entries name as their id."""
    found = re.fullmatch(r"files\[(\d+)\]", name or "")
    return int(found.group(1)) if found else fallback


def _type_of(part: BodyPartReader) -> str | None:
    """The type Discord reports for an upload: the part's own, else guessed from its name (discord.py
    sends every file as application/octet-stream)."""
    declared = (part.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(part.filename or "")
    return guessed or (declared or None)


class HttpFrontend:
    """Routes every /api/v10 request, enforcing auth and rate limits and recording the call."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.routes: list[RouteSpec] = []

    def add(
        self,
        method: str,
        path: str,
        kind: str,
        handler: Handler,
        *,
        auth: bool = True,
        bucket: str | None = None,
    ) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
        self.routes.append(RouteSpec(method, re.compile(f"^{regex}$"), kind, handler, auth, bucket))

    def _match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        for spec in self.routes:
            found = spec.pattern.match(path)
            if found and spec.method == method:
                return spec, found.groupdict()
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        started = time.monotonic()
        body, files = await parse_body(request)
        matched = self._match(request.method, path)
        kind = matched[0].kind if matched else "unknown"
        faults = self.fake.faults
        fault = faults.take(kind, request.method, path) if matched else None
        if fault is None or (fault.aborts and fault.after_processing):
            response = await self._answer(request, path, body, files, matched)
        else:
            response = injected_answer(fault)
        self.fake.calls.append(
            RecordedCall(
                method=request.method,
                path=path,
                kind=kind,
                json=body,
                headers=dict(request.headers),
                status=ABORTED if fault is not None and fault.aborts else response.status,
                time=started,
                query=dict(request.query),
                files=[upload.filename for upload in files],
                uploads=files,
            )
        )
        if fault is not None and fault.aborts:
            reset_connection(request)
            return response  # never written: the connection is gone
        hold = faults.hold_for(kind, request.method, path)
        if hold is not None:
            await hold.wait()
        return response

    async def _answer(
        self,
        request: web.Request,
        path: str,
        body: Any,
        files: list[UploadedFile],
        matched: tuple[RouteSpec, dict[str, str]] | None,
    ) -> web.StreamResponse:
        if matched is None:
            return json_reply({"message": "404: Not Found", "code": 0}, status=404)
        spec, params = matched
        if spec.needs_auth and request.headers.get("Authorization") != f"Bot {self.fake.token}":
            return json_reply({"message": "401: Unauthorized", "code": 0}, status=401)
        limits = self.fake.rate_limits
        now = time.monotonic()
        forced = limits.forced.get(spec.kind)
        bucket = (
            limits.bucket_for(spec.kind, params.get(spec.bucket_param or "", ""))
            if spec.bucket_param
            else None
        )
        if forced:
            first = forced[0]
            first.remaining -= 1
            if first.remaining <= 0:
                forced.pop(0)
            return self._count_429(
                spec.kind, too_many_requests(spec.kind, first.retry_after, via=first.via, limit=1)
            )
        if bucket is not None:
            retry_after = bucket.take(now)
            if retry_after is not None:
                return self._count_429(
                    spec.kind, too_many_requests(spec.kind, retry_after, via=True, limit=bucket.limit)
                )
        api_request = ApiRequest(
            method=request.method,
            path=path,
            params=params,
            query=dict(request.query),
            json=body,
            files=files,
            headers=dict(request.headers),
        )
        headers = ratelimit_headers(spec.kind, bucket, now)
        try:
            status, result = await spec.handler(api_request)
        except ApiError as error:
            return json_reply(error.body(), status=error.status, headers=headers)
        if status == 204:
            return web.Response(status=204, headers=headers)
        return json_reply(result, status=status, headers=headers)

    def _count_429(self, kind: str, response: web.Response) -> web.Response:
        limits = self.fake.rate_limits
        limits.sent_429 += 1
        limits.sent_429_by_kind[kind] = limits.sent_429_by_kind.get(kind, 0) + 1
        return response

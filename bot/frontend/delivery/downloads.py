"""Downloading a result file to re-host it on Discord.

The download has an httpx client of its own that carries no credential: the gateway's client sends
the API key with every request, and a result URL may name any host. Only http(s) is fetched, the
whole download has a time-out, the body is streamed and cut off past the upload limit that applies,
and only an image or a video is kept. Every refusal is a `DownloadRefusedError` whose note tells the
user, in a few words, why the result stays a link.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import tempfile
from types import TracebackType
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

import discord
import httpx

from bot import rendering

if TYPE_CHECKING:
    from bot.engine.store.interface import TaskRecord

# Discord's upload limit per file without boosts (since 2025-01): used when a task has no limit stored.
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
# A downloaded file larger than this waits on disk rather than in memory (limits reach 100 MiB).
SPOOL_IN_MEMORY = 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "mindproxy-discord-bot/0.1 (result re-hosting)"
_MEDIA_TYPES = ("image/", "video/")
# Extensions Discord recognises to show a file inline (image) or play it (video).
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


class DownloadRefusedError(Exception):
    """The file is not re-hosted; `note` is what the user reads, `detail` what the log says."""

    def __init__(self, note: str, detail: str) -> None:
        super().__init__(detail)
        self.note = note
        self.detail = detail


class DownloadedFile:
    """A downloaded result file (in memory, or on disk when large); close it when done."""

    def __init__(self, filename: str, content_type: str, spool: tempfile.SpooledTemporaryFile[bytes]) -> None:
        self.filename = filename
        self.content_type = content_type
        self._spool = spool
        self.size = spool.tell()

    def read(self) -> bytes:
        self._spool.seek(0)
        return self._spool.read()

    def discord_file(self) -> discord.File:
        """A fresh `discord.File` over the same bytes, for one upload (each attempt needs its own)."""
        self._spool.seek(0)
        return discord.File(self._spool, filename=self.filename)  # type: ignore[arg-type]  # an IOBase

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def asset_http_client(*, timeout: float) -> httpx.AsyncClient:
    """The client for result files: no Authorization, no API key, no cookies kept between hosts that
    matter (each download is one GET); redirects followed, as CDNs use them, a few at most."""
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
    )


def upload_limit_of(record: TaskRecord) -> int:
    """The largest file Discord takes for this task: the limit stored with the request, else 10 MiB."""
    return record.upload_limit or DEFAULT_UPLOAD_LIMIT


class AssetDownloader:
    def __init__(self, http: httpx.AsyncClient, *, timeout: float) -> None:
        self._http = http
        self._timeout = timeout

    async def download(self, url: str, *, limit: int, stem: str) -> DownloadedFile:
        """The image or video at `url`, at most `limit` bytes, named `<stem>.<ext>`; raises
        `DownloadRefusedError` for anything else (not http(s), a failure, too large, too slow, not media)."""
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise DownloadRefusedError(
                rendering.media_note_download_failed("not an http(s) link"), "not an http(s) URL"
            )
        # Handed over to the DownloadedFile, which closes it; closed here if the download fails.
        spool: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=SPOOL_IN_MEMORY
        )
        try:
            async with asyncio.timeout(self._timeout):
                content_type = await self._fetch(url, limit, spool)
        except BaseException as error:
            spool.close()
            refusal = _refusal(error, self._timeout)
            if refusal is None or refusal is error:
                raise
            raise refusal from error
        return DownloadedFile(_filename(stem, content_type, url), content_type, spool)

    async def _fetch(self, url: str, limit: int, spool: tempfile.SpooledTemporaryFile[bytes]) -> str:
        async with self._http.stream("GET", url) as response:
            if response.status_code != 200:
                raise DownloadRefusedError(
                    rendering.media_note_download_failed(f"HTTP {response.status_code}"),
                    f"answered HTTP {response.status_code}",
                )
            content_type = str(response.headers.get("Content-Type", "")).split(";")[0].strip().lower()
            if not content_type.startswith(_MEDIA_TYPES):
                raise DownloadRefusedError(
                    rendering.media_note_not_media(content_type or "no type"), f"type {content_type!r}"
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit, f"Content-Length {declared} over the limit {limit}")
            received = 0
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > limit:  # a missing or false Content-Length: stop reading right here
                    raise _too_large(limit, f"more than the limit {limit} bytes streamed")
                spool.write(chunk)
        return content_type


def _too_large(limit: int, detail: str) -> DownloadRefusedError:
    return DownloadRefusedError(rendering.media_note_too_large(limit), detail)


def _refusal(error: BaseException, timeout: float) -> DownloadRefusedError | None:
    """What a failed download is to the user: a refusal with its note; None when the error is not
    about the download (a cancellation, a bug), which goes on as it is."""
    if isinstance(error, DownloadRefusedError):
        return error
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return DownloadRefusedError(rendering.media_note_too_slow(timeout), f"no file within {timeout:g} s")
    if isinstance(error, httpx.HTTPError | httpx.InvalidURL):
        # Only the type: an error's text can carry the URL, and with it a signed query string.
        name = type(error).__name__
        return DownloadRefusedError(rendering.media_note_download_failed(name), name)
    return None


def _filename(stem: str, content_type: str, url: str) -> str:
    """`<stem>.<ext>`: the extension of the type (Discord decides how to show a file by it)."""
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type)
    if extension is None:
        suffix = urlsplit(url).path.rpartition(".")[2].lower()
        extension = f".{suffix}" if suffix.isalnum() and len(suffix) <= 5 else ".bin"
    safe_stem = _UNSAFE_NAME.sub("-", stem).strip("-")[:64] or "result"
    return safe_stem + extension

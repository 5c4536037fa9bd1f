"""The image a new task would start from: which one, and whether it can still be downloaded.

The check goes through its own httpx client, which carries no credentials: the gateway's client sends
the API key on every request, and a result or attachment link may name any host.
"""

from __future__ import annotations

import asyncio
import logging

import discord
import httpx

from bot.engine.store.interface import TaskRecord

log = logging.getLogger(__name__)

# Discord allows 3 s for the first answer, and the row and the status message still follow the check.
CHECK_TIMEOUT = 1.5
# A CDN may answer with a generic binary type; an HTML page (an error page served with 200) is no image.
IMAGE_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")


def _is_web_link(url: str | None) -> bool:
    return url is not None and url.lower().startswith(("https://", "http://"))


def result_image_url(record: TaskRecord, clicked: discord.Message | None) -> str | None:
    """The result's image as the clicked message carries it now, else the gateway's link.

    Discord signs attachment links afresh each time it hands out a message, so the link in the
    click's own copy of the message is the freshest there is. The status message carries the
    re-hosted file as an attachment; a copy shown by /show carries it in its embed.
    """
    if clicked is not None:
        for attachment in clicked.attachments:
            if record.media_filename is not None and attachment.filename == record.media_filename:
                return attachment.url
        for embed in clicked.embeds:
            if _is_web_link(embed.image.url):
                return embed.image.url
    return record.result.image_url if record.result is not None else None


class ReferenceChecker:
    """Asks the host of an image whether it still serves it, reading no more than the answer's head."""

    def __init__(self, *, timeout: float = CHECK_TIMEOUT) -> None:
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=3,
            headers={"User-Agent": "MindProxyDiscordBot (reference check)"},
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def problem_with(self, url: str) -> str | None:
        """Why the image at `url` cannot be used, in words for the user; None when it can, or when its
        host did not answer in time (slow is not gone: the gateway then reports what it finds)."""
        if not _is_web_link(url):
            return "its link is not a web address"
        try:
            # httpx's time-out applies to each phase (connect, read...); this one bounds them together.
            async with asyncio.timeout(self._timeout):
                # A GET, not a HEAD: signed links (S3, CDNs) are often signed for GET only. Only the
                # status and the headers are read; leaving the block closes the stream.
                async with self._http.stream("GET", url, headers={"Range": "bytes=0-0"}) as answer:
                    status, content_type = answer.status_code, answer.headers.get("content-type", "")
        except (TimeoutError, httpx.TimeoutException):
            log.info("reference check of %s timed out; letting the gateway try", _host(url))
            return None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            log.info("reference check of %s failed: %s", _host(url), type(error).__name__)
            return "its host could not be reached"
        if status >= 400:
            return f"its host answered {status}"
        if content_type and not content_type.lower().startswith(IMAGE_TYPES):
            return "it is no longer an image"
        return None


def _host(url: str) -> str:
    """Only the host goes to the log: a signed link's query is a credential of sorts."""
    try:
        return httpx.URL(url).host or "?"
    except httpx.InvalidURL:
        return "?"

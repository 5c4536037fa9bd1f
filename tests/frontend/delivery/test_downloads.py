"""Downloading a result file to re-host it: real httpx against the fake gateway's file host over HTTP.

Only images and videos, within the upload limit and a time-out, and never with a credential."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from bot.frontend.delivery.downloads import (
    DEFAULT_UPLOAD_LIMIT,
    AssetDownloader,
    DownloadRefusedError,
    asset_http_client,
    upload_limit_of,
)
from bot.testing.fake_gateway.assets import placeholder_mp4, placeholder_png
from bot.testing.fake_gateway.server import FakeGateway
from tests.rendering.support import image_done

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def downloader() -> AsyncIterator[AssetDownloader]:
    async with asset_http_client(timeout=0.5) as http:
        yield AssetDownloader(http, timeout=0.5)


async def test_an_image_arrives_whole_with_its_type_and_a_name_of_its_own(
    fake_gateway: FakeGateway, downloader: AssetDownloader, gateway_api_key: str
) -> None:
    with await downloader.download(fake_gateway.asset_url("any.png"), limit=1024**2, stem="f47ac10b") as file:
        assert (file.filename, file.content_type) == ("f47ac10b.png", "image/png")
        assert file.read() == placeholder_png()
        assert file.size == len(placeholder_png())
    with await downloader.download(fake_gateway.asset_url("clip.mp4"), limit=1024**2, stem="t") as video:
        assert (video.filename, video.content_type, video.read()) == ("t.mp4", "video/mp4", placeholder_mp4())
    for request in fake_gateway.asset_requests:
        assert "authorization" not in {name.lower() for name in request.headers}
        assert all(gateway_api_key not in value for value in request.headers.values())


@pytest.mark.parametrize("chunked", [False, True], ids=["with a length", "streamed"])
async def test_a_file_over_the_limit_is_refused(
    fake_gateway: FakeGateway, downloader: AssetDownloader, chunked: bool
) -> None:
    url = fake_gateway.asset_url("big.png", size=200_001, chunked=chunked)
    with pytest.raises(DownloadRefusedError) as refused:
        await downloader.download(url, limit=200_000, stem="k")
    assert "larger than this server's 195 KB upload limit" in refused.value.note
    with await downloader.download(url, limit=200_001, stem="k") as fits:
        assert fits.size == 200_001


async def test_a_missing_file_a_page_and_a_slow_file_are_refused_with_their_reason(
    fake_gateway: FakeGateway, downloader: AssetDownloader
) -> None:
    cases = {
        fake_gateway.asset_url("gone.png", status=404): "`HTTP 404`",
        fake_gateway.asset_url("page.png", content_type="text/html; charset=utf-8"): "`text/html`",
        fake_gateway.asset_url("slow.png", delay=5): "longer than 0.5 s",
    }
    started = asyncio.get_running_loop().time()
    for url, reason in cases.items():
        with pytest.raises(DownloadRefusedError) as refused:
            await downloader.download(url, limit=DEFAULT_UPLOAD_LIMIT, stem="k")
        assert reason in refused.value.note
    assert asyncio.get_running_loop().time() - started < 3


async def test_only_http_and_https_are_fetched_and_a_dead_host_is_a_failed_download(
    fake_gateway: FakeGateway, downloader: AssetDownloader
) -> None:
    for url in ("file:///etc/passwd", "ftp://files.example/x.png", "not a url"):
        with pytest.raises(DownloadRefusedError) as refused:
            await downloader.download(url, limit=DEFAULT_UPLOAD_LIMIT, stem="k")
        assert "could not be downloaded" in refused.value.note
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(DownloadRefusedError) as refused:
        await downloader.download(f"http://127.0.0.1:{port}/x.png", limit=DEFAULT_UPLOAD_LIMIT, stem="k")
    assert "could not be downloaded (`ConnectError`)" in refused.value.note
    assert fake_gateway.asset_requests == []


def test_the_limit_is_the_one_stored_with_the_request_else_10_mib() -> None:
    assert upload_limit_of(image_done(upload_limit=50 * 1024 * 1024)) == 50 * 1024 * 1024
    assert upload_limit_of(image_done()) == DEFAULT_UPLOAD_LIMIT == 10 * 1024 * 1024


async def test_a_file_of_several_mebibytes_arrives_whole_and_uploads_from_where_it_waits(
    fake_gateway: FakeGateway, downloader: AssetDownloader
) -> None:
    size = 3 * 1024 * 1024  # above the part kept in memory: it waits in a temporary file
    url = fake_gateway.asset_url("large.png", size=size, chunked=True)
    with await downloader.download(url, limit=4 * 1024 * 1024, stem="k") as file:
        expected = placeholder_png() + bytes(size - len(placeholder_png()))
        assert file.read() == expected
        for _ in range(2):  # every attempt of an upload gets a fresh discord.File over the same bytes
            upload = file.discord_file()
            assert (upload.filename, upload.fp.read()) == ("k.png", expected)
            upload.close()

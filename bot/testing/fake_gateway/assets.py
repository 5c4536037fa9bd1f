"""Result files the simulated gateway serves: real bytes, made here, so no binary lives in the repo."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import zlib
from urllib.parse import urlencode

from aiohttp import web

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ASSET_CHUNK = 64 * 1024  # a streamed result file is written in pieces of this size


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def placeholder_png(width: int = 64, height: int = 64) -> bytes:
    """A small, valid RGB PNG: a diagonal gradient, so it is visibly a picture."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "none" for this scanline
        for x in range(width):
            rows += bytes((x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), 160))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def placeholder_mp4() -> bytes:
    """The start of an MP4 file (an `ftyp` box and an empty `mdat`): typed right, not playable."""
    brands = b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41"
    ftyp = struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands
    mdat = struct.pack(">I", 8) + b"mdat"
    return ftyp + mdat


def asset_body(name: str, size: int | None = None) -> tuple[bytes, str] | None:
    """The bytes and type of the result file `name` (`*.png` or `*.mp4`), padded with zeros to `size`
    bytes when given (a large file that still starts like one of its type); None for any other name."""
    if name.endswith(".png"):
        body, content_type = placeholder_png(), "image/png"
    elif name.endswith(".mp4"):
        body, content_type = placeholder_mp4(), "video/mp4"
    else:
        return None
    if size is not None and size > len(body):
        body += bytes(size - len(body))
    return body, content_type


def asset_query(
    *,
    size: int | None = None,
    delay: float | None = None,
    content_type: str | None = None,
    status: int | None = None,
    chunked: bool = False,
) -> str:
    """The query string `serve_asset` reads ("" when nothing is asked for)."""
    query = {
        "bytes": size,
        "delay": delay,
        "type": content_type,
        "status": status,
        "chunked": 1 if chunked else None,
    }
    given = {key: str(value) for key, value in query.items() if value is not None}
    return f"?{urlencode(given)}" if given else ""


async def serve_asset(request: web.Request, stopping: asyncio.Event) -> web.StreamResponse:
    """The result file named in the path (see `asset_body`), shaped by the query (see `asset_query`):
    padded to `bytes`, answered after `delay` seconds (or as soon as the server stops), with `type` as
    its Content-Type, as `status` without the file, or streamed without a Content-Length (`chunked`)."""
    try:
        size = _optional_int(request.query.get("bytes"))
        status = _optional_int(request.query.get("status"))
        delay = float(request.query.get("delay", "0"))
    except ValueError:
        return web.Response(status=400, text="bytes, status and delay must be numbers")
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=delay)
    found = asset_body(request.match_info["name"], size)
    if status is not None and status != 200:
        return web.Response(status=status, text="asset refused")
    if found is None:
        return web.Response(status=404, text="no such asset")
    body, content_type = found
    content_type = request.query.get("type", content_type)
    if request.query.get("chunked") != "1":
        return web.Response(body=body, headers={"Content-Type": content_type})
    streamed = web.StreamResponse(headers={"Content-Type": content_type})
    streamed.enable_chunked_encoding()
    await streamed.prepare(request)
    for start in range(0, len(body), ASSET_CHUNK):
        await streamed.write(body[start : start + ASSET_CHUNK])
    await streamed.write_eof()
    return streamed


def _optional_int(raw: str | None) -> int | None:
    return None if raw is None else int(raw)

"""Discord's CDN in the fake: attachment links signed afresh each time a message is read, that serve
the file while its message exists and stop working once expired.

A message object carries `url`s like Discord's (`…/attachments/{channel}/{message}/{name}?ex=&is=&hm=`),
pointing at the fake's own server, so code that downloads or checks an attachment is tested for real.
It serves the bytes that were uploaded with the message.
"""

from __future__ import annotations

import itertools
import mimetypes
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.discord_model import FakeMessage

LINK_LIFETIME = 24 * 3600  # Discord's signed links last about a day


@dataclass(frozen=True, slots=True)
class CdnRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int


class FakeCdn:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.requests: list[CdnRequest] = []
        self._signatures = itertools.count(1)
        self._expired_up_to = 0  # links signed with a serial up to this one are expired

    def route(self, app: web.Application) -> None:
        app.router.add_get("/cdn/attachments/{channel_id}/{message_id}/{filename}", self.handle)

    def url(self, message: FakeMessage, filename: str) -> str:
        """A freshly signed link to one of the message's files, as Discord puts in a message object."""
        issued = int(time.time())
        serial = next(self._signatures)
        return (
            f"http://127.0.0.1:{self.fake.port}/cdn/attachments/{message.channel_id}/{message.id}/{filename}"
            f"?ex={issued + LINK_LIFETIME:x}&is={issued:x}&hm={serial:064x}"
        )

    def expire_links(self) -> None:
        """Every link handed out so far stops working (as after a day); messages read later carry new ones."""
        self._expired_up_to = next(self._signatures)

    async def handle(self, request: web.Request) -> web.Response:
        response = self._answer(request)
        self.requests.append(CdnRequest(request.method, request.path, dict(request.headers), response.status))
        return response

    def _answer(self, request: web.Request) -> web.Response:
        try:
            message = self.fake.messages_by_id.get(int(request.match_info["message_id"]))
            serial = int(request.query.get("hm", "0"), 16)
        except ValueError:
            message, serial = None, 0
        filename = request.match_info["filename"]
        stored = None
        if message is not None and str(message.channel_id) == request.match_info["channel_id"]:
            stored = next((file for file in message.current.files if file.filename == filename), None)
        if stored is None or message is None or message.deleted or serial <= self._expired_up_to:
            return web.Response(status=404, text="This content is no longer available.")
        content_type = stored.content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)

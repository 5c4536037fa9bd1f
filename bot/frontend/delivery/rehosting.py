"""Re-hosting a finished task's result file on Discord, so the result stays visible after the
generation service's link has expired (Discord keeps its own attachment links fresh).

The final status and the reply go out first, as always; the file follows in a background job, a few
at a time: the download (downloads.py), then an edit of the status message that carries the file and
shows it through `attachment://` (a video is attached, and Discord plays it). The store says where
each file is: "pending" from before the download, so a restart resumes it; then "attached", or
"skipped" with a note when the result stays a link. When the status message can no longer be edited,
the file is posted once as a message of its own (with a fixed nonce), never as a second final message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import aiohttp
import discord
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot import rendering
from bot.background import create_task
from bot.engine.api.models import TaskStatus
from bot.frontend.delivery.downloads import DownloadRefusedError, upload_limit_of
from bot.frontend.delivery.failures import bot_token_refused, describe_failure, file_refused, may_pass
from bot.frontend.delivery.task_state import MessageState

if TYPE_CHECKING:
    from bot.engine.store.interface import TaskRecord
    from bot.engine.task_engine import TaskEngine
    from bot.frontend.delivery.downloads import AssetDownloader, DownloadedFile
    from bot.frontend.delivery.result_posts import ResultPoster
    from bot.frontend.delivery.status_edits import StatusEditor

log = logging.getLogger(__name__)

JOBS_AT_ONCE = 3  # downloads and uploads in flight together (each file may be up to 100 MiB)
RESUME_LIMIT = 1000  # pending files resumed at a start (more wait for the next one)
SHOW_ATTEMPTS = 3  # tries to hand the file to Discord when it answers 429/5xx or not at all
FILE_POSTED_NOTE = "posted as a message of its own: the status message could not be edited"
_NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


def _may_pass(error: BaseException) -> bool:
    """Worth another try: no answer at all, a rate limit, a server error, a refused bot token."""
    if isinstance(error, discord.HTTPException):
        return may_pass(error) or bot_token_refused(error)
    return isinstance(error, _NETWORK_ERRORS)


class MediaRehoster:
    def __init__(
        self,
        engine: TaskEngine,
        editor: StatusEditor,
        poster: ResultPoster,
        downloader: AssetDownloader | None,
        *,
        min_edit_interval: float = 0.0,
        jobs_at_once: int = JOBS_AT_ONCE,
        retry_wait: float = 1.0,
    ) -> None:
        self._engine = engine
        self._min_edit_interval = min_edit_interval
        self._editor = editor
        self._poster = poster
        self._downloader = downloader  # None: files are not re-hosted (e.g. `python -m bot sync`)
        self._retry_wait = retry_wait
        self._slots = asyncio.Semaphore(jobs_at_once)
        self._jobs: set[asyncio.Task[None]] = set()
        self._in_flight: set[str] = set()
        # time.monotonic() before which a task's status message is not edited again (its final edit
        # was just made; the edit interval holds for the file's edit too).
        self._not_before: dict[str, float] = {}

    async def follow(self, record: TaskRecord, *, last_edit_at: float) -> None:
        """The final is out (the status message last edited at `last_edit_at`, time.monotonic()):
        mark the file pending (so a restart resumes it) and fetch it in the background. Tasks without
        a file, and files already attached or skipped, are left alone."""
        if not self._wanted(record):
            return
        if record.media_state != rendering.MEDIA_PENDING:
            await self._engine.set_media(record.key, state=rendering.MEDIA_PENDING)
        self._not_before[record.key] = last_edit_at + self._min_edit_interval
        self._launch(record.key)

    async def resume(self) -> int:
        """At a start: the jobs the last run left pending. A task whose final is still owed is left to
        that final's delivery, which follows it once the status message shows the end."""
        if self._downloader is None:
            return 0
        pending = await self._engine.media_pending(limit=RESUME_LIMIT)
        # Another process's servers are its own to show (sharded processes share the store).
        resumed = [
            record
            for record in pending
            if record.notify_due_at is None and self._engine.delivers_for(record.guild_id)
        ]
        for record in resumed:
            self._launch(record.key)
        return len(resumed)

    async def close(self) -> None:
        """Stop every job; an unfinished one stays pending in the store and resumes at the next start."""
        jobs = list(self._jobs)
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)

    def _wanted(self, record: TaskRecord) -> bool:
        return (
            self._downloader is not None
            and record.status is TaskStatus.SUCCEEDED
            and record.result_problem is None
            and rendering.media_source(record.result) is not None
            and record.media_state not in (rendering.MEDIA_ATTACHED, rendering.MEDIA_SKIPPED)
        )

    def _launch(self, key: str) -> None:
        if key in self._in_flight:
            return
        self._in_flight.add(key)
        create_task(self._run(key), name=f"media-{key}", group=self._jobs)

    async def _run(self, key: str) -> None:
        try:
            async with self._slots:
                record = await self._engine.get(key)  # as it is now: a restart may have moved it on
                source = rendering.media_source(record.result) if record is not None else None
                if record is None or source is None or record.media_state != rendering.MEDIA_PENDING:
                    return
                if self._downloader is not None:
                    await self._rehost(self._downloader, record, source.url)
        finally:
            self._in_flight.discard(key)
            self._not_before.pop(key, None)

    async def _show(self, record: TaskRecord, state: MessageState, files: tuple[DownloadedFile, ...]) -> bool:
        """Edit the status message to show `record` (with `files`), no sooner than the edit interval
        after its final edit."""
        wait = self._not_before.get(record.key, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        then = (
            "the result's file will be posted as a message of its own" if files else "its note is not shown"
        )
        return await self._editor.show(
            record, rendering.render_status(record), state, final=True, files=files, then=then
        )

    async def _rehost(self, downloader: AssetDownloader, record: TaskRecord, url: str) -> None:
        try:
            file = await downloader.download(
                url, limit=upload_limit_of(record), stem=rendering.task_id_of(record)
            )
        except DownloadRefusedError as refused:
            log.info("task %s: result file kept as a link (%s)", record.key, refused.detail)
            await self._keep_link(record, refused.note)
            return
        with file:
            await self._carry(record, file)

    async def _carry(self, record: TaskRecord, file: DownloadedFile) -> None:
        """Hand the file to Discord: in the status message, else in a message of its own."""
        attached = replace(
            record, media_state=rendering.MEDIA_ATTACHED, media_filename=file.filename, media_note=None
        )
        state = MessageState()  # the status message's routes, as found by this job
        retrying = AsyncRetrying(
            stop=stop_after_attempt(SHOW_ATTEMPTS),
            wait=wait_exponential(multiplier=self._retry_wait),
            retry=retry_if_exception(_may_pass),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    in_status = await self._put_file(attached, file, state)
        except (discord.HTTPException, *_NETWORK_ERRORS) as error:
            if isinstance(error, discord.HTTPException) and file_refused(error):
                log.warning(
                    "task %s: Discord refused the result file (%s)", record.key, describe_failure(error)
                )
                await self._keep_link(record, rendering.media_note_refused_by_discord())
                return
            if not _may_pass(error):
                raise
            # Still pending in the store: the next start tries again.
            log.warning(
                "task %s: the result file could not be handed to Discord (%s); the next start tries again",
                record.key,
                describe_failure(error),
            )
            return
        if in_status is None:
            await self._keep_link(record, rendering.media_note_refused_by_discord())
            return
        note = None if in_status else FILE_POSTED_NOTE
        await self._engine.set_media(
            record.key, state=rendering.MEDIA_ATTACHED, filename=file.filename, note=note
        )
        log.info("task %s: result file %s attached (%d bytes)", record.key, file.filename, file.size)

    async def _put_file(self, attached: TaskRecord, file: DownloadedFile, state: MessageState) -> bool | None:
        """True: the status message carries the file; False: a message of its own does; None: nowhere
        took it. Raises what may pass, and Discord's refusal of the file itself."""
        if not state.status_unusable and await self._show(attached, state, (file,)):
            return True
        return False if await self._poster.post_file(attached, file) else None

    async def _keep_link(self, record: TaskRecord, note: str) -> None:
        """The result stays a link: record why, and show the note under the link (best effort)."""
        skipped = await self._engine.set_media(record.key, state=rendering.MEDIA_SKIPPED, note=note)
        if skipped is None:
            return
        try:
            await self._show(skipped, MessageState(), ())
        except (discord.HTTPException, *_NETWORK_ERRORS) as error:
            log.warning(
                "task %s: the note on the result's link could not be shown (%s)",
                record.key,
                describe_failure(error),
            )

"""One way to start a background task: keep a reference until it ends, and log its exception.

asyncio keeps only a weak reference to a running task, so a task nobody holds can vanish mid-run, and
an exception nobody awaits is reported late or never. As python-discord's bot-core `create_task` does,
every background task of the bot starts here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_running: set[asyncio.Task[Any]] = set()


def create_task(
    coro: Coroutine[Any, Any, T], *, name: str, group: set[asyncio.Task[T]] | None = None
) -> asyncio.Task[T]:
    """Start `coro`; it is held (and in `group`, when given, for the caller to wait on) until it ends.

    An exception that ends it is logged with the task's name; a cancellation is not an error.
    """
    task = asyncio.create_task(coro, name=name)
    _running.add(task)
    task.add_done_callback(_running.discard)
    if group is not None:
        group.add(task)
        task.add_done_callback(group.discard)
    task.add_done_callback(_log_exception)
    return task


def _log_exception(task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("background task %s failed", task.get_name(), exc_info=error)

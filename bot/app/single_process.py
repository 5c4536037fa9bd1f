"""One bot process per SQLite database: an exclusive `flock` on a lock file beside it.

Two processes polling one SQLite file would both poll, create and report the same tasks. Until a
shared store that several processes can split exists, a second process is refused at start. The lock
is the kernel's, on a separate file, so it is released when a process dies (a restart right after a
SIGKILL works), and SQLite's own locking, which the online backup relies on, is left alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; the bot is run on Linux and macOS
    fcntl = None  # type: ignore[assignment]


class DatabaseInUseError(RuntimeError):
    """Another process holds the database's lock file."""


def lock_path_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".lock")


@contextlib.contextmanager
def exclusive_database_lock(database_path: Path) -> Iterator[Path]:
    """Hold the database's lock file for as long as the block runs; `DatabaseInUseError` if taken."""
    path = lock_path_for(database_path)
    if fcntl is None:  # pragma: no cover
        yield path
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUseError(
                f"another bot process is already running on {database_path} (it holds {path}); "
                "stop it first: one process per SQLite database"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for the operator; the lock is what counts
        yield path
    finally:
        os.close(fd)  # closing releases the lock

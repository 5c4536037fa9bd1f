"""The connection side of the SQLite task store: open, pragmas, migration, transactions, decoding."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot.engine.store.interface import TaskRecord, UnknownTaskError
from bot.engine.store.sqlite.migrations import migrate
from bot.engine.store.sqlite.rows import decode_record, warn_once

log = logging.getLogger(__name__)

MEMORY = ":memory:"
_BUSY_TIMEOUT_MS = 5_000


class SqliteConnection:
    """One aiosqlite connection to the task database, and the transaction rules of the store on it.

    Every public method of the store is one transaction. Write methods run `BEGIN IMMEDIATE ... COMMIT`
    and roll back on any error (cancellation included), so a crash never leaves half a change. The
    single connection is shared by all coroutines; an asyncio lock keeps one transaction at a time.
    All datetimes passed in must be timezone-aware (ValueError otherwise); all returned are UTC.
    """

    def __init__(self, path: Path | str) -> None:
        self._path = path
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        """Create the parent folder, connect, set the connection pragmas and migrate the schema.

        Raises `SchemaTooNewError` (connection closed again) when the file was written by newer code.
        """
        if self._conn is not None:
            raise RuntimeError("task store already open")
        in_memory = str(self._path) == MEMORY
        if not in_memory:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; every method issues its own BEGIN/COMMIT.
        conn = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            # First, so that switching to WAL and migrating wait for another process (a second
            # instance starting, a backup) that briefly holds the lock instead of failing at once.
            await conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS:d}")
            mode = await self._enable_wal(conn)
            if not in_memory and mode != "wal":
                log.warning("task store %s: journal_mode is %s, not wal", self._path, mode)
            # WAL + synchronous=NORMAL: a commit is in the WAL file (the OS has it) before COMMIT
            # returns, so it survives a crash or kill of this process, which is what we guard
            # against. Only a power loss / OS crash may drop the last commits; FULL would fsync
            # on every commit, a cost ~200 writes/s do not need to pay.
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            before, after = await migrate(conn)
            # One process per SQLite file (the bot's lock file): a lease found now was left by a
            # process that is gone, and would only hold its rows back until it expired.
            await conn.execute(
                "UPDATE tasks SET lease_owner = NULL, lease_until = NULL, report_owner = NULL,"
                " report_until = NULL WHERE lease_owner IS NOT NULL OR report_owner IS NOT NULL"
            )
        except BaseException:
            await conn.close()
            raise
        if before != after:
            log.info("task store %s: schema version %d -> %d", self._path, before, after)
        self._conn = conn

    @staticmethod
    async def _enable_wal(conn: aiosqlite.Connection) -> str:
        """Switch the file to WAL (a persistent setting) and return the journal mode now in force.

        Switching needs an exclusive lock and SQLite answers "database is locked" at once, without
        the busy handler, when another connection is doing the same; that only happens while two
        processes open a new file together, so retry briefly.
        """
        deadline = asyncio.get_running_loop().time() + _BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                async with conn.execute("PRAGMA journal_mode=WAL") as cursor:
                    row = await cursor.fetchone()
                return str(row[0]).lower() if row is not None else "?"
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Wait for the running transaction, then close the connection. Closing twice is a no-op."""
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close()

    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("task store is not open")
        return self._conn

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; committed on success, rolled back on any exception."""
        async with self._lock:
            conn = self._connection()
            try:
                # Inside the try: a cancelled BEGIN still runs on aiosqlite's thread and must be undone.
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
            except BaseException:
                await self._rollback(conn)
                raise
            try:
                await conn.execute("COMMIT")
            except BaseException:
                # A cancelled COMMIT still runs on aiosqlite's thread; roll back only if it did not.
                await self._rollback(conn)
                raise

    @staticmethod
    async def _rollback(conn: aiosqlite.Connection) -> None:
        try:
            await conn.execute("ROLLBACK")
        except sqlite3.OperationalError:  # "no transaction is active": it had committed after all
            log.debug("rollback found no open transaction")

    async def _fetch_rows(self, sql: str, params: Mapping[str, Any]) -> list[sqlite3.Row]:
        async with self._lock:
            return list(await self._connection().execute_fetchall(sql, params))

    async def _update_one(self, sql: str, params: Mapping[str, Any]) -> TaskRecord | None:
        """Run one `UPDATE ... RETURNING` in a transaction; the updated record, None if no row matched."""
        async with self._write() as conn:
            rows = list(await conn.execute_fetchall(sql, params))
        return self._decode_one(rows)

    async def _update_existing(self, key: str, sql: str, params: Mapping[str, Any]) -> TaskRecord:
        record = await self._update_one(sql, {**params, "key": key})
        if record is None:
            raise UnknownTaskError(key)
        return record

    def _decode_one(self, rows: Sequence[Sequence[Any]]) -> TaskRecord | None:
        if not rows:
            return None
        return self._decode_or_skip(rows[0])

    @staticmethod
    def _decode_or_skip(row: Sequence[Any]) -> TaskRecord | None:
        try:
            return decode_record(row)
        except (ValueError, TypeError) as exc:  # UndecodableRowError is a ValueError
            key = str(row[0])
            warn_once(key, "row", "task %s: skipping a row this version cannot read: %s", key, exc)
            return None

    def _decode_all(self, rows: Sequence[Sequence[Any]]) -> list[TaskRecord]:
        return [record for row in rows if (record := self._decode_or_skip(row)) is not None]

"""The connection side of the PostgreSQL task store: the pool, migration, transactions, decoding.

Every public method of the store is one transaction: a single statement (autocommit) or an explicit
`transaction()`, rolled back on any error, cancellation included (asyncpg resets a connection that
goes back to the pool mid-transaction). The pool is shared by all coroutines of the process; several
processes share the database, which is what the leases and `FOR UPDATE SKIP LOCKED` are for.
All datetimes passed in must be timezone-aware (ValueError otherwise); all returned are UTC.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import asyncpg

from bot.engine.store.decoding import warn_once
from bot.engine.store.interface import TaskRecord, UnknownTaskError
from bot.engine.store.postgres.migrations import migrate
from bot.engine.store.postgres.rows import decode_record
from bot.engine.store.postgres.sql import Connection, bind

log = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 10
# A statement that takes this long means a database in trouble; failing it lets the poller back off
# and retry instead of hanging.
COMMAND_TIMEOUT = 60.0


def describe_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


_JSONB_VERSION = b"\x01"  # jsonb's binary format: a version byte, then the JSON text


def _encode_jsonb(value: object) -> bytes:
    return _JSONB_VERSION + json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _decode_jsonb(data: bytes) -> object:
    return json.loads(data[1:])


async def _init_connection(conn: Connection) -> None:
    # jsonb columns read and written as Python dicts (the rows' input assets, metadata, result); in
    # the binary format, which COPY (migrate-store) needs too.
    await conn.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog", format="binary"
    )


class PostgresConnection:
    """A pool of connections to one PostgreSQL database (or schema, with `?search_path=` in the URL)."""

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._url = url
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self.statements = 0  # statements sent, for the benchmark's "queries per poll"

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        return describe_url(self._url)

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        """Create the pool and migrate the schema (under the migration lock). Raises
        `SchemaTooNewError` (pool closed again) when the database was written by newer code."""
        if self._pool is not None:
            raise RuntimeError("task store already open")
        pool = await asyncpg.create_pool(
            self._url,
            min_size=1,
            max_size=self._pool_size,
            init=_init_connection,
            command_timeout=COMMAND_TIMEOUT,
        )
        try:
            async with pool.acquire() as conn:
                before, after = await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        if before != after:
            log.info("task store %s: schema version %d -> %d", self.url, before, after)
        self._pool = pool

    async def close(self) -> None:
        """Wait for the connections in use to come back, then close the pool. Twice is a no-op."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def _connected(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("task store is not open")
        return self._pool

    # -- statements ------------------------------------------------------------------------------

    async def _fetch(self, sql: str, params: Mapping[str, Any]) -> list[asyncpg.Record]:
        text, args = bind(sql, params)
        self.statements += 1
        return list(await self._connected().fetch(text, *args))

    async def _fetchval(self, sql: str, params: Mapping[str, Any]) -> Any:  # noqa: ANN401 - a column value
        text, args = bind(sql, params)
        self.statements += 1
        return await self._connected().fetchval(text, *args)

    async def _execute(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one statement; how many rows it touched."""
        text, args = bind(sql, params)
        self.statements += 1
        status = await self._connected().execute(text, *args)
        return _rows_touched(status)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Transaction]:
        """One transaction on one connection; committed on success, rolled back on any exception."""
        async with self._connected().acquire() as conn, conn.transaction():
            yield Transaction(conn, self)

    async def _update_one(self, sql: str, params: Mapping[str, Any]) -> TaskRecord | None:
        """Run one `UPDATE ... RETURNING`; the updated record, None if no row matched."""
        return self._decode_one(await self._fetch(sql, params))

    async def _update_existing(self, key: str, sql: str, params: Mapping[str, Any]) -> TaskRecord:
        record = await self._update_one(sql, {**params, "key": key})
        if record is None:
            raise UnknownTaskError(key)
        return record

    # -- decoding --------------------------------------------------------------------------------

    def _decode_one(self, rows: Sequence[asyncpg.Record]) -> TaskRecord | None:
        if not rows:
            return None
        return self._decode_or_skip(rows[0])

    @staticmethod
    def _decode_or_skip(row: asyncpg.Record) -> TaskRecord | None:
        try:
            return decode_record(row)
        except (ValueError, TypeError) as exc:  # UndecodableRowError is a ValueError
            key = str(row[0])
            warn_once(key, "row", "task %s: skipping a row this version cannot read: %s", key, exc)
            return None

    def _decode_all(self, rows: Sequence[asyncpg.Record]) -> list[TaskRecord]:
        return [record for row in rows if (record := self._decode_or_skip(row)) is not None]


class Transaction:
    """Statements inside one `_transaction()`, with the same named parameters."""

    def __init__(self, conn: Connection, owner: PostgresConnection) -> None:
        self.conn = conn
        self._owner = owner

    async def fetch(self, sql: str, params: Mapping[str, Any]) -> list[asyncpg.Record]:
        text, args = bind(sql, params)
        self._owner.statements += 1
        return list(await self.conn.fetch(text, *args))

    async def execute(self, sql: str, params: Mapping[str, Any]) -> int:
        text, args = bind(sql, params)
        self._owner.statements += 1
        return _rows_touched(await self.conn.execute(text, *args))


def _rows_touched(status: str) -> int:
    """The row count of a command tag such as "UPDATE 3" or "INSERT 0 1"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0

"""PostgreSQL for the tests: one database per test session, one schema per test.

Set `TEST_POSTGRES_URL` (e.g. postgresql://postgres@127.0.0.1:5432/postgres) to run the PostgreSQL
tests; without it they are skipped with that reason. `.ci/run` sets it, so CI never skips them. The
session's database gets a unique name (parallel runs never collide) and is dropped at the end; each
test gets a fresh schema in it (`?search_path=` in the URL the store is given).

The fixtures are plain functions that run their async work on a thread of their own, so they can be
used from sync and async tests alike (and from a parametrised fixture with `getfixturevalue`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

T = TypeVar("T")

ENV = "TEST_POSTGRES_URL"
SKIP_REASON = (
    f"{ENV} is not set: PostgreSQL tests skipped (e.g. {ENV}=postgresql://postgres@127.0.0.1:5432/postgres)"
)


def run_aside(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work()` to the end in an event loop on another thread (a test's own loop may be running)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()  # type: ignore[arg-type]


def with_database(url: str, database: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}", query=query))


def with_schema(database_url: str, schema: str) -> str:
    return urlunsplit(urlsplit(database_url)._replace(query=f"search_path={schema}"))


async def _execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this test session's own; its URL."""
    server = os.environ.get(ENV)
    if not server:
        pytest.skip(SKIP_REASON)
    name = f"mindproxy_test_{os.getpid()}_{secrets.token_hex(4)}"
    run_aside(lambda: _execute(server, f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(server, name)
    finally:
        run_aside(lambda: _execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """A fresh, empty schema of the session's database: the URL a store of one test opens."""
    schema = f"t_{secrets.token_hex(6)}"
    run_aside(lambda: _execute(postgres_database, f'CREATE SCHEMA "{schema}"'))
    return with_schema(postgres_database, schema)

"""SQL text with `:name` parameters, turned into asyncpg's `$1, $2, ...` once per distinct statement.

Named parameters keep the store's statements readable and alike to the SQLite store's; `::type` casts
are left alone. Every datetime bound must be timezone-aware: a naive one is refused before it could be
read as UTC or as the server's local time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeAlias

import asyncpg
import asyncpg.pool

# A connection of its own (migrations, `check`) or one lent by the pool.
Connection: TypeAlias = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


def bind(sql: str, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The statement in asyncpg's style and its arguments in order; KeyError for a missing one."""
    text, names = _positional(sql)
    args = [params[name] for name in names]
    for value in args:
        if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"naive datetime given to the task store: {value!r}")
    return text, args

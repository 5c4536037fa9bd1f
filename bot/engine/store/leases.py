"""What the stores and the engine say about leases: their two kinds, and which reports a process may
deliver (see `TaskStore` in interface.py for the leases themselves)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

LeaseKind = Literal["poll", "report"]


@dataclass(frozen=True, slots=True)
class ReportScope:
    """Which rows' reports a process may deliver: those of its Discord shards, by Discord's own
    formula `(guild_id >> 22) % shard_count` (rows without a guild belong to shard 0). The default, one
    shard, is every row: with one process, that process reports everything."""

    shard_ids: frozenset[int] = frozenset({0})
    shard_count: int = 1

    def __post_init__(self) -> None:
        if (
            self.shard_count < 1
            or not self.shard_ids
            or not all(0 <= shard < self.shard_count for shard in self.shard_ids)
        ):
            raise ValueError(f"bad report scope: shards {sorted(self.shard_ids)} of {self.shard_count}")

    @property
    def everything(self) -> bool:
        return self.shard_count == 1

    def covers(self, guild_id: int | None) -> bool:
        return ((guild_id or 0) >> 22) % self.shard_count in self.shard_ids


EVERY_ROW = ReportScope()


def renewed_kinds(rows: Iterable[Sequence[Any]]) -> set[tuple[str, LeaseKind]]:
    """(key, kind) pairs from rows of (key, poll lease renewed, report lease renewed)."""
    renewed: set[tuple[str, LeaseKind]] = set()
    for key, poll, report in rows:
        if poll:
            renewed.add((str(key), "poll"))
        if report:
            renewed.add((str(key), "report"))
    return renewed

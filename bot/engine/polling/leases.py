"""Who this process is to the store, and for how long its claims on rows last.

Several bot processes may share one store (PostgreSQL). Each works only on the rows it leased: the
poller claims due rows in batches, a user's cancel claims its one row, and reports are claimed apart
(see `TaskStore`). A lease lasts `seconds`; the poller renews the leases of rows it is still working
on, a clean stop releases them all, and a process that dies loses them when they expire.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.engine.store.interface import EVERY_ROW, ReportScope


def new_owner_id() -> str:
    """A name for this process's leases: readable in the database (host and pid), and unique even
    when a pid is reused after a restart."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class Leasing:
    owner: str
    seconds: float
    # Which reports this process delivers; with sharding, the rows of the guilds its shards own.
    report_scope: ReportScope = EVERY_ROW

    def __post_init__(self) -> None:
        if not self.owner or self.seconds <= 0:
            raise ValueError("a lease needs an owner and a positive length")

    def until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)

    @property
    def renew_every(self) -> float:
        """Renewed three times per lease: two renewals may fail before a lease is lost."""
        return self.seconds / 3

"""A per-channel budget for progress edits over the channel route.

Discord shares one bucket per channel for message edits (about 5 per 5 s; the number is not
published). Final states must always get through, so progress edits take from this budget and are
skipped (coalesced into a later edit) when it is spent, leaving the bucket's room for finals.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ChannelEditBudget:
    def __init__(
        self, *, edits: int = 3, per_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        # 3 of Discord's ~5: the other two stay free for final states and result replies.
        self._capacity = float(edits)
        self._refill_per_second = edits / per_seconds
        self._clock = clock
        self._tokens: dict[int, tuple[float, float]] = {}  # channel -> (tokens, at)

    def try_take(self, channel_id: int) -> bool:
        now = self._clock()
        tokens, at = self._tokens.get(channel_id, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - at) * self._refill_per_second)
        if tokens < 1.0:
            self._tokens[channel_id] = (tokens, now)
            return False
        self._tokens[channel_id] = (tokens - 1.0, now)
        if len(self._tokens) > 10_000:
            self._forget_full(now)
        return True

    def _forget_full(self, now: float) -> None:
        """Drop channels whose budget is full again, so the map does not grow without bound."""
        full_after = self._capacity / self._refill_per_second
        self._tokens = {c: (t, at) for c, (t, at) in self._tokens.items() if now - at < full_after}

"""How failed gateway calls are tried again: two layers, each with its own job, one rule, one jitter.

1. **Within one call** (`TaskApiClient`, tenacity): quick transient failures are tried again at once,
   before anyone waits on the result. Retried: a connect error, a time-out, and HTTP 429, 500, 502,
   503 and 504. Not retried: every other answer (a 4xx is a refusal; trying again changes nothing).
   At most `max_attempts` attempts (4); between them `backoff_base * 2**(n-1)` seconds (0.5, 1, 2),
   capped at `max_retry_wait` (30 s) and with equal jitter, or the gateway's `Retry-After` (capped
   likewise). A create re-sends the very same body, so the idempotency key makes retries safe.
   Worst case for one call: 4 time-outs of `GATEWAY_TIMEOUT` plus about 3.5 s of sleeps.
2. **Between calls, per task row** (`SchedulePolicy`, the poller): when a call still failed, the row
   is due again after `poll_interval * 2**(attempts-1)` seconds, capped at `max_backoff` (60 s) and
   with equal jitter, or `Retry-After` (capped at `RETRY_AFTER_CEILING`). A row keeps being retried
   this way while its failures are transient (`TaskApiError.transient`); how long is the lifecycle's
   decision (until `TASK_MAX_AGE` for polls and creates whose fate is unknown).

Both layers draw their jitter from `jitter_source`, so a test can seed one generator for both.
"""

from __future__ import annotations

import random

# Jitter only spreads load; it needs no cryptographic quality.
jitter_source = random.Random()  # noqa: S311

# Retry-After values above this are treated as bogus (a gateway asking for an hour is not honoured).
RETRY_AFTER_CEILING = 600.0

# The answers worth another attempt within one call (see layer 1 above).
RETRYABLE_STATUS_CODES = frozenset({429, 500, 502, 503, 504})


def exponential_ceiling(base: float, attempt: int, cap: float) -> float:
    """`base * 2**(attempt-1)` for attempt >= 1, at most `cap`."""
    exponent = min(max(attempt, 1) - 1, 30)  # the cap keeps 2**n finite for huge counters
    return min(cap, base * 2.0**exponent)


def equal_jitter(ceiling: float, rng: random.Random | None = None) -> float:
    """Between half of `ceiling` and all of it: spread out, yet never a retry right away."""
    return ceiling * (rng or jitter_source).uniform(0.5, 1.0)

"""What the fake gateway saw: recorded requests, and the summary benchmarks read from /_fake/stats."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.testing.fake_gateway.script import FakeTask


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    raw_path: str
    kind: str  # create / get / events / cancel / other
    query: dict[str, str]
    json_body: Any
    headers: dict[str, str]
    received_at: float  # time.monotonic() at arrival (system-wide clock on Linux)
    status: int | None = None  # the status answered, once answered


def max_in_any_window(times: Sequence[float], window: float = 1.0) -> int:
    """The largest number of `times` inside any half-open window [t, t + window)."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0)


def summarize(
    requests: Sequence[RecordedRequest], tasks: Mapping[str, FakeTask], *, include_tasks: bool = True
) -> dict[str, Any]:
    """Request rates (at arrival) and per-task creation/completion times."""
    arrivals = sorted(r.received_at for r in requests)
    first = arrivals[0] if arrivals else 0.0
    per_second = Counter(int(t - first) for t in arrivals)
    seconds = int(arrivals[-1] - first) + 1 if arrivals else 0
    summary: dict[str, Any] = {
        "requests_total": len(arrivals),
        "requests_by_kind": dict(Counter(r.kind for r in requests)),
        "requests_by_status": {str(k): v for k, v in Counter(r.status for r in requests).items()},
        "first_request_monotonic": arrivals[0] if arrivals else None,
        "requests_per_second": [per_second.get(s, 0) for s in range(seconds)],
        "max_requests_in_any_1s_window": max_in_any_window(arrivals),
        "tasks_total": len(tasks),
        "tasks_terminal": sum(1 for task in tasks.values() if task.completed_monotonic() is not None),
    }
    if include_tasks:
        summary["tasks"] = {task_id: describe_task(task) for task_id, task in tasks.items()}
    return summary


def describe_task(task: FakeTask) -> dict[str, Any]:
    completed = task.completed_monotonic()
    return {
        "status": int(task.status()),
        "idempotency_key": task.idempotency_key,
        "prompt": task.prompt,
        "created_monotonic": task.created_monotonic,
        "created_epoch": task.created_wall.timestamp(),
        "completed_monotonic": completed,
        "completed_epoch": None if completed is None else task.wall_time(completed).timestamp(),
        "cancel_reason": task.cancel_reason,
    }

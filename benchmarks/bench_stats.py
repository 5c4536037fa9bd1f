"""Turning what a worker recorded and what the fake gateway counted into the issue's figures."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (the smallest value with at least pct% of the values at or below it)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One measured run (the engine or the naive baseline) of one regime."""

    label: str
    tasks: int
    reported: int  # tasks whose final update reached the notifier and that the gateway had finished
    complete: bool  # the worker saw every final update before its timeout
    requests_total: int  # counted at the gateway, on arrival
    requests_by_kind: dict[str, int]
    requests_by_status: dict[str, int]
    peak_rps: int  # max requests in any 1 s window, at the gateway
    delay_p50: float  # seconds from the gateway's completion to the notifier call
    delay_p95: float
    delay_p99: float
    delay_max: float
    early_reports: int  # final reports timed before the gateway's completion: must be 0
    lag_p99_ms: float
    lag_max_ms: float
    cpu_seconds: float
    cpu_per_1000_requests: float
    peak_rss_mb: float
    run_seconds: float
    submit_seconds: float
    notifier_calls: int
    repeated_finals: int
    cpu_seconds_by_thread: dict[str, float] = field(default_factory=dict)  # whole worker lifetime
    notes: list[str] = field(default_factory=list)
    db_statements: int = 0  # statements the engine(s) ran on the database during the run
    processes: int = 1

    @property
    def statements_per_poll(self) -> float:
        polls = self.requests_by_kind.get("get", 0) + self.requests_by_kind.get("events", 0)
        return self.db_statements / polls if polls else math.nan

    @property
    def requests_per_task(self) -> float:
        return self.requests_total / self.reported if self.reported else math.inf

    def per_task_of(self, kind: str) -> float:
        return self.requests_by_kind.get(kind, 0) / self.reported if self.reported else math.inf

    @property
    def rate_limited(self) -> int:
        return self.requests_by_status.get("429", 0)


def figures_from(label: str, tasks: int, worker: Mapping[str, Any], gateway: Mapping[str, Any]) -> RunFigures:
    """Join the worker's final-report times with the gateway's completion times by task key."""
    completed_at: dict[str, float] = {}
    for task in gateway.get("tasks", {}).values():
        key, completed = task.get("idempotency_key"), task.get("completed_monotonic")
        if key is not None and completed is not None:
            completed_at[key] = float(completed)
    delays: list[float] = []
    notes: list[str] = []
    not_finished_at_gateway = 0
    for key, reported_at in worker["final_at"].items():
        completed = completed_at.get(key)
        if completed is None:
            not_finished_at_gateway += 1
            continue
        delays.append(float(reported_at) - completed)
    if not_finished_at_gateway:
        notes.append(f"{not_finished_at_gateway} final report(s) for tasks the gateway had not finished")
    if not worker["complete"]:
        notes.append(f"worker gave up waiting: {len(worker['final_at'])}/{tasks} final reports")
    if worker.get("request_errors"):
        notes.append(f"{worker['request_errors']} request error(s) in the worker")
    requests_total = int(gateway["requests_total"])
    cpu = float(worker["cpu_seconds"])
    return RunFigures(
        label=label,
        tasks=tasks,
        reported=len(delays),
        complete=bool(worker["complete"]),
        requests_total=requests_total,
        requests_by_kind={str(k): int(v) for k, v in gateway["requests_by_kind"].items()},
        requests_by_status={str(k): int(v) for k, v in gateway["requests_by_status"].items()},
        peak_rps=int(gateway["max_requests_in_any_1s_window"]),
        delay_p50=percentile(delays, 50),
        delay_p95=percentile(delays, 95),
        delay_p99=percentile(delays, 99),
        delay_max=max(delays, default=math.nan),
        early_reports=sum(1 for delay in delays if delay < 0),
        lag_p99_ms=float(worker["lag_p99"]) * 1000,
        lag_max_ms=float(worker["lag_max"]) * 1000,
        cpu_seconds=cpu,
        cpu_per_1000_requests=cpu / requests_total * 1000 if requests_total else math.nan,
        peak_rss_mb=float(worker["peak_rss_mb"]),
        run_seconds=float(worker["run_seconds"]),
        submit_seconds=float(worker["submit_seconds"]),
        notifier_calls=int(worker["notifier_calls"]),
        repeated_finals=int(worker["repeated_finals"]),
        cpu_seconds_by_thread={str(k): float(v) for k, v in worker.get("cpu_seconds_by_thread", {}).items()},
        notes=notes,
        db_statements=int(worker.get("statements", 0)),
        processes=int(worker.get("processes", 1)),
    )


@dataclass(frozen=True, slots=True)
class Check:
    """One figure against its target."""

    regime: str
    name: str
    measured: str
    target: str
    passed: bool

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

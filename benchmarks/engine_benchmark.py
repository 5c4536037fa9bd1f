"""Engine benchmark (issues 2 and 12): the task engine against the fake gateway, each in its own process.

    .venv/bin/python -m benchmarks.engine_benchmark [--regime 1|2|3|all] [--quick] [--json PATH] [--keep]
    (or .venv/bin/python benchmarks/engine_benchmark.py ...)

Regime 1: 1,000 pending tasks, poll interval 3 s, ceiling 500 requests/s, next to a naive baseline
(one coroutine per task: sleep(interval), then GET; no ceiling) against its own fresh fake gateway
with the same seed (so the same task durations). Regime 2: 10,000 pending tasks, ceiling 200 req/s.
Regime 3: regime 2 over three engine processes sharing one PostgreSQL database and the one ceiling
(bench_shared.py; the server of BENCH_POSTGRES_URL, the local one by default).
Tasks finish 5-60 s after their creation. Every figure is printed next to its target with PASS/FAIL,
then a summary table; the exit status is 1 when any target fails.

Where each figure comes from: requests and the peak requests in any 1 s window are counted by the
fake gateway on arrival (`/_fake/stats`); the delay is the worker's time.monotonic() when the notifier
got a task's final update minus the gateway's monotonic completion time of that task (one system-wide
clock on Linux); event-loop lag, CPU and peak RSS are measured inside the worker process, which runs
only the engine (or only the baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

if not __package__:  # run as `python benchmarks/engine_benchmark.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_processes import ChildFailedError, GatewayProcess, run_worker
from benchmarks.bench_shared import create_database, drop_database, join_results, run_shared_workers
from benchmarks.bench_stats import Check, RunFigures, figures_from

SEED = 20261129
LAG_TARGET_MS = 100.0
RSS_TARGET_MB = 200.0
STARVATION_FACTOR = 2.0  # a task waiting over twice the p99 bound missed a whole polling round: starved


@dataclass(frozen=True, slots=True)
class Regime:
    number: int
    tasks: int
    interval: float
    ceiling: float
    min_duration: float
    max_duration: float
    with_baseline: bool
    processes: int = 1  # more than one: engine processes sharing a PostgreSQL database

    @property
    def title(self) -> str:
        where = "SQLite, one process" if self.processes == 1 else f"PostgreSQL, {self.processes} processes"
        return (
            f"Regime {self.number}: {self.tasks:,} pending tasks, poll interval {self.interval:g} s, "
            f"ceiling {self.ceiling:g} req/s, tasks last {self.min_duration:g}-{self.max_duration:g} s, "
            f"{where}"
        )

    @property
    def worker_timeout(self) -> float:
        """Generous: three times the time one create round, the longest task and a poll take."""
        return 3 * (self.tasks / self.ceiling + self.max_duration + self.interval) + 60


FULL = {
    1: Regime(1, 1_000, 3.0, 500.0, 5.0, 60.0, with_baseline=True),
    2: Regime(2, 10_000, 3.0, 200.0, 5.0, 60.0, with_baseline=False),
    3: Regime(3, 10_000, 3.0, 200.0, 5.0, 60.0, with_baseline=False, processes=3),
}
QUICK = {
    1: Regime(1, 200, 3.0, 100.0, 2.0, 8.0, with_baseline=True),
    2: Regime(2, 300, 3.0, 50.0, 2.0, 8.0, with_baseline=False),
    3: Regime(3, 300, 3.0, 50.0, 2.0, 8.0, with_baseline=False, processes=3),
}


def measure(mode: str, regime: Regime, workdir: Path) -> RunFigures:
    """One run: a fresh fake gateway process and a worker process against it."""
    # The engine's gateway enforces the ceiling (answers 429 above it), like the real allowance would;
    # the baseline's does not, as the baseline has no ceiling.
    max_rps = regime.ceiling if mode == "engine" else None
    gateway = GatewayProcess(
        seed=SEED,
        min_duration=regime.min_duration,
        max_duration=regime.max_duration,
        max_rps=max_rps,
        log_path=workdir / f"{mode}-gateway.log",
    )
    with gateway:
        if regime.processes > 1:
            worker = measure_shared(regime, gateway.base_url, workdir)
        else:
            worker = run_worker(
                mode,
                base_url=gateway.base_url,
                tasks=regime.tasks,
                interval=regime.interval,
                ceiling=regime.ceiling,
                workdir=workdir,
                timeout=regime.worker_timeout,
            )
        stats = gateway.stats()
    label = "engine" if mode == "engine" else "naive baseline"
    if regime.processes > 1:
        label = f"{regime.processes} engines"
    figures = figures_from(label, regime.tasks, worker, stats)
    if "log_tail" in worker:
        figures.notes.append(f"worker log (last lines):\n{worker['log_tail']}")
    return figures


def measure_shared(regime: Regime, base_url: str, workdir: Path) -> dict[str, object]:
    """Regime 3's workers: a database of their own with the tasks in it, then the processes."""
    url = asyncio.run(create_database(regime.tasks))
    try:
        results = run_shared_workers(
            url=url,
            base_url=base_url,
            tasks=regime.tasks,
            interval=regime.interval,
            ceiling=regime.ceiling,
            processes=regime.processes,
            workdir=workdir,
            timeout=regime.worker_timeout,
        )
    finally:
        asyncio.run(drop_database(url))
    joined = join_results(results)
    (workdir / "per-process.json").write_text(json.dumps(joined["per_process"], indent=2), encoding="utf-8")
    return {**joined, "processes": regime.processes}


def _s(value: float) -> str:
    return "n/a" if math.isnan(value) or math.isinf(value) else f"{value:.2f}"


def figure_rows(run: RunFigures) -> list[tuple[str, str]]:
    return [
        ("tasks finished and reported", f"{run.reported}/{run.tasks}"),
        ("gateway requests per completed task", f"{run.requests_per_task:.2f}"),
        (
            "  of which create / get / events",
            " / ".join(f"{run.per_task_of(kind):.2f}" for kind in ("create", "get", "events")),
        ),
        ("  polls (get + events) per task", f"{run.per_task_of('get') + run.per_task_of('events'):.2f}"),
        ("gateway requests (total)", f"{run.requests_total:,}"),
        ("answered 429 (rate limited)", str(run.rate_limited)),
        (
            "delay completion->notifier p50/p95/p99 (s)",
            f"{_s(run.delay_p50)} / {_s(run.delay_p95)} / {_s(run.delay_p99)}",
        ),
        ("delay max (s)", _s(run.delay_max)),
        ("peak requests in any 1 s window", str(run.peak_rps)),
        ("event-loop lag p99 / max (ms)", f"{run.lag_p99_ms:.1f} / {run.lag_max_ms:.1f}"),
        ("database statements per poll", f"{run.statements_per_poll:.2f}"),
        ("CPU s per 1,000 requests", f"{run.cpu_per_1000_requests:.3f}"),
        ("CPU s (measured run)", f"{run.cpu_seconds:.1f}"),
        ("  of which the event-loop thread", _main_thread_cpu(run)),
        ("peak RSS (MB)", f"{run.peak_rss_mb:.1f}"),
        ("run time until the last report (s)", f"{run.run_seconds:.1f}"),
        ("notifier calls / repeated finals", f"{run.notifier_calls:,} / {run.repeated_finals}"),
    ]


def _main_thread_cpu(run: RunFigures) -> str:
    """The busiest thread's share of the whole worker's CPU: the event loop (the rest is aiosqlite)."""
    if not run.cpu_seconds_by_thread:
        return "n/a"
    busiest = max(run.cpu_seconds_by_thread.values())
    return f"{busiest / sum(run.cpu_seconds_by_thread.values()):.0%}"


def print_figures(regime: Regime, runs: list[RunFigures]) -> None:
    print(f"\n== {regime.title} ==")
    columns = [figure_rows(run) for run in runs]
    names = [name for name, _ in columns[0]]
    width = max(len(name) for name in names) + 2
    print(f"{'figure':<{width}}" + "".join(f"{run.label:>22}" for run in runs))
    for index, name in enumerate(names):
        print(f"{name:<{width}}" + "".join(f"{column[index][1]:>22}" for column in columns))
    for run in runs:
        for note in run.notes:
            print(f"note ({run.label}): {note}")


def checks_for(regime: Regime, engine: RunFigures, baseline: RunFigures | None) -> list[Check]:
    name = f"R{regime.number}"
    checks = [
        Check(
            name,
            "every task reported",
            f"{engine.reported}/{engine.tasks}",
            "all",
            engine.reported == engine.tasks,
        ),
        Check(
            name,
            "exactly one final report per task",
            f"{engine.repeated_finals} repeated, {engine.early_reports} early",
            "0 repeated, 0 early",
            engine.repeated_finals == 0 and engine.early_reports == 0,
        ),
        Check(
            name,
            "peak requests/s (any 1 s window)",
            str(engine.peak_rps),
            f"<= {regime.ceiling:g}",
            engine.peak_rps <= regime.ceiling,
        ),
    ]
    if regime.number == 1:
        bound = regime.interval + 1
        checks.append(
            Check(
                name, "p99 delay", f"{_s(engine.delay_p99)} s", f"<= {bound:g} s", engine.delay_p99 <= bound
            )
        )
        if baseline is not None:
            checks.append(
                Check(
                    name,
                    "requests per task vs baseline",
                    f"{engine.requests_per_task:.2f}",
                    f"< {baseline.requests_per_task:.2f}",
                    baseline.reported == baseline.tasks
                    and engine.requests_per_task < baseline.requests_per_task,
                )
            )
    else:
        bound = regime.tasks / regime.ceiling + regime.interval + 1
        starved = STARVATION_FACTOR * bound
        checks += [
            Check(
                name, "p99 delay", f"{_s(engine.delay_p99)} s", f"<= {bound:g} s", engine.delay_p99 <= bound
            ),
            Check(
                name,
                "max delay (no task starved)",
                f"{_s(engine.delay_max)} s",
                f"<= {starved:g} s",
                engine.delay_max <= starved,
            ),
            Check(
                name,
                "event-loop lag p99",
                f"{engine.lag_p99_ms:.1f} ms",
                f"< {LAG_TARGET_MS:g} ms",
                engine.lag_p99_ms < LAG_TARGET_MS,
            ),
            Check(
                name,
                "peak RSS",
                f"{engine.peak_rss_mb:.1f} MB",
                f"< {RSS_TARGET_MB:g} MB",
                engine.peak_rss_mb < RSS_TARGET_MB,
            ),
        ]
    return checks


def print_checks(checks: list[Check], *, header: str) -> None:
    print(f"\n{header}")
    widths = [
        max(
            len(row[i])
            for row in [("regime", "target check", "measured", "target")]
            + [(c.regime, c.name, c.measured, c.target) for c in checks]
        )
        for i in range(4)
    ]
    head = ("regime", "target check", "measured", "target", "result")
    print("  ".join(f"{text:<{widths[i]}}" if i < 4 else text for i, text in enumerate(head)))
    for check in checks:
        cells = (check.regime, check.name, check.measured, check.target)
        print("  ".join(f"{text:<{widths[i]}}" for i, text in enumerate(cells)) + f"  {check.verdict}")


def run_regime(regime: Regime, workdir: Path) -> tuple[list[RunFigures], list[Check]]:
    print(f"\n-- running {regime.title} ...", flush=True)
    started = time.monotonic()
    engine = measure("engine", regime, workdir)
    print(f"   engine run done in {time.monotonic() - started:.0f} s", flush=True)
    runs = [engine]
    baseline = None
    if regime.with_baseline:
        baseline = measure("naive", regime, workdir)
        runs.append(baseline)
        print(f"   baseline run done in {time.monotonic() - started:.0f} s", flush=True)
    print_figures(regime, runs)
    checks = checks_for(regime, engine, baseline)
    print_checks(checks, header=f"Targets, regime {regime.number}:")
    return runs, checks


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--regime", choices=["1", "2", "3", "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="small counts and short tasks (< 1 min)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, databases)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    table = QUICK if args.quick else FULL
    numbers = [1, 2, 3] if args.regime == "all" else [int(args.regime)]
    all_checks: list[Check] = []
    report: dict[str, object] = {"quick": args.quick, "regimes": {}}
    started = time.monotonic()
    workroot = Path(tempfile.mkdtemp(prefix="engine-bench-"))
    for number in numbers:
        regime = table[number]
        workdir = workroot / f"regime{number}"
        workdir.mkdir()
        try:
            runs, checks = run_regime(regime, workdir)
        except ChildFailedError as error:
            print(f"\nregime {number} could not run: {error}", file=sys.stderr)
            all_checks.append(Check(f"R{number}", "benchmark ran", "no", "yes", passed=False))
            continue
        all_checks += checks
        report["regimes"][str(number)] = {  # type: ignore[index]
            "regime": asdict(regime),
            "runs": [asdict(run) for run in runs],
            "checks": [asdict(check) for check in checks],
        }
    print_checks(
        all_checks,
        header=f"SUMMARY ({'quick' if args.quick else 'full'} run, {time.monotonic() - started:.0f} s)",
    )
    failed = [check for check in all_checks if not check.passed]
    print(
        f"\n{len(all_checks) - len(failed)}/{len(all_checks)} targets met"
        + ("" if not failed else " - FAILED")
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    if args.keep:
        print(f"work folder kept: {workroot}")
    else:
        shutil.rmtree(workroot, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

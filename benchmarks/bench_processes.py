"""The benchmark's child processes: the fake gateway, and a worker (the engine or the naive baseline)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
API_KEY = "benchmark-key"
READY_TIMEOUT = 30.0
LISTENING = "listening on "


class ChildFailedError(RuntimeError):
    """A child process did not start or did not finish properly; the message says where its log is."""


class GatewayProcess:
    """`python -m bot simulate` in its own process, with tasks lasting `min..max` seconds."""

    def __init__(
        self,
        *,
        seed: int,
        min_duration: float,
        max_duration: float,
        max_rps: float | None,
        log_path: Path,
    ) -> None:
        self._argv = [
            sys.executable,
            "-m",
            "bot",
            "simulate",
            "--stats",
            "--port",
            "0",
            "--api-key",
            API_KEY,
            "--min-duration",
            str(min_duration),
            "--max-duration",
            str(max_duration),
            "--seed",
            str(seed),
        ]
        if max_rps is not None:
            self._argv += ["--max-rps", str(max_rps)]
        self._log_path = log_path
        self._log: IO[str] | None = None
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> Self:
        self._log = self._log_path.open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            self._argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        assert self._process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        line = ""
        # The simulator's first line names its address, so a blocking readline returns it or "" (it died).
        while LISTENING not in line and time.monotonic() < deadline:
            line = self._process.stdout.readline()
            if not line:
                break
        if LISTENING not in line:
            self.__exit__(None, None, None)
            raise ChildFailedError(f"fake gateway did not start; see {self._log_path}")
        self.base_url = line.split(LISTENING, 1)[1].strip()
        return self

    def stats(self) -> dict[str, Any]:
        """`GET /_fake/stats`, with every task's creation and completion times."""
        response = httpx.get(f"{self.base_url}/_fake/stats", timeout=120.0)
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
        if self._log is not None:
            self._log.close()
            self._log = None


def run_worker(
    mode: str,
    *,
    base_url: str,
    tasks: int,
    interval: float,
    ceiling: float,
    workdir: Path,
    timeout: float,
) -> dict[str, Any]:
    """Run `benchmarks.bench_worker` to the end and return the JSON it wrote."""
    out = workdir / f"{mode}-result.json"
    log_path = workdir / f"{mode}-worker.log"
    argv = [
        sys.executable,
        "-m",
        "benchmarks.bench_worker",
        mode,
        "--base-url",
        base_url,
        "--api-key",
        API_KEY,
        "--tasks",
        str(tasks),
        "--interval",
        str(interval),
        "--ceiling",
        str(ceiling),
        "--db",
        str(workdir / f"{mode}.sqlite3"),
        "--timeout",
        str(timeout),
        "--out",
        str(out),
    ]
    with log_path.open("w", encoding="utf-8") as log:
        try:
            completed = subprocess.run(
                argv, cwd=REPO_ROOT, stdout=log, stderr=log, timeout=timeout + 120, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise ChildFailedError(f"{mode} worker hung; see {log_path}") from error
    if completed.returncode != 0 or not out.exists():
        tail = log_path.read_text(encoding="utf-8")[-2000:]
        raise ChildFailedError(f"{mode} worker failed (exit {completed.returncode}); {log_path}:\n{tail}")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    warnings = log_path.read_text(encoding="utf-8").strip()
    if warnings:
        result["log_tail"] = warnings[-1500:]
    return result

"""Shared builders for the SQLite-only tests: the contract suite's, and where the repository is."""

from __future__ import annotations

from pathlib import Path

from tests.engine.store.contract.support import T0, at, created, new_task, poll

REPO_ROOT = Path(__file__).resolve().parents[4]

__all__ = ["REPO_ROOT", "T0", "at", "created", "new_task", "poll"]

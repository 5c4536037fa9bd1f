"""The engine must never import discord: another front end reuses it as is."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import bot.engine

REPO_ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
import bot.engine
names = sorted(m.name for m in pkgutil.walk_packages(bot.engine.__path__, "bot.engine."))
for name in names:
    importlib.import_module(name)
for name in bot.engine.__all__:  # the lazy public names load their modules too
    getattr(bot.engine, name)
print(len(names))
leaked = sorted(m for m in sys.modules if m == "discord" or m.startswith("discord."))
if leaked:
    raise SystemExit("engine imported: " + ", ".join(leaked))
"""


def engine_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(bot.engine.__path__, "bot.engine."))


def test_every_module_of_every_engine_subpackage_imports_without_discord():
    expected = engine_modules()
    # The walk really descends into the subpackages, down to the SQLite store.
    assert {"bot.engine.api.client", "bot.engine.polling.poller", "bot.engine.store.sqlite.store"} <= set(
        expected
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert int(result.stdout.strip()) == len(expected)


def test_the_probe_would_notice_discord():
    """Guard against a probe that cannot fail: importing discord next to the engine is caught."""
    probe = "import discord\n" + PROBE
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "engine imported: discord" in result.stderr

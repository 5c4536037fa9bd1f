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
names = sorted(m.name for m in pkgutil.iter_modules(bot.engine.__path__, "bot.engine."))
for name in names:
    importlib.import_module(name)
print(len(names))
leaked = sorted(m for m in sys.modules if m == "discord" or m.startswith("discord."))
if leaked:
    raise SystemExit("engine imported: " + ", ".join(leaked))
"""


def test_every_engine_module_imports_without_discord():
    expected = len(list(pkgutil.iter_modules(bot.engine.__path__)))
    assert expected >= 10  # the probe really walks the package (client, store, poller, engine, ...)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert int(result.stdout.strip()) == expected


def test_the_probe_would_notice_discord():
    """Guard against a probe that cannot fail: importing discord next to the engine is caught."""
    probe = "import discord\n" + PROBE
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "engine imported: discord" in result.stderr

"""The environment of a `python -m bot ...` process as an operator starts it: nothing of the developer's
settings (upper-case variables such as a real DISCORD_TOKEN) leaks in, only what a test gives."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
KEPT = frozenset({"PATH", "HOME", "LANG"})


def operator_env(**settings: str) -> dict[str, str]:
    """The current environment without upper-case variables (but PATH, HOME, LANG), plus `settings`,
    with the repository importable."""
    env = {name: value for name, value in os.environ.items() if not name.isupper() or name in KEPT}
    env.update(settings)
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env

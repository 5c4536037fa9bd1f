"""Autocomplete of the configured models (choices would be fixed at import; the list is configuration)."""

from __future__ import annotations

from collections.abc import Sequence

from discord import app_commands

from bot.settings import ModelChoice

MAX_CHOICES = 25  # Discord shows at most 25 suggestions


def model_choices(models: Sequence[ModelChoice], current: str) -> list[app_commands.Choice[str]]:
    needle = current.strip().lower()
    matching = [m for m in models if needle in m.name.lower()] if needle else list(models)
    return [
        app_commands.Choice(name=f"{m.name} ({m.task_type.api_name})", value=m.name)
        for m in matching[:MAX_CHOICES]
    ]

"""Where Discord puts interaction tokens in what discord.py logs, so the log filter can cut them out.

An interaction token lets anyone post as the bot for 15 minutes. discord.py logs it at DEBUG in three
places: webhook URLs (`/webhooks/{application_id}/{token}/...`), interaction callback URLs
(`/interactions/{id}/{token}/callback`) and raw gateway events (INTERACTION_CREATE's `"token"`).
They are redacted by position, not by guessing a token's shape.
"""

from __future__ import annotations

import re

from bot.engine.api.redaction import REDACTED, Redaction

INTERACTION_TOKEN_PATTERNS: tuple[Redaction, ...] = (
    (re.compile(r"(/webhooks/\d+/)[^/?#\s'\"]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(/interactions/\d+/)[^/?#\s'\"]+"), rf"\g<1>{REDACTED}"),
    # The payload is logged as a Python dict (single quotes) or as JSON (double quotes).
    (re.compile(r"""(["']token["']\s*:\s*["'])[^"']*(["'])"""), rf"\g<1>{REDACTED}\g<2>"),
)

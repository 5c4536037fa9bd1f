"""Untrusted text from the gateway, made safe for logs and exception messages."""

from __future__ import annotations

_SNIPPET_CHARS = 200


def snippet(text: str, limit: int = _SNIPPET_CHARS) -> str:
    """A single-line, bounded excerpt of untrusted text, for exception messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

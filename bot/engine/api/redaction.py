"""Keeps secrets (API keys, bearer tokens) out of log output and error texts."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "***"
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s'\",;]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every given secret and every `Bearer <token>` in `text`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _BEARER.sub(rf"\1 {REDACTED}", text)


Redaction = tuple[re.Pattern[str], str]  # a pattern and its replacement (may use groups)


class RedactSecretsFilter(logging.Filter):
    """A logging filter that rewrites records so they never carry the given secrets.

    `secrets` are known values; `patterns` find secrets by position, for credentials whose values are
    not known in advance (a short-lived token in a URL path, a "token" field of a logged payload).
    Attach it to handlers (a filter on a logger does not see records propagated from its children):
    `install_redaction(secrets)` adds it to every handler of the root logger.
    """

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[Redaction] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)
        self._patterns = tuple(patterns)

    def _clean(self, text: str) -> str:
        text = redact(text, self._secrets)
        for pattern, replacement in self._patterns:
            text = pattern.sub(replacement, text)
        return text

    def add_secret(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = (*self._secrets, secret)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            # Format the traceback now, redacted: handlers reuse `exc_text` instead of reformatting.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


def install_redaction(
    secrets: Iterable[str], logger: logging.Logger | None = None, *, patterns: Iterable[Redaction] = ()
) -> RedactSecretsFilter:
    """Add one `RedactSecretsFilter` to every handler of `logger` (default: the root logger)."""
    redaction_filter = RedactSecretsFilter(secrets, patterns)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redaction_filter)
    return redaction_filter

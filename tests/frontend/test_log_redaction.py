"""Interaction tokens are cut out of log lines by where they stand, whatever they look like."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.engine.api.redaction import RedactSecretsFilter
from bot.frontend.log_redaction import INTERACTION_TOKEN_PATTERNS

TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OkZha2VUb2tlbi1XaXRoLUF6Xy0tMDk4"


def logged(message: str, *args: object) -> str:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactSecretsFilter(["bot-token-value"], INTERACTION_TOKEN_PATTERNS))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "line",
    [
        f"PATCH https://discord.com/api/v10/webhooks/123456/{TOKEN}/messages/@original has returned 200",
        f"POST /api/v10/webhooks/123456/{TOKEN}?wait=1 has returned 200",
        f"POST https://discord.com/api/v10/interactions/987654/{TOKEN}/callback?with_response=1",
        "For Shard ID None: WebSocket Event: "
        + str({"t": "INTERACTION_CREATE", "d": {"id": "1", "token": TOKEN}}),
        json.dumps({"type": 2, "token": TOKEN, "id": "5"}),
    ],
    ids=["webhook-edit", "followup", "callback", "gateway-dict", "gateway-json"],
)
def test_a_token_is_redacted_by_its_position(line: str) -> None:
    out = logged("%s", line)
    assert TOKEN not in out
    assert "***" in out


def test_a_token_in_an_exception_traceback_is_redacted_too() -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactSecretsFilter([], INTERACTION_TOKEN_PATTERNS))
    logger = logging.getLogger("test.redaction.exc")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise RuntimeError(f"failed on /webhooks/1/{TOKEN}/messages/2")
        except RuntimeError:
            logger.exception("edit failed")
    finally:
        logger.removeHandler(handler)
    assert TOKEN not in buffer.getvalue()
    assert "/webhooks/1/***/messages/2" in buffer.getvalue()

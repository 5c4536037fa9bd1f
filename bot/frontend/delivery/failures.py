"""How delivery tells Discord's refusals apart: what may pass (raise, the engine tries again later),
what is permanent (fall back to another route), and the invalid form (send the minimal rendering).

Network errors (OSError, aiohttp.ClientError, timeouts) are never caught here: no answer came, so
they may pass, and they reach the engine as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import discord

from bot.rendering import RenderedMessage

log = logging.getLogger(__name__)

T = TypeVar("T")

UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
INVALID_WEBHOOK_TOKEN = 50027
INVALID_FORM_BODY = 50035
REQUEST_ENTITY_TOO_LARGE = 40005


def may_pass(error: discord.HTTPException) -> bool:
    """429 and 5xx: discord.py already retried what it could; the engine tries again later.
    Every other 4xx is Discord's final word for this request on this route."""
    return error.status == 429 or error.status >= 500


def bot_token_refused(error: discord.HTTPException) -> bool:
    """401 on the bot's own routes (channel edits, sends, DMs): Discord refuses the bot, not this
    message, so every fallback would fail alike; it may pass once the token is fixed, so it is retried.
    (On the interaction-token route a 401 means that token expired, which is permanent.)"""
    return error.status == 401


def file_refused(error: discord.HTTPException) -> bool:
    """413/40005: Discord refused an uploaded file as too large; the message itself is fine."""
    return error.status == 413 or error.code == REQUEST_ENTITY_TOO_LARGE


def is_invalid_form(error: discord.HTTPException) -> bool:
    return error.status == 400 and error.code == INVALID_FORM_BODY


def describe_failure(error: BaseException) -> str:
    """A failure for the log: status and Discord code of an HTTP error, else only the exception's type
    (a network error's text may carry the request URL, and token routes have the token in it)."""
    if isinstance(error, discord.HTTPException):
        return f"{error.status} {error.code}"
    return type(error).__name__


async def minimal_if_invalid(
    send: Callable[[RenderedMessage], Awaitable[T]],
    full: RenderedMessage,
    minimal: Callable[[], RenderedMessage],
    *,
    key: str,
    what: str,
) -> tuple[T, bool]:
    """Send `full`; if Discord refuses it as an invalid form, send `minimal()` once instead (the same
    payload again would only be refused again). Returns the result and whether the minimal one went."""
    try:
        return await send(full), False
    except discord.HTTPException as error:
        if not is_invalid_form(error):
            raise
        log.warning("task %s: Discord refused the %s as an invalid form; sending a minimal one", key, what)
    return await send(minimal()), True

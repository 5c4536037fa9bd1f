"""The one place where errors of slash commands end: a friendly ephemeral answer, details in the log.

A `UserFacingError` raised anywhere in a command is the user's to read; any other error is a bug.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot import rendering
from bot.frontend.errors import UserFacingError

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

log = logging.getLogger(__name__)


class BotCommandTree(app_commands.CommandTree["MindProxyBot"]):
    async def on_error(
        self, interaction: discord.Interaction[MindProxyBot], error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        original: Any = getattr(error, "original", error)
        if isinstance(original, UserFacingError):
            message = original.message
            log.info("/%s refused for user %s: %s", command, interaction.user.id, original.log_detail)
        elif isinstance(error, app_commands.NoPrivateMessage):
            message = rendering.guild_only_message()
            log.info("/%s refused in a DM for user %s", command, interaction.user.id)
        elif isinstance(error, app_commands.TransformerError):
            message = rendering.invalid_option_message(error.type.name.lower(), error.value)
            log.info("/%s bad option from user %s: %s", command, interaction.user.id, error)
        else:
            log.error(
                "/%s failed for interaction %s",
                command,
                interaction.id,
                exc_info=(type(original), original, original.__traceback__),
            )
            message = rendering.unexpected_error_message()
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction[Any], message: str) -> None:
    """Answer only the caller, whether or not the interaction was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        # The interaction may be past its 3 s or 15 min window; the log already has the cause.
        log.warning("could not send the error answer for interaction %s", interaction.id, exc_info=True)


async def answering_errors(interaction: discord.Interaction[Any], action: Awaitable[None]) -> None:
    """Run a button's `action` the way the tree runs a command: a `UserFacingError` is answered
    privately with its message, any other error is logged and answered with an apology. (discord.py
    only logs what a button's callback raises, and the user would see "This interaction failed".)"""
    try:
        await action
    except UserFacingError as error:
        log.info("button refused for user %s: %s", interaction.user.id, error.log_detail)
        await send_ephemeral(interaction, error.message)
    except Exception:
        log.exception("button failed for interaction %s", interaction.id)
        await send_ephemeral(interaction, rendering.unexpected_error_message())

"""/notify on|off: whether the requester also gets a DM when a job ends. The choice is stored per
user (it follows them across servers); delivery (bot/frontend/delivery/completion_dm.py) reads it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import rendering
from bot.frontend.command_tree import send_ephemeral

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot


class NotifyCog(commands.Cog):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot

    @app_commands.command(name="notify", description="Get a DM with a link to the result when your jobs end")
    @app_commands.describe(setting="on: a DM when each of your jobs ends; off: no DMs")
    async def notify(
        self, interaction: discord.Interaction[MindProxyBot], setting: Literal["on", "off"]
    ) -> None:
        enabled = setting == "on"
        await self.bot.engine.set_notify_dm(interaction.user.id, enabled=enabled)
        await send_ephemeral(interaction, rendering.notify_setting_message(enabled))

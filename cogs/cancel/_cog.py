"""/cancel [task]: cancel one of your tasks, by default the most recent unfinished one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import rendering
from bot.frontend.command_tree import send_ephemeral
from cogs.cancel._button import CancelButton
from cogs.cancel._cancellation import cancel_for_user

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

AUTOCOMPLETE_LABEL_LIMIT = 100  # Discord's limit on a choice's name


class CancelCog(commands.Cog):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        # The button is persistent: registered again at every start, so old messages keep working.
        self.bot.add_dynamic_items(CancelButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(CancelButton)

    @app_commands.command(name="cancel", description="Cancel a generation you started")
    @app_commands.describe(task="The task to cancel (defaults to your most recent unfinished one)")
    @app_commands.guild_only()
    async def cancel(
        self,
        interaction: discord.Interaction[MindProxyBot],
        task: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        key = task.strip() if task else None
        if not key:
            active = await self.bot.engine.active_for_requester(interaction.user.id)
            if not active:
                await send_ephemeral(interaction, rendering.nothing_to_cancel_message())
                return
            key = active[0].key  # newest first
        await cancel_for_user(interaction, key, via_button=False)

    @cancel.autocomplete("task")
    async def _task_autocomplete(
        self, interaction: discord.Interaction[MindProxyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        active = await self.bot.engine.active_for_requester(interaction.user.id)
        needle = current.strip().lower()
        choices = []
        for record in active:
            label = f"{rendering.status_label(record)} · {record.model} · {record.prompt}"
            if needle and needle not in label.lower() and not record.key.startswith(needle):
                continue
            choices.append(app_commands.Choice(name=label[:AUTOCOMPLETE_LABEL_LIMIT], value=record.key))
        return choices[:25]

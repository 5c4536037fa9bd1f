"""The history cog: /tasks and /show, and the persistent paging buttons of /tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import rendering
from cogs.history._paging import TasksPageButton, tasks_page
from cogs.history._show import show_task

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

AUTOCOMPLETE_LABEL_LIMIT = 100  # Discord's limit on a choice's name
AUTOCOMPLETE_CHOICES = 25  # and on how many it shows


class HistoryCog(commands.Cog):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(TasksPageButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(TasksPageButton)

    @app_commands.command(name="tasks", description="Your recent tasks in this server")
    @app_commands.guild_only()
    async def tasks(self, interaction: discord.Interaction[MindProxyBot]) -> None:
        rendered, view = await tasks_page(interaction, interaction.user.id, 0)
        await interaction.response.send_message(
            # discord.py takes MISSING, not None, for "no buttons".
            embeds=list(rendered.embeds),
            view=view if view is not None else discord.utils.MISSING,
            ephemeral=True,
        )

    @app_commands.command(name="show", description="Show one of your tasks again, with its result")
    @app_commands.describe(
        task_id="The task's id, as its message or /tasks shows it (or its first 8 characters)",
        public="Show it to everyone in this channel (only your own tasks); only to you by default",
    )
    @app_commands.guild_only()
    async def show(
        self,
        interaction: discord.Interaction[MindProxyBot],
        task_id: app_commands.Range[str, 1, 100],
        public: bool = False,
    ) -> None:
        await show_task(interaction, task_id, public=public)

    @show.autocomplete("task_id")
    async def _task_autocomplete(
        self, interaction: discord.Interaction[MindProxyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        recent = await self.bot.engine.recent_for_requester(
            interaction.user.id, guild_id=interaction.guild_id, offset=0, limit=AUTOCOMPLETE_CHOICES * 2
        )
        needle = current.strip().lower()
        choices = []
        for record in recent:
            task_id = rendering.task_id_of(record)
            label = f"{rendering.status_label(record)} · {record.model} · {record.prompt}"
            if needle and needle not in label.lower() and not task_id.lower().startswith(needle):
                continue
            choices.append(app_commands.Choice(name=label[:AUTOCOMPLETE_LABEL_LIMIT], value=task_id))
        return choices[:AUTOCOMPLETE_CHOICES]

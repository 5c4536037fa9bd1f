"""/cancel [task_id]: cancel one of your tasks (a moderator: one in their channel), by default your
most recent unfinished one in this server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import rendering
from bot.frontend.command_tree import send_ephemeral
from bot.frontend.task_lookup import find_task
from cogs.cancel._button import CancelButton
from cogs.cancel._cancellation import cancel_for_user

if TYPE_CHECKING:
    from bot.engine import TaskRecord
    from bot.frontend.client import MindProxyBot

AUTOCOMPLETE_LABEL_LIMIT = 100  # Discord's limit on a choice's name
LEGACY_OPTION = "task"  # the option's name before it became task_id


class CancelCog(commands.Cog):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        # The button is persistent: registered again at every start, so old messages keep working.
        self.bot.add_dynamic_items(CancelButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(CancelButton)

    @app_commands.command(name="cancel", description="Cancel a generation you started")
    @app_commands.describe(
        task_id="The task's id, as its message shows it (or its first 8 characters); "
        "defaults to your most recent unfinished task here"
    )
    @app_commands.guild_only()
    async def cancel(
        self,
        interaction: discord.Interaction[MindProxyBot],
        task_id: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        # Until the commands are synced after an upgrade, Discord still sends the option under its old
        # name: read it, so "/cancel task:X" cancels X and never silently the latest task instead.
        legacy = getattr(interaction.namespace, LEGACY_OPTION, None)
        if task_id is None and isinstance(legacy, str):
            task_id = legacy
        if task_id is not None and task_id.strip():
            record = await find_task(interaction, task_id)
        else:
            mine_here = await self._unfinished_here(interaction)
            if not mine_here:
                await send_ephemeral(interaction, rendering.nothing_to_cancel_message())
                return
            record = mine_here[0]  # newest first
        await cancel_for_user(interaction, record, via_button=False)

    async def _unfinished_here(self, interaction: discord.Interaction[MindProxyBot]) -> list[TaskRecord]:
        """The caller's unfinished tasks in this server, newest first."""
        active = await self.bot.engine.active_for_requester(interaction.user.id)
        return [record for record in active if record.guild_id == interaction.guild_id]

    @cancel.autocomplete("task_id")
    async def _task_autocomplete(
        self, interaction: discord.Interaction[MindProxyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.strip().lower()
        choices = []
        for record in await self._unfinished_here(interaction):
            task_id = rendering.task_id_of(record)
            label = f"{rendering.status_label(record)} · {record.model} · {record.prompt}"
            if needle and needle not in label.lower() and not task_id.lower().startswith(needle):
                continue
            choices.append(app_commands.Choice(name=label[:AUTOCOMPLETE_LABEL_LIMIT], value=task_id))
        return choices[:25]

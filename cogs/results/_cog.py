"""The results cog: registers the persistent result buttons and answers their clicks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot import rendering
from bot.frontend.components import ResultAction
from bot.frontend.errors import UserFacingError
from cogs.results._button import COG_NAME, ResultButton
from cogs.results._delete import delete_result
from cogs.results._new_tasks import start_new_task
from cogs.results._reference import ReferenceChecker

if TYPE_CHECKING:
    from bot.engine import TaskRecord
    from bot.frontend.client import MindProxyBot


class ResultsCog(commands.Cog, name=COG_NAME):
    def __init__(self, bot: MindProxyBot) -> None:
        self.bot = bot
        self.checker: ReferenceChecker | None = None

    async def cog_load(self) -> None:
        self.checker = ReferenceChecker()
        # Persistent: registered again at every start, so results shown before it keep working.
        self.bot.add_dynamic_items(ResultButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ResultButton)
        if self.checker is not None:
            await self.checker.close()
            self.checker = None

    async def handle_click(
        self, interaction: discord.Interaction[MindProxyBot], action: ResultAction, key: str
    ) -> None:
        record = await self._finished_task(interaction, key)
        if action is ResultAction.DELETE:
            await delete_result(interaction, record)
            return
        if self.checker is None:  # unloaded between the click and now
            raise UserFacingError(rendering.busy_message(), log_detail="results cog unloaded")
        await start_new_task(interaction, record, action, self.checker)

    async def _finished_task(self, interaction: discord.Interaction[MindProxyBot], key: str) -> TaskRecord:
        """The task whose result was clicked; refused when it is unknown here or was pruned."""
        record = await self.bot.engine.get(key)
        if record is None and await self.bot.engine.was_forgotten(key):
            raise UserFacingError(rendering.task_forgotten_message(), log_detail=f"task {key} was pruned")
        if record is None or record.guild_id is None or record.guild_id != interaction.guild_id:
            raise UserFacingError(rendering.no_such_task_here_message(), log_detail=f"no task {key} here")
        if record.deleted_at is not None:
            raise UserFacingError(rendering.result_was_deleted_message(record), log_detail=f"{key} deleted")
        return record

"""The pages of /tasks and the buttons that turn them.

The buttons are persistent `DynamicItem`s rather than a view kept in memory with an `interaction_check`:
their custom_id carries the owner and the page, so a list keeps paging after a restart, nothing is kept
per list (a view would have to time out to be freed, leaving dead buttons on a message that is still
on screen), and the owner check is the same one line either way.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot import rendering
from bot.frontend.command_tree import answering_errors
from bot.frontend.errors import UserFacingError

if TYPE_CHECKING:
    from bot.frontend.client import MindProxyBot

# e.g. "mindproxy:tasks:1312345678901234567:2": user 1312345678901234567's page 3 (0-based)
TASKS_PAGE_TEMPLATE = r"mindproxy:tasks:(?P<owner>[0-9]{1,20}):(?P<page>[0-9]{1,6})"


def page_button(owner_id: int, page: int, *, label: str, emoji: str) -> discord.ui.Button[Any]:
    return discord.ui.Button(
        label=label,
        emoji=emoji,
        style=discord.ButtonStyle.secondary,
        custom_id=f"mindproxy:tasks:{owner_id}:{page}",
    )


def page_view(owner_id: int, page: int, pages: int) -> discord.ui.View | None:
    """Previous and Next as far as there are pages; None when everything fits on one."""
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    if page > 0:
        view.add_item(page_button(owner_id, page - 1, label="Previous", emoji="◀️"))
    if page < pages - 1:
        view.add_item(page_button(owner_id, page + 1, label="Next", emoji="▶️"))
    view.stop()  # clicks go through the registered DynamicItem; discord.py need not keep this view
    return view


async def tasks_page(
    interaction: discord.Interaction[MindProxyBot], owner_id: int, page: int
) -> tuple[rendering.RenderedMessage, discord.ui.View | None]:
    """Page `page` (0-based, kept within the pages there are now) of the owner's tasks in this server."""
    engine = interaction.client.engine
    guild_id = interaction.guild_id or 0
    total = await engine.count_for_requester(owner_id, guild_id=guild_id)
    pages = rendering.page_count(total)
    page = min(max(page, 0), pages - 1)
    records = await engine.recent_for_requester(
        owner_id, guild_id=guild_id, offset=page * rendering.TASKS_PER_PAGE, limit=rendering.TASKS_PER_PAGE
    )
    return rendering.render_task_list(records, page=page, total=total), page_view(owner_id, page, pages)


class TasksPageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TASKS_PAGE_TEMPLATE):
    def __init__(self, owner_id: int, page: int) -> None:
        self.owner_id = owner_id
        self.page = page
        super().__init__(page_button(owner_id, page, label="Page", emoji="📄"))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> TasksPageButton:
        return cls(int(match["owner"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction[MindProxyBot]) -> None:  # type: ignore[override]
        await answering_errors(interaction, self._turn(interaction))

    async def _turn(self, interaction: discord.Interaction[MindProxyBot]) -> None:
        # The list is private, so only its owner sees these buttons; a forged click is refused anyway.
        if interaction.user.id != self.owner_id or interaction.guild_id is None:
            raise UserFacingError(rendering.not_your_list_message(), log_detail="paging someone else's list")
        rendered, view = await tasks_page(interaction, self.owner_id, self.page)
        await interaction.response.edit_message(embeds=list(rendered.embeds), view=view)

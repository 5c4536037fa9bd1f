"""Reroll, Vary and Animate: a new task made from a finished one, owned by whoever clicked.

Each becomes a `TaskRequest` for the same submission flow as a slash command (limits, prompt length,
the row before any gateway call, a status message with its own Cancel button), keyed by the click's
interaction id, so a click delivered twice still makes one task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot import rendering
from bot.engine.api.models import TaskType
from bot.frontend.components import ResultAction
from bot.frontend.errors import UserFacingError
from bot.frontend.submission import TaskOrigin, TaskRequest, ensure_accepting, submit_task
from bot.settings import ModelChoice
from cogs.results._reference import ReferenceChecker, result_image_url

if TYPE_CHECKING:
    from bot.engine import TaskRecord
    from bot.frontend.client import MindProxyBot


def _configured(model: str, choices: Sequence[ModelChoice]) -> ModelChoice:
    """The task's model as configured now; refused when it is no longer offered."""
    wanted = model.lower()
    found = next((choice for choice in choices if choice.name.lower() == wanted), None)
    if found is None:
        raise UserFacingError(rendering.model_gone_message(model), log_detail=f"model {model} gone")
    return found


def _reroll(interaction: discord.Interaction[MindProxyBot], record: TaskRecord) -> TaskRequest:
    settings = interaction.client.settings
    is_video = record.task_type is TaskType.VIDEO
    models = settings.video_models if is_video else settings.imagine_models
    return TaskRequest(
        command="video" if is_video else "imagine",
        model=_configured(record.model, models),
        prompt=record.prompt,
        input_assets=record.input_assets,
        origin=TaskOrigin(record.key, ResultAction.REROLL.value),
    )


def _from_result_image(
    interaction: discord.Interaction[MindProxyBot], record: TaskRecord, action: ResultAction
) -> TaskRequest:
    image_url = result_image_url(record, interaction.message)
    if image_url is None:
        raise UserFacingError(rendering.no_result_image_message(), log_detail="no image in the result")
    assets: dict[str, Any] = {"image_url": image_url}
    settings = interaction.client.settings
    if action is ResultAction.ANIMATE:
        # The result becomes the start frame of a video with the default video model.
        return TaskRequest(
            command="video",
            model=settings.video_models[0],
            prompt=record.prompt,
            input_assets=assets,
            origin=TaskOrigin(record.key, action.value),
        )
    return TaskRequest(
        command="imagine",
        model=_configured(record.model, settings.imagine_models),
        prompt=record.prompt,
        input_assets=assets,
        origin=TaskOrigin(record.key, action.value),
    )


async def start_new_task(
    interaction: discord.Interaction[MindProxyBot],
    record: TaskRecord,
    action: ResultAction,
    checker: ReferenceChecker,
) -> None:
    """Make the task `action` asks for from `record` and answer the click with its status message."""
    ensure_accepting(interaction)
    if action is ResultAction.REROLL:
        request = _reroll(interaction, record)
    else:
        request = _from_result_image(interaction, record, action)
    image_url = (request.input_assets or {}).get("image_url")
    if isinstance(image_url, str):
        problem = await checker.problem_with(image_url)
        if problem is not None:
            raise UserFacingError(
                rendering.reference_gone_message(action.value, problem),
                log_detail=f"{action.value} of {record.key}: the reference image is gone ({problem})",
            )
    await submit_task(interaction, request)

"""Typed errors of the task API client.

Every error carries the HTTP status (when there was one), the gateway's own error code (when it sent
one) and a `user_message` that is safe to show in Discord. Nothing here ever holds the API key.
"""

from __future__ import annotations

from bot.engine.api.text import snippet


class TaskApiError(Exception):
    """Base of every error the task API client raises."""

    default_user_message = "The generation service returned an unexpected error."
    #: Whether the same request may succeed later (used by the engine to decide between retry and give-up).
    transient = False
    #: Whether the request may have reached the gateway (for a create: the gateway may hold the task).
    #: The client sets it on transient failures; a 4xx answer means the gateway saw it and made nothing.
    maybe_sent = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: str | None = None,
        user_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code
        self.user_message = user_message or self.default_user_message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self)!r}, status_code={self.status_code!r}, "
            f"error_code={self.error_code!r})"
        )


class AuthenticationError(TaskApiError):
    """401/403: the API key is missing, wrong or not allowed."""

    default_user_message = "The bot's MindProxy API key was refused. An administrator needs to fix it."


class RequestRejectedError(TaskApiError):
    """400/422: the gateway refused the request (unknown model, task type not enabled, bad input)."""

    default_user_message = "The generation service refused this request."


class TaskNotFoundError(TaskApiError):
    """404: no such task."""

    default_user_message = "The generation service does not know this task."


class RateLimitedError(TaskApiError):
    """429 after every retry."""

    default_user_message = "The generation service is busy right now. Please try again in a minute."
    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class GatewayUnavailableError(TaskApiError):
    """Connect errors, timeouts and 5xx after every retry."""

    default_user_message = "The generation service is unreachable right now. Please try again later."
    transient = True


class MalformedResponseError(TaskApiError):
    """The gateway answered with a body we cannot understand."""

    default_user_message = "The generation service sent an answer the bot could not read."
    transient = True
    maybe_sent = True  # it answered: the gateway had the request


def rejection_message(code: str | None, message: str | None, context: dict[str, str] | None) -> str:
    """A specific, friendly explanation for Discord users of why the gateway refused a request."""
    context = context or {}
    clue = f"{code or ''} {message or ''}".lower()
    # The gateway's own words stay visible after the friendly line: they are what support needs.
    said = f' The service said: "{snippet(message, 150)}"' if message else ""
    if "model" in clue:
        model = context.get("model")
        named = f"The model `{model}`" if model else "This model"
        return f"{named} is not available on the generation service.{said}"
    if "task_type" in clue or "task type" in clue or "not_enabled" in clue or "not enabled" in clue:
        task_type = context.get("task_type")
        named = f"`{task_type}` generation" if task_type else "This kind of generation"
        return f"{named} is not enabled on the generation service yet.{said}"
    if "finished" in clue or "terminal" in clue or "already" in clue:
        return f"This task has already finished.{said}"
    if message:
        return f"The generation service refused this request: {snippet(message, 150)}"
    return RequestRejectedError.default_user_message

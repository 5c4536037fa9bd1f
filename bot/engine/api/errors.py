"""Typed errors of the task API client.

Every error carries the HTTP status (when there was one), the gateway's own error code (when it sent
one) and a `user_message` that is safe to show in Discord. Nothing here ever holds the API key.
"""

from __future__ import annotations


class TaskApiError(Exception):
    """Base of every error the task API client raises."""

    default_user_message = "The generation service returned an unexpected error."
    #: Whether the same request may succeed later (used by the engine to decide between retry and give-up).
    transient = False

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

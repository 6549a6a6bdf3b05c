"""Typed errors. Every error carries what a log line needs and never a token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "BexioError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableError",
    "RateLimitError",
    "ServerError",
    "NetworkError",
    "ConnectError",
    "RequestTimeoutError",
    "ConnectionDroppedError",
    "OAuthError",
    "ReconnectRequired",
    "error_for_status",
    "normalise_message",
]


def normalise_message(message: Any) -> str:
    """bexio sends `message` as a string, a list of strings, or not at all."""
    if message is None:
        return ""
    if isinstance(message, str):
        return message
    if isinstance(message, list | tuple):
        return "; ".join(normalise_message(m) for m in message if m not in (None, ""))
    if isinstance(message, Mapping):
        return "; ".join(f"{k}: {normalise_message(v)}" for k, v in message.items())
    return str(message)


class BexioError(Exception):
    """Base of all errors raised by this package."""

    def __init__(
        self,
        message: Any = "",
        *,
        status: int | None = None,
        error_code: int | str | None = None,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        errors: Any = None,
    ) -> None:
        self.message = normalise_message(message)
        self.status = status
        self.error_code = error_code
        self.method = method
        self.path = path
        self.body = body
        self.headers = dict(headers or {})
        self.errors = errors
        super().__init__(self.message)

    @property
    def full_message(self) -> str:
        """bexio's message with the field errors it lists (e.g. 400 "The form could not be saved"
        followed by what was wrong), verbatim, for the person who has to fix it."""
        details = normalise_message(self.errors)
        if details and details not in self.message:
            return f"{self.message}: {details}" if self.message else details
        return self.message

    def __str__(self) -> str:
        parts = []
        if self.method or self.path:
            parts.append(f"{self.method or ''} {self.path or ''}".strip())
        if self.status is not None:
            parts.append(f"-> {self.status}")
        if self.error_code is not None and self.error_code != self.status:
            parts.append(f"[{self.error_code}]")
        if self.message:
            parts.append(self.message)
        return " ".join(parts) or type(self).__name__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class BadRequestError(BexioError):
    """400 and any 4xx without a more specific class (411, 415, ...)."""


class AuthenticationError(BexioError):
    """401: the access token was rejected."""


class PermissionDeniedError(BexioError):
    """403: the token lacks the scope or the consenting user lacks the right in bexio."""


class NotFoundError(BexioError):
    """404."""


class ConflictError(BexioError):
    """409, e.g. "tax can not be deleted"."""


class UnprocessableError(BexioError):
    """422: bexio could not save the entity (the message may be empty)."""


class RateLimitError(BexioError):
    """429 after the retries were used up."""

    @property
    def retry_after(self) -> float | None:
        for name in ("retry-after", "ratelimit-reset"):
            value = self.headers.get(name) or self.headers.get(name.title())
            if value is not None:
                try:
                    return float(value)
                except ValueError:
                    return None
        return None


class ServerError(BexioError):
    """5xx."""


class InvalidResponseError(BexioError):
    """bexio answered (2xx) with a body that is not JSON or not of the expected shape."""


class NetworkError(BexioError):
    """No HTTP answer: connection failed, timed out or dropped."""


class ConnectError(NetworkError):
    """The connection could not be established (the request was not sent)."""


class RequestTimeoutError(NetworkError):
    """Connect, read, write or pool timeout."""


class ConnectionDroppedError(NetworkError):
    """The connection broke while the request or response was in flight."""


class OAuthError(BexioError):
    """An error answer of the token, revoke or userinfo endpoint."""

    def __init__(self, error: str, description: str | None = None, **kwargs: Any) -> None:
        self.error = error
        self.description = description or ""
        kwargs.setdefault("error_code", error)
        super().__init__(f"{error}: {description}" if description else error, **kwargs)


class ReconnectRequired(BexioError):
    """The grant is gone (no token stored, or the refresh token is no longer valid)."""

    def __init__(self, message: str = "bexio must be connected again", *, reason: str = "invalid_grant"):
        self.reason = reason
        super().__init__(message, error_code=reason)


_BY_STATUS: dict[int, type[BexioError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableError,
    429: RateLimitError,
}


def error_for_status(status: int) -> type[BexioError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    if status >= 400:
        return BadRequestError
    return BexioError

"""The exceptions this package raises.

Every error is a :class:`SegmindError`. HTTP errors carry the status code, the
server's message, the parsed body and the request id, so a caller can log them
without digging into the response. The API key never appears in any of them.

>>> try:
...     client.generate_content(request)
... except RateLimitError as exc:
...     print(exc.status_code, exc.retry_after)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ContentBlockedError",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidAPIKeyError",
    "InvalidContentTypeError",
    "InvalidRequestError",
    "MediaError",
    "MissingAPIKeyError",
    "ModelRetiredError",
    "NotFoundError",
    "PermissionDeniedError",
    "QueueJobFailedError",
    "RateLimitError",
    "ResponseParseError",
    "SegmindError",
    "UnprocessableEntityError",
]


class SegmindError(Exception):
    """Base class of every error raised by segmind-gemini.

    Attributes:
        message: what went wrong, in words (the server's own message for HTTP errors).
        status_code: the HTTP status, or ``None`` when no response was received.
        body: the parsed response body (``dict``), its text, or ``None``.
        request_id: Segmind's ``x-request-id`` when the server sent one.
    """

    status_code: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.body = body
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None:
            parts.insert(0, f"HTTP {self.status_code}:")
        if self.request_id:
            parts.append(f"(request id {self.request_id})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class InvalidRequestError(SegmindError, ValueError):
    """The request was refused before sending: it would not be valid for Segmind or Gemini."""


class InvalidAPIKeyError(InvalidRequestError):
    """The API key holds a character no key has (refused before sending; never quoted)."""


class MediaError(InvalidRequestError):
    """An image, document, audio or video input could not be loaded or is not accepted."""


class ResponseParseError(SegmindError):
    """The server answered 200 with a body that is not a Gemini (or OpenAI-shaped) response."""


class ContentBlockedError(SegmindError):
    """Gemini blocked the prompt: the response has no candidates.

    ``block_reason`` holds ``promptFeedback.blockReason`` (``SAFETY``, ``OTHER``, ...).
    """

    def __init__(
        self,
        message: str,
        *,
        block_reason: str | None = None,
        safety_ratings: list[dict[str, Any]] | None = None,
        status_code: int | None = None,
        body: Any = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body, request_id=request_id)
        self.block_reason = block_reason
        self.safety_ratings = safety_ratings or []


class APIConnectionError(SegmindError):
    """No usable response: the connection failed, was reset, or the body was cut short."""


class APITimeoutError(APIConnectionError):
    """The call did not finish within ``timeout`` seconds."""


class APIStatusError(SegmindError):
    """The server answered with an error status."""


class BadRequestError(APIStatusError):
    """HTTP 400: the request body was rejected."""

    status_code = 400


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing or invalid."""

    status_code = 401


class MissingAPIKeyError(AuthenticationError):
    """No API key was configured, so nothing was sent (``status_code`` is ``None``).

    Raised by the first call, not by constructing a client or a framework model, so
    models can be built in configuration code before the key is set.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        # An instance attribute (AuthenticationError's class says 401), so copies such
        # as the LangChain error types keep it too.
        self.__dict__["status_code"] = None


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key may not use this model."""

    status_code = 403


class NotFoundError(APIStatusError):
    """HTTP 404: no such model slug or route."""

    status_code = 404


class InsufficientCreditsError(APIStatusError):
    """HTTP 406 "Insufficient credits": top up at segmind.com to continue."""

    status_code = 406


class InvalidContentTypeError(APIStatusError):
    """HTTP 406 "Invalid content type": the request was not sent as JSON."""

    status_code = 406


class ModelRetiredError(APIStatusError):
    """HTTP 410: the model slug is retired. ``current_models`` lists the slugs to use instead."""

    status_code = 410

    def __init__(self, message: str, *, current_models: list[str] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.current_models = current_models or []


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: the request failed validation (also a FAILED queue job)."""

    status_code = 422


class QueueJobFailedError(UnprocessableEntityError):
    """A queued (v2) job finished with status ``FAILED``."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests. ``retry_after`` is the server's hint in seconds, if any."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """HTTP 5xx: the gateway or the provider failed (a 500 is often a bad parameter value)."""

    status_code = 500

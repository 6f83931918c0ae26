"""Errors that are both LangChain's ``Model*Error`` types and segmind-gemini's own.

LangChain 1.x code catches provider-neutral types (``ModelRateLimitError``,
``ModelAuthenticationError``, ...); code written against the core catches
:class:`segmind_gemini.SegmindError` subclasses. Every error this adapter raises
is both, so either ``except`` works::

    from langchain_core.exceptions import ModelRateLimitError
    from segmind_gemini import RateLimitError

    try:
        model.invoke("Hi")
    except ModelRateLimitError as exc:  # also an instance of RateLimitError
        print(exc.status_code, exc.retry_after, exc.request_id)

The core error is re-raised as the matching class below with the same message,
status code, body, request id and extra attributes (``retry_after``,
``current_models``, ``block_reason``...), chained ``from`` the original.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)

from segmind_gemini.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContentBlockedError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidContentTypeError,
    InvalidRequestError,
    MediaError,
    ModelRetiredError,
    NotFoundError,
    PermissionDeniedError,
    QueueJobFailedError,
    RateLimitError,
    ResponseParseError,
    SegmindError,
    UnprocessableEntityError,
)

__all__ = [
    "SegmindAPIError",
    "SegmindAuthenticationError",
    "SegmindBadRequestError",
    "SegmindConnectionError",
    "SegmindContentBlockedError",
    "SegmindContextOverflowError",
    "SegmindInsufficientCreditsError",
    "SegmindInternalServerError",
    "SegmindInvalidRequestError",
    "SegmindMediaError",
    "SegmindModelRetiredError",
    "SegmindNotFoundError",
    "SegmindPermissionDeniedError",
    "SegmindRateLimitError",
    "SegmindRequestRejectedError",
    "SegmindResponseParseError",
    "SegmindTimeoutError",
    "SegmindUnprocessableEntityError",
    "to_langchain_error",
]


class SegmindAuthenticationError(AuthenticationError, ModelAuthenticationError):
    """HTTP 401, or no API key configured: check ``SEGMIND_API_KEY`` / ``api_key=``."""


class SegmindPermissionDeniedError(PermissionDeniedError, ModelPermissionDeniedError):
    """HTTP 403: the key may not use this model."""


class SegmindInsufficientCreditsError(InsufficientCreditsError, ModelPermissionDeniedError):
    """HTTP 406 "Insufficient credits".

    Classed with permission errors because retrying cannot help until the
    account is topped up (LangChain has no billing-specific type).
    """


class SegmindNotFoundError(NotFoundError, ModelNotFoundError):
    """HTTP 404: no such model slug."""


class SegmindModelRetiredError(ModelRetiredError, ModelNotFoundError):
    """HTTP 410: the slug is retired; ``current_models`` lists what to use instead."""


class SegmindBadRequestError(BadRequestError, ModelInvalidRequestError):
    """HTTP 400: the request body was rejected."""


class SegmindContextOverflowError(SegmindBadRequestError, ContextOverflowError):
    """HTTP 400 because the input is longer than the model's context window.

    Also LangChain's ``ContextOverflowError``, which e.g. the summarization
    middleware catches to shorten the history and try again.
    """


# Gemini: "The input token count (1234567) exceeds the maximum number of tokens allowed
# (1048576)."; the other phrases are what gateways in front of it have been seen to say.
_OVERFLOW = re.compile(
    r"input token count|exceeds the maximum number of tokens|maximum context length|"
    r"context (?:length|window) (?:exceeded|is exceeded)|context_length_exceeded",
    re.IGNORECASE,
)


class SegmindUnprocessableEntityError(UnprocessableEntityError, ModelInvalidRequestError):
    """HTTP 422: the request failed Segmind's validation."""


class SegmindInvalidRequestError(InvalidRequestError, ModelInvalidRequestError):
    """Refused before sending: the messages cannot be expressed as a Gemini request."""


class SegmindMediaError(MediaError, ModelInvalidRequestError):
    """An image, document, audio or video block could not be loaded or is not accepted."""


class SegmindRateLimitError(RateLimitError, ModelRateLimitError):
    """HTTP 429 after retries; ``retry_after`` holds the server's hint in seconds."""


class SegmindInternalServerError(InternalServerError, ModelAPIError):
    """HTTP 5xx after retries."""


class SegmindAPIError(APIStatusError, ModelAPIError):
    """Any other error status."""


class SegmindRequestRejectedError(APIStatusError, ModelInvalidRequestError):
    """Any other 4xx answer (405 for a wrong URL or method, 413 for a body too large...).

    Repeating the request cannot help, so unlike ``ModelAPIError`` it is not retryable.
    """


# 4xx statuses that say "try again later" rather than "this request is wrong".
_TRANSIENT_4XX = frozenset({408, 409, 425, 429})


class SegmindResponseParseError(ResponseParseError, ModelAPIError):
    """HTTP 200 with a body that is not a Gemini (or OpenAI-shaped) answer."""


class SegmindConnectionError(APIConnectionError, ModelConnectionError):
    """No usable answer: connection refused or reset, or a body cut short."""


class SegmindTimeoutError(APITimeoutError, ModelTimeoutError):
    """The call did not finish within ``timeout`` seconds."""


class SegmindContentBlockedError(ContentBlockedError, ModelRefusalError):
    """Gemini blocked the prompt itself (``promptFeedback.blockReason``).

    A blocked *answer* (finish reason ``SAFETY``) is not an error: it comes back
    as a normal message whose ``response_metadata["finish_reason"]`` says so.
    """


# Most specific first: the first core class in an error's MRO found here decides.
_EXPLICIT: dict[type[SegmindError], type[SegmindError]] = {
    AuthenticationError: SegmindAuthenticationError,
    PermissionDeniedError: SegmindPermissionDeniedError,
    InsufficientCreditsError: SegmindInsufficientCreditsError,
    NotFoundError: SegmindNotFoundError,
    ModelRetiredError: SegmindModelRetiredError,
    BadRequestError: SegmindBadRequestError,
    UnprocessableEntityError: SegmindUnprocessableEntityError,
    MediaError: SegmindMediaError,
    InvalidRequestError: SegmindInvalidRequestError,
    RateLimitError: SegmindRateLimitError,
    InternalServerError: SegmindInternalServerError,
    APIStatusError: SegmindAPIError,
    ResponseParseError: SegmindResponseParseError,
    APITimeoutError: SegmindTimeoutError,
    APIConnectionError: SegmindConnectionError,
    ContentBlockedError: SegmindContentBlockedError,
}

# Which LangChain type a core class (or its nearest listed ancestor) maps to, for
# core subclasses without an explicit class above.
_LANGCHAIN_BASE: dict[type[SegmindError], type[ModelError]] = {
    AuthenticationError: ModelAuthenticationError,
    PermissionDeniedError: ModelPermissionDeniedError,
    InsufficientCreditsError: ModelPermissionDeniedError,
    NotFoundError: ModelNotFoundError,
    ModelRetiredError: ModelNotFoundError,
    # A failed queue job is the service failing the work, not a malformed request.
    QueueJobFailedError: ModelAPIError,
    InvalidContentTypeError: ModelInvalidRequestError,
    BadRequestError: ModelInvalidRequestError,
    UnprocessableEntityError: ModelInvalidRequestError,
    InvalidRequestError: ModelInvalidRequestError,
    RateLimitError: ModelRateLimitError,
    InternalServerError: ModelAPIError,
    APIStatusError: ModelAPIError,
    ResponseParseError: ModelAPIError,
    APITimeoutError: ModelTimeoutError,
    APIConnectionError: ModelConnectionError,
    ContentBlockedError: ModelRefusalError,
}

_DYNAMIC: dict[type[SegmindError], type[SegmindError]] = {}


def _class_for(core_cls: type[SegmindError]) -> type[SegmindError]:
    explicit = _EXPLICIT.get(core_cls)
    if explicit is not None:
        return explicit
    made = _DYNAMIC.get(core_cls)
    if made is not None:
        return made
    # A core subclass with no class here (QueueJobFailedError, a future one) gets
    # one made on the spot, so `except QueueJobFailedError` still matches.
    base: type[ModelError] = ModelAPIError
    for ancestor in core_cls.__mro__:
        if ancestor in _LANGCHAIN_BASE:
            base = _LANGCHAIN_BASE[ancestor]
            break
    made = type(
        f"Segmind{core_cls.__name__}",
        (core_cls, base),
        {"__module__": __name__, "__doc__": core_cls.__doc__},
    )
    _DYNAMIC[core_cls] = made
    # Reachable by name, so the error survives pickling (multiprocessing, task queues).
    globals().setdefault(made.__name__, made)
    return made


def to_langchain_error(exc: SegmindError) -> SegmindError:
    """The same error as an instance that is also LangChain's matching ``Model*Error``.

    Already-converted errors are returned unchanged.

    >>> err = to_langchain_error(RateLimitError("slow down", status_code=429))
    >>> isinstance(err, ModelRateLimitError), isinstance(err, RateLimitError)
    (True, True)
    """
    if isinstance(exc, ModelError):
        return exc
    cls = _class_for(type(exc))
    if cls is SegmindBadRequestError and _OVERFLOW.search(exc.message):
        cls = SegmindContextOverflowError
    status = exc.status_code
    if (
        cls is SegmindAPIError
        and status is not None
        and 400 <= status < 500
        and status not in _TRANSIENT_4XX
    ):
        cls = SegmindRequestRejectedError
    # Copy rather than re-construct: subclasses take different constructor
    # arguments, and every attribute (retry_after, block_reason...) must survive.
    new: Any = cls.__new__(cls, *exc.args)
    new.args = exc.args
    new.__dict__.update(exc.__dict__)
    if isinstance(new, ModelRefusalError) and "raw_message" not in new.__dict__:
        new.raw_message = None
    return new  # type: ignore[no-any-return]

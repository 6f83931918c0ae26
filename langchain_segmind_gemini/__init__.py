"""LangChain integration for Segmind's hosted Gemini models.

>>> from langchain_segmind_gemini import ChatSegmindGemini
>>> model = ChatSegmindGemini(model="gemini-2.5-flash")  # key from $SEGMIND_API_KEY
>>> model.invoke("Say hi").content
"""

from segmind_gemini._version import __version__

from ._errors import (
    SegmindAPIError,
    SegmindAuthenticationError,
    SegmindBadRequestError,
    SegmindConnectionError,
    SegmindContentBlockedError,
    SegmindInsufficientCreditsError,
    SegmindInternalServerError,
    SegmindInvalidRequestError,
    SegmindMediaError,
    SegmindModelRetiredError,
    SegmindNotFoundError,
    SegmindPermissionDeniedError,
    SegmindRateLimitError,
    SegmindResponseParseError,
    SegmindTimeoutError,
    SegmindUnprocessableEntityError,
)
from .chat_models import ChatSegmindGemini

__all__ = [
    "ChatSegmindGemini",
    "SegmindAPIError",
    "SegmindAuthenticationError",
    "SegmindBadRequestError",
    "SegmindConnectionError",
    "SegmindContentBlockedError",
    "SegmindInsufficientCreditsError",
    "SegmindInternalServerError",
    "SegmindInvalidRequestError",
    "SegmindMediaError",
    "SegmindModelRetiredError",
    "SegmindNotFoundError",
    "SegmindPermissionDeniedError",
    "SegmindRateLimitError",
    "SegmindResponseParseError",
    "SegmindTimeoutError",
    "SegmindUnprocessableEntityError",
    "__version__",
]

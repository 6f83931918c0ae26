"""LangChain integration for Segmind's hosted Gemini models.

>>> from langchain_segmind_gemini import ChatSegmindGemini
>>> model = ChatSegmindGemini(model="gemini-2.5-flash")  # key from $SEGMIND_API_KEY
>>> model.invoke("Say hi").content
"""

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "langchain_segmind_gemini needs langchain-core: pip install 'segmind-gemini[langchain]'"
    ) from exc

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

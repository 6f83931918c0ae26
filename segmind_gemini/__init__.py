"""segmind-gemini core: Segmind's hosted Gemini models over HTTP, with no framework imports.

>>> from segmind_gemini import SegmindGeminiClient
>>> client = SegmindGeminiClient(model="gemini-2.5-flash")  # key from $SEGMIND_API_KEY
>>> client.generate_content({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}).text
"""

from ._version import __version__
from .client import ApiMode, SegmindGeminiClient
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContentBlockedError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidAPIKeyError,
    InvalidContentTypeError,
    InvalidRequestError,
    MediaError,
    MissingAPIKeyError,
    ModelRetiredError,
    NotFoundError,
    PermissionDeniedError,
    QueueJobFailedError,
    RateLimitError,
    ResponseParseError,
    SegmindError,
    UnprocessableEntityError,
)
from .registry import CURRENT_MODELS, ModelInfo, get_model_info
from .response import GenerateContentResult, SegmindHeaders, Usage
from .retries import RetryPolicy
from .structured import StructuredOutputError
from .tools import InvalidToolCall, ToolCall, ToolResult, ToolSpec

__all__ = [
    "CURRENT_MODELS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ApiMode",
    "AuthenticationError",
    "BadRequestError",
    "ContentBlockedError",
    "GenerateContentResult",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidAPIKeyError",
    "InvalidContentTypeError",
    "InvalidRequestError",
    "InvalidToolCall",
    "MediaError",
    "MissingAPIKeyError",
    "ModelInfo",
    "ModelRetiredError",
    "NotFoundError",
    "PermissionDeniedError",
    "QueueJobFailedError",
    "RateLimitError",
    "ResponseParseError",
    "RetryPolicy",
    "SegmindError",
    "SegmindGeminiClient",
    "SegmindHeaders",
    "StructuredOutputError",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "UnprocessableEntityError",
    "Usage",
    "__version__",
    "get_model_info",
]

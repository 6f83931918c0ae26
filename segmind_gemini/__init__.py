"""segmind-gemini core: Segmind's hosted Gemini models over HTTP, with no framework imports.

>>> from segmind_gemini import SegmindGeminiClient
>>> client = SegmindGeminiClient(model="gemini-2.5-flash")  # key from $SEGMIND_API_KEY
>>> client.generate_content({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}).text
"""

from segmind_gemini._version import __version__
from segmind_gemini.client.gemini_client import ApiMode, SegmindGeminiClient
from segmind_gemini.client.retries import RetryPolicy
from segmind_gemini.errors import (
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
from segmind_gemini.planning.structured import StructuredOutputError
from segmind_gemini.registry import CURRENT_MODELS, ModelInfo, get_model_info
from segmind_gemini.tools import InvalidToolCall, ToolCall, ToolResult, ToolSpec
from segmind_gemini.wire.response import GenerateContentResult, SegmindHeaders, Usage

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

"""Map an HTTP error answer to the right exception, with the server's own words."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from segmind_gemini.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidContentTypeError,
    ModelRetiredError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from segmind_gemini.registry import current_model_slugs

__all__ = ["MAX_JSON_DEPTH", "TooDeep", "decode_body", "error_for_status", "extract_message"]

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.IGNORECASE | re.DOTALL)


#: JSON nested deeper than this is not read: no answer needs it, and walking it
#: (redaction, copies in the frameworks) would exhaust the stack.
MAX_JSON_DEPTH = 100


class TooDeep(str):
    """The text of a body that is valid JSON but nested deeper than :data:`MAX_JSON_DEPTH`."""


def decode_body(content: bytes | str) -> Any:
    """JSON-decode a body; return the text (or ``None`` when empty) when it is not JSON.

    A body nested deeper than :data:`MAX_JSON_DEPTH` comes back as :class:`TooDeep` text.
    """
    if not content:
        return None
    try:
        value = json.loads(content)
    except RecursionError:
        return TooDeep(_text(content))
    except ValueError:
        return _text(content)
    if _brackets(content) > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        return TooDeep(_text(content))
    return value


def _brackets(content: bytes | str) -> int:
    # Only a body with enough brackets can be too deep; most answers have a few dozen.
    if isinstance(content, bytes):
        return content.count(b"[") + content.count(b"{")
    return content.count("[") + content.count("{")


def _text(content: bytes | str) -> str:
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def _deeper_than(value: Any, limit: int) -> bool:
    if not isinstance(value, (dict, list)):
        return False
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def extract_message(body: Any, limit: int = 300) -> str:
    """The server's message from any of the error shapes Segmind and Google use."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, str) and err:
            return err
        if isinstance(err, Mapping):
            msg = err.get("message") or err.get("status")
            if msg:
                return str(msg)
        for key in ("message", "detail", "msg"):
            if body.get(key):
                return str(body[key])
        return json.dumps(body)[:limit]
    if isinstance(body, str):
        # A proxy's HTML page: keep its words, not its markup.
        text = _SPACE.sub(" ", _TAG.sub(" ", _SCRIPT.sub(" ", body))).strip()
        return (text[:limit] + "...") if len(text) > limit else text
    return "no response body"


def error_for_status(
    status: int,
    body: Any,
    *,
    request_id: str | None,
    model: str,
    retry_after: float | None = None,
) -> APIStatusError:
    """Build the exception for an error status (does not raise it)."""
    message = extract_message(body) or f"HTTP {status}"
    kw: dict[str, Any] = {"status_code": status, "body": body, "request_id": request_id}
    if status == 400:
        return BadRequestError(message, **kw)
    if status == 401:
        return AuthenticationError(
            f"{message} (check SEGMIND_API_KEY or api_key=...; the key itself is never shown)",
            **kw,
        )
    if status == 403:
        return PermissionDeniedError(message, **kw)
    if status == 404:
        return NotFoundError(f"{message} (model slug {model!r})", **kw)
    if status == 406:
        lowered = message.lower()
        if "content type" in lowered or "content-type" in lowered:
            return InvalidContentTypeError(message, **kw)
        if "credit" in lowered or "balance" in lowered:
            return InsufficientCreditsError(
                f"{message}: add credits at https://cloud.segmind.com/console/billing", **kw
            )
        return APIStatusError(message, **kw)
    if status == 410:
        current = current_model_slugs()
        return ModelRetiredError(
            f"{message}: model {model!r} is retired; current Gemini slugs: {', '.join(current)}",
            current_models=current,
            **kw,
        )
    if status == 422:
        return UnprocessableEntityError(message, **kw)
    if status == 429:
        return RateLimitError(message, retry_after=retry_after, **kw)
    if status >= 500:
        if status == 500:
            message += " (Segmind often answers 500 for a bad parameter value)"
        return InternalServerError(message, **kw)
    return APIStatusError(message, **kw)

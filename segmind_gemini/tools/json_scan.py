"""Find the JSON objects and arrays in a model's free text, with the real decoder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["scan_json"]


_DECODER = json.JSONDecoder()


# Only a "{" followed by a key or "}" can start an object; filtering here spares
# a failed decode (whose error message costs O(position)) at every stray brace.
_OPEN = re.compile(r'\[|\{(?=\s*["}])')


def scan_json(text: str) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(start, end, value)`` for each JSON object or array in ``text``, in order.

    Uses the real JSON decoder, so braces and brackets inside strings cannot
    confuse it; a value inside another one is not yielded on its own (a
    ``tool_calls`` object inside other JSON is data, not a call).

    >>> [v for _, _, v in scan_json('see {"a": "}"} and [1] {bad')]
    [{'a': '}'}, [1]]
    """
    pos = 0
    while (match := _OPEN.search(text, pos)) is not None:
        start = match.start()
        try:
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        except RecursionError:
            # Absurdly deep nesting is text; skip that run of brackets at once.
            pos = start + 1
            while pos < len(text) and text[pos] == text[start]:
                pos += 1
            continue
        yield start, end, value
        pos = end

"""The one nesting limit for schemas: tool arguments, structured output, token counting.

Gemini refuses schemas nested deeper than this, and every path that walks a schema
(native declarations, the prompted tool block, token estimates) checks it here
first, without recursion, so a 3,000-level schema gets the same clear error
everywhere instead of a ``RecursionError`` from one of them.

>>> nesting_depth({"a": [{"b": 1}]})
3
>>> check_depth({"type": "object"}, "tool 'add' parameters")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from segmind_gemini.errors import InvalidRequestError

__all__ = ["MAX_SCHEMA_DEPTH", "check_depth", "nesting_depth", "too_deep"]

#: How many levels of objects/arrays a schema may nest (Gemini's own limit is about this).
MAX_SCHEMA_DEPTH = 32


def nesting_depth(value: Any, stop_after: int | None = None) -> int:
    """Levels of dicts/lists in ``value`` (a scalar is 0); stops counting past ``stop_after``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if stop_after is not None and deepest > stop_after:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def check_depth(schema: Any, what: str, limit: int = MAX_SCHEMA_DEPTH) -> None:
    """Raise :class:`~segmind_gemini.errors.InvalidRequestError` if ``schema`` nests too deep.

    A schema level is a dict; ``properties``/``items`` wrappers count, so ``limit``
    schema levels allow ``2 * limit + 1`` dict/list levels.
    """
    if nesting_depth(schema, stop_after=2 * limit + 1) > 2 * limit + 1:
        raise too_deep(what, limit)


def too_deep(what: str, limit: int = MAX_SCHEMA_DEPTH) -> InvalidRequestError:
    """The error for a schema nested past ``limit`` levels (also after ``$ref`` inlining)."""
    return InvalidRequestError(f"{what} nests more than {limit} levels deep; Gemini cannot take it")

"""What a Gemini part can hold: ONE table, read by everything that handles parts.

A part is an object with one *kind* key (``text``, ``inlineData``, ``functionCall``,
...) plus optional attributes (``thought``, ``thoughtSignature``). Each kind is one
:class:`PartKind` entry in :data:`PARTS`, saying

* the JSON shape of its value (every answer is checked against it, see
  :mod:`segmind_gemini.wire.validation`; a kind's value of the wrong shape makes the
  answer unreadable rather than silently losing content),
* how an answer shows it (:func:`segmind_gemini.wire.answer.answer_blocks`, the
  parser's text / tool calls / images, the adapters' content blocks),
* how :mod:`segmind_gemini.tokens` counts it,
* and, through :data:`PART_KEYS`, which keys a request part may hold.

Gemini takes camelCase and snake_case spellings alike; :func:`value` reads either.
``tests/test_parts_table.py`` fails when this table and one of its users disagree.

>>> sorted(k.camel for k in PARTS if k.answer in RICH_ANSWERS)
['codeExecutionResult', 'executableCode', 'inlineData']
>>> value({"inline_data": {"data": "aGk="}}, "inlineData")
{'data': 'aGk='}
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from segmind_gemini.wire.shape import REQUIRED_SHAPE, Shape

__all__ = [
    "ATTRIBUTES",
    "PARTS",
    "PART_KEYS",
    "PART_SHAPE",
    "RICH_ANSWERS",
    "PartKind",
    "kinds",
    "snake_case",
    "value",
]


_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


@functools.lru_cache(maxsize=256)
def snake_case(camel: str) -> str:
    """``inlineData`` -> ``inline_data``.

    >>> snake_case("codeExecutionResult")
    'code_execution_result'
    """
    return _CAMEL_HUMP.sub(r"_\1", camel).lower()


class BlobValue(TypedDict, total=False):
    mimeType: str
    data: str  # base64


class FileDataValue(TypedDict, total=False):
    mimeType: str
    fileUri: str


class FunctionCallValue(TypedDict, total=False):
    # A call without a readable name or arguments cannot be run: the answer is unreadable.
    name: Annotated[str, REQUIRED_SHAPE]
    args: Annotated[dict[str, Any], REQUIRED_SHAPE]
    id: str


class FunctionResponseValue(TypedDict, total=False):
    name: str
    response: dict[str, Any]
    id: str


class ExecutableCodeValue(TypedDict, total=False):
    language: str
    code: str


class CodeExecutionResultValue(TypedDict, total=False):
    outcome: str
    output: str


#: How an answer shows a kind: the answer text, an image/file block, a tool call,
#: code the model ran, that code's output; ``None``: a request-only kind.
Answer = Literal["text", "media", "tool_call", "code", "code_result"] | None
#: How :mod:`segmind_gemini.tokens` counts a kind: as text, as decoded media, as a
#: file reference (not measurable offline), or as its compact JSON.
Counting = Literal["text", "media", "file_ref", "json"]


@dataclass(frozen=True)
class PartKind:
    """One kind of part: its key, the shape of its value, how answers show it, how it counts."""

    camel: str
    shape: Any
    answer: Answer
    tokens: Counting

    @property
    def snake(self) -> str:
        return snake_case(self.camel)

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.camel, self.snake) if self.snake != self.camel else (self.camel,)


#: Every part kind. A new kind is one entry here (and, for a new ``answer`` or
#: ``tokens`` value, the code that renders or counts it).
PARTS: tuple[PartKind, ...] = (
    PartKind("text", str, "text", "text"),
    PartKind("inlineData", BlobValue, "media", "media"),
    PartKind("fileData", FileDataValue, None, "file_ref"),
    PartKind("functionCall", FunctionCallValue, "tool_call", "json"),
    PartKind("functionResponse", FunctionResponseValue, None, "json"),
    PartKind("executableCode", ExecutableCodeValue, "code", "json"),
    PartKind("codeExecutionResult", CodeExecutionResultValue, "code_result", "json"),
)

#: What a part may carry beside its kind.
ATTRIBUTES: Mapping[str, Any] = {"thought": bool, "thoughtSignature": str}

#: Every key that makes an object a part (both spellings): what a request part needs one of.
PART_KEYS = frozenset(key for kind in PARTS for key in kind.keys)

#: The ``answer`` values that make an answer more than plain text.
RICH_ANSWERS = frozenset({"media", "code", "code_result"})

#: The shape every answer part is checked against (snake_case spellings included by the checker).
PART_SHAPE = Shape(
    "a part",
    {**{k.camel: Annotated[k.shape, REQUIRED_SHAPE] for k in PARTS}, **ATTRIBUTES},
)


def value(obj: Mapping[str, Any], camel: str) -> Any:
    """``obj[camel]``, else its snake_case spelling, else ``None``: Gemini accepts both."""
    if camel in obj:
        return obj[camel]
    return obj.get(snake_case(camel))


_BY_KEY = {key: kind for kind in PARTS for key in kind.keys}


def kinds(part: Mapping[str, Any]) -> Iterator[tuple[PartKind, Any]]:
    """The kinds a part holds with their (non-null) values, in the part's key order.

    A kind written in both spellings counts once, camelCase winning (as :func:`value`).
    """
    for key, found in part.items():
        kind = _BY_KEY.get(key)
        if kind is None or found is None:
            continue
        if key != kind.camel and kind.camel in part:
            continue
        yield kind, found

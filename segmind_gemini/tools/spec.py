"""Neutral tool types: what a tool is, a call, a result, a parsed reply; tool choice.

Both adapters and both tool-calling modes (prompted and native) speak these types.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.wire.depth import check_depth

__all__ = [
    "InvalidToolCall",
    "ParsedReply",
    "ToolCall",
    "ToolChoice",
    "ToolResult",
    "ToolSpec",
    "compact_schema",
    "is_generated_call_id",
    "new_call_id",
    "resolve_tool_choice",
    "tool_names",
    "tool_result_text",
]


#: ``"auto"`` (may call), ``"any"``/``"required"`` (must call one), ``"none"``
#: (must not call), or the name of the one tool that must be called.
ToolChoice: TypeAlias = Literal["auto", "any", "required", "none"] | str


# Gemini's rule for function names; the prompted protocol uses the same one so a
# tool list works unchanged in native mode.
_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$")


_KEYWORD_CHOICES = {"auto": "auto", "any": "any", "required": "any", "none": "none"}


def new_call_id() -> str:
    """Return a fresh tool-call id, ``call_`` and 24 hex digits.

    >>> len(new_call_id())
    29
    """
    return "call_" + uuid.uuid4().hex[:24]


_GENERATED_ID = re.compile(r"^call_[0-9a-f]{24}$")


def is_generated_call_id(call_id: str | None) -> bool:
    """Whether ``call_id`` is one :func:`new_call_id` made (not one the model sent).

    Native mode echoes only the model's own ids: Gemini rejects a ``functionCall.id``
    it never issued, and it usually issues none.

    >>> is_generated_call_id(new_call_id()), is_generated_call_id("abc-123")
    (True, False)
    """
    return bool(call_id) and _GENERATED_ID.match(call_id or "") is not None


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: its name, what it does, and its arguments.

    ``parameters`` is the JSON Schema of the arguments object (``{}`` for a tool
    without arguments).

    >>> ToolSpec("add", "Add two integers.", {
    ...     "type": "object",
    ...     "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    ...     "required": ["a", "b"],
    ... }).name
    'add'
    """

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise InvalidRequestError(
                f"tool name {self.name!r} is not a valid function name: use 1-64 letters, "
                "digits, '_', '.' or '-', starting with a letter or '_'"
            )
        if not isinstance(self.description, str):
            raise InvalidRequestError(f"tool {self.name!r}: description must be a string")
        params = self.parameters
        if not isinstance(params, Mapping):
            raise InvalidRequestError(
                f"tool {self.name!r}: parameters must be a JSON Schema object (a dict), "
                f"got {type(params).__name__}"
            )
        if "type" in params and params["type"] != "object":
            raise InvalidRequestError(
                f"tool {self.name!r}: parameters must describe an object "
                f"(type 'object'), got type {params['type']!r}"
            )
        if not isinstance(params.get("properties", {}), Mapping):
            raise InvalidRequestError(f"tool {self.name!r}: parameters.properties must be a dict")
        check_depth(params, f"tool {self.name!r}: parameters")
        if not isinstance(params, dict):
            object.__setattr__(self, "parameters", dict(params))

    @classmethod
    def from_openai(cls, tool: Mapping[str, Any]) -> ToolSpec:
        """Build a spec from an OpenAI-style tool (what LangChain and LlamaIndex emit).

        Accepts ``{"type": "function", "function": {...}}`` or the inner
        ``{"name", "description", "parameters"}`` dict.

        >>> ToolSpec.from_openai({"type": "function", "function": {"name": "now"}}).name
        'now'
        """
        fn = tool.get("function", tool)
        if not isinstance(fn, Mapping) or "name" not in fn:
            raise InvalidRequestError(f"not an OpenAI-style tool definition: {dict(tool)!r}")
        return cls(
            name=fn["name"],
            description=fn.get("description") or "",
            parameters=dict(fn.get("parameters") or {}),
        )

    @property
    def has_parameters(self) -> bool:
        """Whether the tool takes any arguments."""
        return bool(self.parameters.get("properties"))


@dataclass(frozen=True)
class ToolCall:
    """A call the model asked for. ``thought_signature`` must be echoed back (native mode)."""

    name: str
    args: dict[str, Any]
    id: str
    thought_signature: str | None = None


@dataclass(frozen=True)
class InvalidToolCall:
    """A tool call the model attempted but that cannot be run; ``error`` says why.

    ``args`` is the raw text of the arguments (JSON, or the tool_code call), when there
    were any.
    """

    name: str | None
    args: str | None
    id: str
    error: str


@dataclass(frozen=True)
class ToolResult:
    """The output of running a tool call, sent back to the model."""

    call_id: str
    name: str
    content: Any
    is_error: bool = False


@dataclass(frozen=True)
class ParsedReply:
    """A model reply split into prose and tool calls.

    ``text`` is the prose outside the tool-call JSON ("" if none), or the whole
    reply when it holds no tool calls.
    """

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    invalid_tool_calls: list[InvalidToolCall] = field(default_factory=list)
    #: The written forms the calls came in, in order, once each: ``tool_calls``
    #: (the instructed form), ``call_list``, ``name_args``, ``openai`` or
    #: ``tool_code``, with `` in ```json`` (the fence's opening) when fenced.
    forms: list[str] = field(default_factory=list)


def tool_names(tools: Sequence[ToolSpec] | Collection[str]) -> list[str]:
    """Names of ``tools``, given as specs or as names; rejects duplicates.

    >>> tool_names(["a", ToolSpec("b")])
    ['a', 'b']
    """
    if isinstance(tools, str):  # a bare string is a Collection[str] too
        tools = [tools]
    names = [t.name if isinstance(t, ToolSpec) else t for t in tools]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidRequestError(f"tool {name!r} is defined more than once")
        seen.add(name)
    return names


def resolve_tool_choice(
    tool_choice: ToolChoice | bool | Mapping[str, Any] | None,
    tools: Sequence[ToolSpec] | Collection[str],
) -> str:
    """Normalise a tool choice to ``"auto"``, ``"any"``, ``"none"`` or a tool name.

    Also accepts what frameworks pass: ``None`` (auto), ``True`` (any), ``False``
    (none) and the OpenAI/Anthropic dict forms naming one tool.

    >>> resolve_tool_choice("required", ["add"])
    'any'
    >>> resolve_tool_choice({"type": "function", "function": {"name": "add"}}, ["add"])
    'add'
    """
    names = tool_names(tools)
    choice: Any = tool_choice
    if choice is None:
        return "auto"
    if isinstance(choice, bool):
        choice = "any" if choice else "none"
    if isinstance(choice, Mapping):
        fn = choice.get("function")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            choice = fn["name"]
        elif isinstance(choice.get("name"), str):
            choice = choice["name"]
        elif isinstance(choice.get("type"), str) and choice["type"] != "function":
            choice = choice["type"]
        else:
            raise InvalidRequestError(f"unrecognised tool_choice {dict(choice)!r}")
    if not isinstance(choice, str):
        raise InvalidRequestError(f"unrecognised tool_choice {choice!r}")
    if choice in names:
        return choice
    keyword = _KEYWORD_CHOICES.get(choice.lower())
    if keyword is None:
        available = ", ".join(names) or "none"
        raise InvalidRequestError(
            f"tool_choice names unknown tool {choice!r} (available tools: {available})"
        )
    if keyword == "any" and not names:
        raise InvalidRequestError(f"tool_choice {choice!r} needs at least one tool")
    return keyword


_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


_SUBSCHEMA_ONE = ("items", "additionalProperties", "not", "contains")


def compact_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a JSON Schema without ``title`` and ``$schema`` keywords.

    Pydantic and LlamaIndex put a ``title`` on every node; in a prompt those are
    tokens that tell the model nothing. Properties that happen to be *named*
    ``title`` are kept.

    >>> compact_schema({"title": "P", "type": "object",
    ...                 "properties": {"title": {"title": "Title", "type": "string"}}})
    {'type': 'object', 'properties': {'title': {'type': 'string'}}}
    """
    check_depth(schema, "schema")
    return _compact(schema)


def _compact(schema: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("title", "$schema"):
            continue
        if key in _SUBSCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {
                k: _compact(v) if isinstance(v, Mapping) else copy.deepcopy(v)
                for k, v in value.items()
            }
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [_compact(v) if isinstance(v, Mapping) else v for v in value]
        elif key in _SUBSCHEMA_ONE and isinstance(value, Mapping):
            out[key] = _compact(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def tool_result_text(content: Any) -> str:
    """Render a tool's output as text: strings as they are, anything else as JSON.

    A list of ``{"type": "text", "text": ...}`` blocks (LangChain's content form)
    is joined into plain text.

    >>> tool_result_text({"temp": 21})
    '{"temp": 21}'
    """
    if isinstance(content, str):
        return content
    if (
        isinstance(content, list)
        and content
        and all(isinstance(b, Mapping) and b.get("type") == "text" for b in content)
    ):
        return "\n".join(str(b.get("text", "")) for b in content)
    return json.dumps(content, ensure_ascii=False, default=str)

"""Neutral tool types and the prompted tool-call protocol.

Segmind's gateway does not forward Gemini's ``tools`` field, so by default tool
calling is *prompted*: the tool schemas go into the system instruction, the model
answers a tool call with one JSON object, and :func:`parse_tool_reply` turns that
reply back into :class:`ToolCall` values. Both framework adapters use these
functions, so the protocol lives in exactly one place.

>>> weather = ToolSpec(
...     "get_weather",
...     "Current weather for a city.",
...     {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
... )
>>> system = with_tool_instruction({"parts": [{"text": "Be brief."}]}, [weather])
>>> reply = parse_tool_reply(
...     '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}', [weather]
... )
>>> reply.tool_calls[0].args
{'city': 'Oslo'}

Wire format the model is asked to produce (several entries are parallel calls)::

    {"tool_calls": [{"name": "<tool name>", "arguments": { ... }}]}
"""

from __future__ import annotations

import ast
import copy
import json
import math
import re
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.request import append_system_text
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
    "parse_tool_reply",
    "render_tool_instruction",
    "resolve_tool_choice",
    "scan_json",
    "tool_calls_turn",
    "tool_names",
    "tool_result_text",
    "tool_results_turn",
    "with_tool_instruction",
]

#: ``"auto"`` (may call), ``"any"``/``"required"`` (must call one), ``"none"``
#: (must not call), or the name of the one tool that must be called.
ToolChoice: TypeAlias = Literal["auto", "any", "required", "none"] | str

# Gemini's rule for function names; the prompted protocol uses the same one so a
# tool list works unchanged in native mode.
_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$")
_ARG_KEYS = ("arguments", "args", "parameters")
_KEYWORD_CHOICES = {"auto": "auto", "any": "any", "required": "any", "none": "none"}
_DECODER = json.JSONDecoder()


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


# --------------------------------------------------------------------------- helpers


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


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


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


# --------------------------------------------------------------------------- rendering

_FORMAT = '{"tool_calls": [{"name": "<tool name>", "arguments": { ... }}]}'


def render_tool_instruction(
    tools: Sequence[ToolSpec],
    tool_choice: ToolChoice | bool | Mapping[str, Any] | None = "auto",
) -> str:
    """The system-instruction block that describes ``tools`` and how to call them.

    ``tool_choice``: ``"auto"`` lets the model decide; ``"any"``/``"required"``
    demands at least one call; a tool name demands a call to that tool (only that
    tool is listed); ``"none"`` forbids calls and lists no schemas, only explains
    earlier calls in the history. Returns ``""`` when there is nothing to say.

    >>> print(render_tool_instruction([ToolSpec("now", "Current time.")]))  # doctest: +ELLIPSIS
    # Tools
    ...
    """
    choice = resolve_tool_choice(tool_choice, tools)
    if not tools:
        return ""
    if choice == "none":
        return (
            "# Tools\n\n"
            "Earlier in this conversation you may have called tools: your calls appear as "
            'JSON objects with a "tool_calls" list, and their outputs come back in user '
            "messages marked as tool results. Tool calling is now switched off: do not "
            'write any "tool_calls" JSON. Answer in plain text, using the tool results '
            "you already have."
        )
    listed = [t for t in tools if t.name == choice] if choice not in ("auto", "any") else tools
    lines = [
        "# Tools",
        "",
        "You can call the tools (functions) listed below. Each has a name, a description, "
        "and the JSON Schema of its arguments.",
        "",
    ]
    for tool in listed:
        lines.append(f"## {tool.name}")
        if tool.description.strip():
            lines.append(tool.description.strip())
        params = compact_schema(tool.parameters) if tool.has_parameters else {}
        lines.append(f"Arguments schema: {_dumps(params) if params else '(no arguments)'}")
        lines.append("")
    lines += [
        "# How to call tools",
        "",
        "To call tools, reply with ONLY this JSON object, with no other text before or after it:",
        "",
        _FORMAT,
        "",
        '- "name" is the exact tool name; "arguments" is a JSON object that matches the '
        "tool's arguments schema.",
        '- To call several tools at once, put one entry per call in the "tool_calls" list.',
        "- The tool outputs come back to you in a later user message marked as tool "
        "results, with the call id of each call. Use them to continue.",
        "",
    ]
    if choice == "auto":
        lines.append(
            "Call a tool when it helps you answer. When you do not need a tool, answer "
            'normally in plain text, with no "tool_calls" JSON.'
        )
    elif choice == "any":
        lines.append(
            "In this reply you MUST call at least one tool: reply with only the "
            '"tool_calls" JSON object, not a plain-text answer.'
        )
    else:
        lines.append(
            f'In this reply you MUST call the tool "{choice}": reply with only the '
            f'"tool_calls" JSON object containing a call to "{choice}", not a plain-text answer.'
        )
    return "\n".join(lines)


def with_tool_instruction(
    system_instruction: Mapping[str, Any] | None,
    tools: Sequence[ToolSpec],
    tool_choice: ToolChoice | bool | Mapping[str, Any] | None = "auto",
) -> dict[str, Any] | None:
    """A NEW Gemini ``system_instruction`` with the tool block after the user's own text.

    The input is never mutated. Text-only instructions (a list of text parts, or
    Segmind's single-part form) come back in Segmind's documented single-part form
    with the tool block joined after a blank line; an instruction holding other
    parts keeps them and gets the block as one more text part (see
    :func:`segmind_gemini.request.append_system_text`). Returns the input unchanged
    (copied) when there is no tool block to add, which is ``None`` when both are
    empty.

    >>> with_tool_instruction(None, [ToolSpec("now")])["parts"]["text"][:7]
    '# Tools'
    """
    block = render_tool_instruction(tools, tool_choice)
    result = copy.deepcopy(dict(system_instruction)) if system_instruction is not None else None
    if not block:
        return result
    return append_system_text(result, block)


def _call_entry(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.args}


def tool_calls_turn(calls: Sequence[ToolCall], text: str | None = None) -> dict[str, Any]:
    """A ``model`` turn showing earlier tool calls in the protocol's JSON form.

    Each entry carries the call ``id`` so the results turn can refer to it; any
    assistant text that came with the calls goes first.

    >>> tool_calls_turn([ToolCall("now", {}, "call_1")])["parts"][0]["text"]
    '{"tool_calls": [{"id": "call_1", "name": "now", "arguments": {}}]}'
    """
    payload = json.dumps(
        {"tool_calls": [_call_entry(c) for c in calls]}, ensure_ascii=False, default=str
    )
    prose = (text or "").strip()
    return {"role": "model", "parts": [{"text": f"{prose}\n\n{payload}" if prose else payload}]}


def tool_results_turn(results: Sequence[ToolResult]) -> dict[str, Any]:
    """A ``user`` turn carrying tool outputs, each tagged with its tool name and call id.

    >>> turn = tool_results_turn([ToolResult("call_1", "now", "12:00")])
    >>> '<tool_result name="now" call_id="call_1">' in turn["parts"][0]["text"]
    True
    """
    if not results:
        raise InvalidRequestError("tool_results_turn needs at least one tool result")
    blocks = [
        "[Tool results] These are the outputs of the tool calls you made, produced by the "
        "tools, not a message written by the user."
    ]
    for r in results:
        body = tool_result_text(r.content)
        if r.is_error:
            blocks.append(
                f'<tool_result name="{r.name}" call_id="{r.call_id}" error="true">\n'
                f"The tool failed with this error:\n{body}\n</tool_result>"
            )
        else:
            blocks.append(
                f'<tool_result name="{r.name}" call_id="{r.call_id}">\n{body}\n</tool_result>'
            )
    blocks.append("Use these results to continue: call more tools if needed, or answer.")
    return {"role": "user", "parts": [{"text": "\n\n".join(blocks)}]}


# --------------------------------------------------------------------------- parsing

# Only a "{" followed by a key or "}" can start an object; filtering here spares
# a failed decode (whose error message costs O(position)) at every stray brace.
_OPEN = re.compile(r'\[|\{(?=\s*["}])')
_FENCE_OPEN = re.compile(r"```[\w+-]*[ \t]*\r?\n?[ \t]*\Z")
_FENCE_CLOSE = re.compile(r"\s*```")  # used with .match(text, pos)


def _is_call_entry(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    fn = value.get("function")
    entry = fn if isinstance(fn, Mapping) and "name" not in value else value
    return isinstance(entry.get("name"), str) and any(k in entry for k in _ARG_KEYS)


def _call_entries(value: Any, known: set[str]) -> tuple[list[Any], str] | None:
    """The call entries of a decoded JSON value and the form they came in, or None.

    Forms: ``tool_calls`` (ours), ``call_list`` (a top-level list of calls),
    ``openai`` (``{"type": "function", "function": {...}}``) and ``name_args``
    (a bare ``{"name", "args"|"arguments"|"parameters"}``).
    """
    if isinstance(value, dict):
        calls = value.get("tool_calls")
        if isinstance(calls, list):
            return calls, "tool_calls"
        if isinstance(calls, dict):
            return [calls], "tool_calls"
        # A bare single call is tolerated only for a known tool, so a structured
        # answer that happens to have "name" and "arguments" keys stays text.
        if "tool_calls" in value or not _is_call_entry(value):
            return None
        fn = value.get("function")
        if isinstance(fn, Mapping) and "name" not in value:
            return ([value], "openai") if fn.get("name") in known else None
        return ([value], "name_args") if value.get("name") in known else None
    if isinstance(value, list) and value and all(_is_call_entry(v) for v in value):
        return value, "call_list"
    return None


def _parse_entry(entry: Any, known: set[str]) -> ToolCall | InvalidToolCall:
    if not isinstance(entry, Mapping):
        return InvalidToolCall(None, _dumps(entry), new_call_id(), "call entry is not an object")
    fn = entry.get("function")
    if isinstance(fn, Mapping) and "name" not in entry:
        entry = {**fn, **{k: v for k, v in entry.items() if k == "id"}}
    raw_id = entry.get("id", entry.get("call_id"))
    call_id = raw_id if isinstance(raw_id, str) and raw_id else new_call_id()
    name = entry.get("name")
    raw_args: Any = next((entry[k] for k in _ARG_KEYS if k in entry), None)
    args_text = raw_args if isinstance(raw_args, str) else None
    if raw_args is not None and args_text is None:
        try:
            args_text = _dumps(raw_args)
        except (ValueError, RecursionError):
            args_text = None
    if not isinstance(name, str) or not name:
        return InvalidToolCall(None, args_text, call_id, "tool call has no tool name")
    if name not in known:
        available = ", ".join(sorted(known)) or "none"
        return InvalidToolCall(
            name, args_text, call_id, f"unknown tool {name!r} (available tools: {available})"
        )
    if raw_args is None or (isinstance(raw_args, str) and not raw_args.strip()):
        raw_args = {}
    if isinstance(raw_args, str):
        try:
            raw_args = json.loads(raw_args)
        except json.JSONDecodeError as exc:
            return InvalidToolCall(
                name, args_text, call_id, f"arguments are not valid JSON: {exc.msg}"
            )
        except RecursionError:
            return InvalidToolCall(name, args_text, call_id, "arguments are nested too deeply")
    if not isinstance(raw_args, dict):
        kind = type(raw_args).__name__ if raw_args is not None else "null"
        return InvalidToolCall(
            name, args_text, call_id, f"arguments must be a JSON object, got {kind}"
        )
    return ToolCall(name=name, args=raw_args, id=call_id)


def parse_tool_reply(text: str, tools: Sequence[ToolSpec] | Collection[str]) -> ParsedReply:
    """Split a model reply into prose, tool calls and invalid tool calls. Never raises.

    The ``{"tool_calls": [...]}`` object is found bare, in a fenced block, or with
    prose around it; a top-level list of calls, a bare ``{"name", "args"}`` or
    OpenAI's ``{"type": "function", "function": {"name", "arguments"}}`` for a
    known tool, ``"args"``/``"parameters"`` for ``"arguments"`` and arguments given
    as a JSON string are tolerated. Python-call syntax inside a ```` ```tool_code ````
    fence (``get_weather(city="Paris")``, the form Gemma's guide uses) is read with
    :mod:`ast`, literal values only: nothing in it is ever evaluated. Several
    blocks in one reply are parallel calls, in order. A reply without any of
    these (including other JSON) comes back as plain text. ``forms`` says which
    written forms were found (see :attr:`ParsedReply.forms`).

    >>> r = parse_tool_reply('Checking.\\n```json\\n{"tool_calls": [{"name": "now", '
    ...                      '"arguments": {}}]}\\n```', ["now"])
    >>> r.text, r.tool_calls[0].name, r.forms
    ('Checking.', 'now', ['tool_calls in ```json'])
    >>> parse_tool_reply('```tool_code\\nnow()\\n```', ["now"]).forms
    ['tool_code']
    """
    if isinstance(tools, str):
        tools = [tools]
    known = set(tool_names(tools))
    specs = {t.name: t for t in tools if isinstance(t, ToolSpec)}
    # (start, end, parsed calls, form) for every block that holds calls.
    blocks: list[tuple[int, int, list[ToolCall | InvalidToolCall], str]] = []
    code_spans: list[tuple[int, int]] = []
    for match in _TOOL_CODE.finditer(text):
        code = match.group(1).strip()
        if code.startswith(("{", "[")):
            continue  # JSON in a tool_code fence: the JSON scan below reads it
        code_spans.append(match.span())
        blocks.append((*match.span(), _python_calls(code, known, specs), "tool_code"))
    for start, end, value in scan_json(text):
        if any(s <= start < e for s, e in code_spans):
            continue
        found = _call_entries(value, known)
        nested = _is_nested(text, start)
        if found is not None and (
            not nested or (isinstance(value, dict) and "tool_calls" in value)
        ):
            entries, form = found
            s, e, fence = _with_fence(text, start, end)
            where = f" in {fence}" if fence else ""
            blocks.append((s, e, [_parse_entry(x, known) for x in entries], form + where))
    if not blocks:
        return ParsedReply(text=text)
    blocks.sort(key=lambda block: block[0])
    pieces, last = [], 0
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    seen_ids: set[str] = set()
    for s, e, parsed_calls, _ in blocks:
        pieces.append(text[last:s].strip())
        last = e
        for parsed in parsed_calls:
            if parsed.id in seen_ids:
                # A model that writes ids may repeat one; each call's result must be told apart.
                parsed = replace(parsed, id=new_call_id())
            seen_ids.add(parsed.id)
            if isinstance(parsed, ToolCall):
                calls.append(parsed)
            else:
                invalid.append(parsed)
    pieces.append(text[last:].strip())
    forms = list(dict.fromkeys(form for *_, form in blocks))
    return ParsedReply("\n".join(p for p in pieces if p), calls, invalid, forms)


# ```tool_code fences: the language tag is what marks Python-call syntax as a call.
_TOOL_CODE = re.compile(r"```[ \t]*tool_code[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE)
_BARE_NAMES: dict[str, Any] = {"true": True, "false": False, "null": None, "none": None}


class _NotLiteral(Exception):
    """A tool_code argument that is not a plain literal; ``str()`` says why."""


def _literal(node: ast.AST) -> Any:
    """The JSON value a literal expression spells; anything else raises ``_NotLiteral``."""
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, (str, bool, int)):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        raise _NotLiteral(f"{value!r} is not a JSON value")
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        number = _literal(node.operand)
        return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for key, item in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise _NotLiteral("dictionary keys must be strings")
            out[key.value] = _literal(item)
        return out
    if isinstance(node, ast.Name) and node.id.lower() in _BARE_NAMES:
        return _BARE_NAMES[node.id.lower()]
    raise _NotLiteral(f"{type(node).__name__} is not a literal value (only literals are read)")


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _python_calls(
    code: str, known: set[str], specs: Mapping[str, ToolSpec]
) -> list[ToolCall | InvalidToolCall]:
    """The calls in a tool_code block: one per expression statement, never evaluated."""
    try:
        tree = ast.parse(code, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        why = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
        error = f"tool_code is not Python call syntax: {why}"
        return [InvalidToolCall(None, code, new_call_id(), error)]
    out: list[ToolCall | InvalidToolCall] = []
    for stmt in tree.body:
        node = stmt.value if isinstance(stmt, ast.Expr) else None
        # Gemini's code-execution habit: print(default_api.get_weather(...)).
        if (
            isinstance(node, ast.Call)
            and _dotted(node.func) == "print"
            and len(node.args) == 1
            and not node.keywords
            and isinstance(node.args[0], ast.Call)
        ):
            node = node.args[0]
        if isinstance(node, ast.Call):
            out.append(_python_call(node, known, specs))
        else:
            source = ast.get_source_segment(code, stmt) or type(stmt).__name__
            out.append(
                InvalidToolCall(
                    None, source, new_call_id(), "tool_code holds something that is not a call"
                )
            )
    if not out:
        out.append(InvalidToolCall(None, None, new_call_id(), "tool_code block is empty"))
    return out


def _python_call(
    node: ast.Call, known: set[str], specs: Mapping[str, ToolSpec]
) -> ToolCall | InvalidToolCall:
    call_id = new_call_id()
    dotted = _dotted(node.func)
    source = ast.unparse(node)
    if dotted is None:
        return InvalidToolCall(None, source, call_id, "the called object is not a tool name")
    # default_api.get_weather(...) names the tool get_weather (a dotted tool name wins).
    last = dotted.rsplit(".", 1)[-1]
    name = dotted if dotted in known or last not in known else last
    if name not in known:
        available = ", ".join(sorted(known)) or "none"
        return InvalidToolCall(
            name, source, call_id, f"unknown tool {name!r} (available tools: {available})"
        )
    try:
        args: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _NotLiteral("**kwargs is not read; name each argument")
            args[keyword.arg] = _literal(keyword.value)
        if node.args:
            spec = specs.get(name)
            order = list(spec.parameters.get("properties", {})) if spec else []
            if len(node.args) > len(order):
                raise _NotLiteral(
                    f"{len(node.args)} positional arguments, but the schema orders "
                    f"{len(order)}; name the arguments"
                )
            for param, arg in zip(order, node.args, strict=False):
                if param in args or isinstance(arg, ast.Starred):
                    raise _NotLiteral(f"argument {param!r} is given twice or unpacked")
                args[param] = _literal(arg)
    except (_NotLiteral, RecursionError) as exc:
        why = str(exc) if isinstance(exc, _NotLiteral) else "nested too deeply"
        return InvalidToolCall(name, source, call_id, f"arguments are not literals: {why}")
    return ToolCall(name=name, args=args, id=call_id)


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


def _is_nested(text: str, start: int) -> bool:
    """Whether the value at ``start`` follows ``"key":``, ``,``, ``[`` or ``{``.

    A list or bare call nested in something else (e.g. inside a truncated
    ``{"tool_calls": [...]`` object) is not a reply of its own.
    """
    before = text[max(0, start - 256) : start].rstrip()
    if before.endswith((",", "[", "{")):
        return True
    return before.endswith(":") and before[:-1].rstrip().endswith('"')


def _with_fence(text: str, start: int, end: int) -> tuple[int, int, str]:
    """Widen a JSON span to the Markdown fence around it, if there is one.

    Returns the span and the fence's opening (```` ```json ````, or ``""`` unfenced).
    """
    opening = _FENCE_OPEN.search(text, max(0, start - 256), start)
    closing = _FENCE_CLOSE.match(text, end)
    if opening and closing:
        return opening.start(), closing.end(), opening.group(0).strip()
    return start, end, ""

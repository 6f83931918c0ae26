"""The prompted tool-call protocol: tools rendered into the system instruction, the
model's JSON reply parsed back into calls (see :mod:`segmind_gemini.tools`)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.tools.json_scan import scan_json
from segmind_gemini.tools.python_calls import _TOOL_CODE, _python_calls
from segmind_gemini.tools.spec import (
    InvalidToolCall,
    ParsedReply,
    ToolCall,
    ToolChoice,
    ToolResult,
    ToolSpec,
    compact_schema,
    new_call_id,
    resolve_tool_choice,
    tool_names,
    tool_result_text,
)
from segmind_gemini.wire.request import append_system_text

__all__ = [
    "parse_tool_reply",
    "render_tool_instruction",
    "tool_calls_turn",
    "tool_results_turn",
    "with_tool_instruction",
]


_ARG_KEYS = ("arguments", "args", "parameters")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


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
    :func:`segmind_gemini.wire.request.append_system_text`). Returns the input unchanged
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

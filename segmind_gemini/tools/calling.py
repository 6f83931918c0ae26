"""Tool calling in either mode, behind one interface for both adapters.

``mode="prompt"`` (the default: Segmind's gateway does not forward ``tools``)
renders the tools into the system instruction and parses the JSON reply;
``mode="native"`` sends Gemini ``functionDeclarations`` and reads
``functionCall`` parts. Adapters call these four functions and never branch on
the mode themselves. The adapters' ``tool_calling="auto"`` setting becomes one
of the two through :func:`resolve_mode`.

>>> request = apply_tools(request, [weather_spec], tool_choice="auto", mode="prompt")
>>> reply = read_tool_reply(client.generate_content(request), [weather_spec], mode="prompt")
>>> reply.tool_calls, reply.invalid_tool_calls, reply.text
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.tools import (
    InvalidToolCall,
    ParsedReply,
    ToolCall,
    ToolChoice,
    ToolResult,
    ToolSpec,
    parse_tool_reply,
    resolve_tool_choice,
    tool_calls_turn,
    tool_names,
    tool_results_turn,
    with_tool_instruction,
)
from segmind_gemini.tools.native import (
    decode_encoded,
    function_call_part,
    function_response_part,
    native_tool_config,
    native_tools_payload,
)
from segmind_gemini.wire.response import GenerateContentResult

__all__ = [
    "ToolCallingMode",
    "ToolCallingSetting",
    "apply_tools",
    "check_mode",
    "check_setting",
    "read_tool_reply",
    "resolve_mode",
    "tool_call_turn",
    "tool_result_turn",
]

ToolCallingMode = Literal["prompt", "native"]
#: What the adapters' ``tool_calling`` field takes: a mode, or ``"auto"``.
ToolCallingSetting = Literal["prompt", "native", "auto"]


def check_mode(mode: str) -> ToolCallingMode:
    """Return ``mode`` if it is ``"prompt"`` or ``"native"``, else raise naming both."""
    if mode == "prompt":
        return "prompt"
    if mode == "native":
        return "native"
    hint = " (resolve 'auto' with resolve_mode first)" if mode == "auto" else ""
    raise InvalidRequestError(f"tool_calling must be 'prompt' or 'native', got {mode!r}{hint}")


def check_setting(setting: str) -> ToolCallingSetting:
    """Return ``setting`` if it is ``"prompt"``, ``"native"`` or ``"auto"``, else raise."""
    if setting == "auto":
        return "auto"
    if setting in ("prompt", "native"):
        return check_mode(setting)
    raise InvalidRequestError(f"tool_calling must be 'prompt', 'native' or 'auto', got {setting!r}")


def resolve_mode(setting: str, model: str, base_url: str) -> ToolCallingMode:
    """The mode to use for ``model`` on ``base_url``.

    ``"auto"`` is ``"native"`` when the newest report ``segmind-gemini check`` saved
    for that slug and base URL says ``native_tools: supported``, else ``"prompt"``
    (no report, or tools were dropped or refused).

    >>> resolve_mode("prompt", "gemini-2.5-flash", "https://api.segmind.com/v1")
    'prompt'
    """
    if check_setting(setting) != "auto":
        return check_mode(setting)
    from segmind_gemini.reports import latest_probe_status

    status = latest_probe_status(model, "native_tools", base_url)
    return "native" if status == "supported" else "prompt"


def apply_tools(
    request: Mapping[str, Any],
    tools: Sequence[ToolSpec],
    *,
    tool_choice: ToolChoice | bool | Mapping[str, Any] | None = None,
    mode: ToolCallingMode = "prompt",
) -> dict[str, Any]:
    """A copy of ``request`` that offers ``tools`` to the model (the input is untouched)."""
    new = dict(request)
    if not tools:
        return new
    choice = resolve_tool_choice(tool_choice, tools)
    if check_mode(mode) == "prompt":
        camel = new.pop("systemInstruction", None)
        current = new.get("system_instruction") or camel
        instruction = with_tool_instruction(current, tools, choice)
        if instruction is not None:
            new["system_instruction"] = instruction
        return new
    new["tools"] = native_tools_payload(tools)
    config = native_tool_config(choice, tool_names(tools))
    if config:
        new["toolConfig"] = config
    return new


def read_tool_reply(
    result: GenerateContentResult,
    tools: Sequence[ToolSpec] | Sequence[str],
    *,
    mode: ToolCallingMode = "prompt",
) -> ParsedReply:
    """Split an answer into text, valid tool calls and invalid ones (never raises).

    Native ``functionCall`` parts are read in either mode (a gateway may forward
    tools after all); in prompt mode the text is parsed for the JSON protocol.
    """
    names = set(tool_names(tools)) if tools else set()
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    forms = ["functionCall"] if result.tool_calls else []
    available = ", ".join(sorted(names)) or "none"
    specs = {t.name: t for t in tools if isinstance(t, ToolSpec)}
    for call in result.tool_calls:
        if call.name in names:
            spec = specs.get(call.name)
            if spec is not None and spec.has_parameters:
                # Values declared natively as JSON strings come back as real JSON.
                call = replace(call, args=decode_encoded(call.args, spec.parameters))
            calls.append(call)
        else:
            invalid.append(
                InvalidToolCall(
                    name=call.name or None,
                    args=_json(call.args),
                    id=call.id,
                    error=f"unknown tool {call.name!r}; available: {available}",
                )
            )
    text = result.text
    if check_mode(mode) == "prompt" and names:
        parsed = parse_tool_reply(text, tools)
        text = parsed.text
        calls.extend(parsed.tool_calls)
        invalid.extend(parsed.invalid_tool_calls)
        forms.extend(parsed.forms)
    return ParsedReply(text=text, tool_calls=calls, invalid_tool_calls=invalid, forms=forms)


def tool_call_turn(
    calls: Sequence[ToolCall], text: str | None = None, *, mode: ToolCallingMode = "prompt"
) -> dict[str, Any]:
    """The ``model`` turn that records earlier tool calls in the history."""
    if check_mode(mode) == "prompt":
        return tool_calls_turn(calls, text)
    parts: list[dict[str, Any]] = [{"text": text}] if text else []
    parts.extend(function_call_part(c) for c in calls)
    return {"role": "model", "parts": parts}


def tool_result_turn(
    results: Sequence[ToolResult], *, mode: ToolCallingMode = "prompt"
) -> dict[str, Any]:
    """The ``user`` turn that carries tool results back to the model."""
    if check_mode(mode) == "prompt":
        return tool_results_turn(results)
    return {"role": "user", "parts": [function_response_part(r) for r in results]}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)

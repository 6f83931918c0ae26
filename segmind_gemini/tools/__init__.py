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

The package's modules: :mod:`.spec` (the tool types and tool choice),
:mod:`.prompted` (the protocol), :mod:`.json_scan` (finding JSON in free text) and
:mod:`.python_calls` (reading ``tool_code`` Python-call syntax). Every public name
is importable from ``segmind_gemini.tools`` as before.
"""

from __future__ import annotations

from segmind_gemini.tools.json_scan import scan_json
from segmind_gemini.tools.prompted import (
    parse_tool_reply,
    render_tool_instruction,
    tool_calls_turn,
    tool_results_turn,
    with_tool_instruction,
)
from segmind_gemini.tools.spec import (
    InvalidToolCall,
    ParsedReply,
    ToolCall,
    ToolChoice,
    ToolResult,
    ToolSpec,
    compact_schema,
    is_generated_call_id,
    new_call_id,
    resolve_tool_choice,
    tool_names,
    tool_result_text,
)

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

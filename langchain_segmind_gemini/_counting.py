"""Offline token estimates for a LangChain prompt, as it would be sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage, SystemMessage

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.tokens import count_request_tokens, estimate_text_tokens
from segmind_gemini.tools import ToolSpec
from segmind_gemini.tools.builtin import split_builtin_tools
from segmind_gemini.tools.calling import apply_tools
from segmind_gemini.wire.request import build_request

from ._messages import convert_messages, counted_part
from ._tool_schema import openai_tool

__all__ = ["prompt_tokens"]


def prompt_tokens(
    messages: list[BaseMessage],
    tools: Sequence[Any] | None,
    *,
    mode: Any,
    settings: Mapping[str, Any],
    model: str,
) -> int:
    """Estimated tokens of ``messages`` and ``tools`` sent in tool ``mode`` to ``model``."""
    try:
        prompt = convert_messages(messages, mode=mode)
    except InvalidRequestError:
        if any(not isinstance(m, SystemMessage) for m in messages):
            raise
        # Only system messages (a trimming step may ask): count their text.
        return sum(estimate_text_tokens(m.text) for m in messages)
    contents = [{**c, "parts": [counted_part(p) for p in c["parts"]]} for c in prompt.contents]
    request = build_request(contents, system=prompt.system, settings=dict(settings))
    if tools:
        functions, _ = split_builtin_tools(tools)
        specs = [ToolSpec.from_openai(openai_tool(t)) for t in functions]
        request = apply_tools(request, specs, mode=mode)
    return count_request_tokens(request, model=model)

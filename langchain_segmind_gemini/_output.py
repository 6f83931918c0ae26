"""A core :class:`~segmind_gemini.wire.response.GenerateContentResult` -> ``AIMessage``.

What a user gets back::

    msg.content                          # the answer text (tool-call JSON removed)
    msg.tool_calls, msg.invalid_tool_calls
    msg.additional_kwargs["reasoning_content"]   # thoughts, when the model sent any
    msg.usage_metadata                   # input / output / total, reasoning, cache_read
    msg.response_metadata["finish_reason"], ["cost"], ["request_id"], ...
    msg.id                               # Gemini's responseId

``content_blocks`` (and ``output_version="v1"``) turn ``reasoning_content`` into a
``reasoning`` block ahead of the text.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import (
    invalid_tool_call,
    tool_call,
    tool_call_chunk,
)

from segmind_gemini.tools import ParsedReply
from segmind_gemini.wire.answer import answer_blocks, has_rich_parts, openai_logprobs
from segmind_gemini.wire.response import GenerateContentResult, Usage

from ._messages import TEXT_SIGNATURE_KEY, THOUGHT_SIGNATURES_KEY

__all__ = [
    "MODEL_PROVIDER",
    "REASONING_KEY",
    "to_ai_message",
    "to_ai_message_chunk",
    "to_usage_metadata",
]

#: ``response_metadata["model_provider"]``; LangChain uses it to pick a block translator.
MODEL_PROVIDER = "segmind"
#: Where thoughts go: the key langchain-core reads into a ``reasoning`` content block.
REASONING_KEY = "reasoning_content"


def to_usage_metadata(usage: Usage) -> UsageMetadata:
    """LangChain usage from Gemini counts.

    Input is the prompt plus tool-use prompt tokens; output is the answer plus
    thought tokens (billed as output), with thoughts also shown as ``reasoning``.
    """
    input_tokens = usage.input_tokens
    output_tokens = usage.output_tokens
    return UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=usage.total_tokens or input_tokens + output_tokens,
        input_token_details=InputTokenDetails(cache_read=usage.cached_tokens),
        output_token_details=OutputTokenDetails(reasoning=usage.thoughts_tokens),
    )


def _known_usage(usage: Usage) -> UsageMetadata | None:
    # Counts the server did not say are unknown (None), never reported as zero.
    return to_usage_metadata(usage) if usage.known else None


def _response_metadata(result: GenerateContentResult, model: str) -> dict[str, Any]:
    meta = result.metadata()
    meta["model_name"] = model
    meta["model_provider"] = MODEL_PROVIDER
    if result.logprobs_result is not None:
        logprobs = openai_logprobs(result.logprobs_result)
        if logprobs is not None:
            meta["logprobs"] = logprobs  # langchain-openai's shape
    return meta


def _content_block(block: dict[str, Any]) -> dict[str, Any]:
    kind = block["kind"]
    if kind == "text":
        return {"type": "text", "text": block["text"]}
    if kind in ("image", "file"):
        mime = block["mime_type"]
        media = mime.split("/", 1)[0] if mime.startswith(("image/", "audio/", "video/")) else "file"
        return {"type": media, "base64": block["data"], "mime_type": mime}
    if kind == "code":
        return {
            "type": "server_tool_call",
            "id": block["id"],
            "name": "code_interpreter",
            "args": {"code": block["code"], "language": block["language"]},
        }
    return {
        "type": "server_tool_result",
        "tool_call_id": block["call_id"],
        "status": "success" if block["outcome"] == "OUTCOME_OK" else "error",
        "output": block["output"],
        "extras": {"outcome": block["outcome"]},
    }


def _content(result: GenerateContentResult, reply: ParsedReply) -> str | list[str | dict[str, Any]]:
    """The answer text, or standard content blocks when it holds images or executed code.

    Images become ``image`` blocks (base64 + mime_type); code the model ran becomes a
    ``server_tool_call`` (name ``code_interpreter``) followed by its
    ``server_tool_result``, in the order Gemini sent them.
    """
    if not has_rich_parts(result):
        return reply.text
    return [_content_block(b) for b in answer_blocks(result)]


def _additional_kwargs(result: GenerateContentResult, reply: ParsedReply) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if result.thoughts:
        extra[REASONING_KEY] = result.thoughts
    signatures = {c.id: c.thought_signature for c in reply.tool_calls if c.thought_signature}
    if signatures:
        extra[THOUGHT_SIGNATURES_KEY] = signatures
    for part in result.parts:
        signature = part.get("thoughtSignature")
        if signature and "text" in part and not part.get("thought"):
            extra[TEXT_SIGNATURE_KEY] = signature
            break
    return extra


def _tool_calls(reply: ParsedReply) -> list[ToolCall]:
    return [tool_call(name=c.name, args=c.args, id=c.id) for c in reply.tool_calls]


def _invalid_tool_calls(reply: ParsedReply) -> list[InvalidToolCall]:
    return [
        invalid_tool_call(name=c.name, args=c.args, id=c.id, error=c.error)
        for c in reply.invalid_tool_calls
    ]


def to_ai_message(result: GenerateContentResult, reply: ParsedReply, *, model: str) -> AIMessage:
    """The ``AIMessage`` for one answer; ``reply`` is the core's split of text and calls."""
    # Empty fields are left to their defaults: each one given is validated again, and
    # this runs on every call.
    fields: dict[str, Any] = {}
    extra = _additional_kwargs(result, reply)
    if extra:
        fields["additional_kwargs"] = extra
    if reply.tool_calls:
        fields["tool_calls"] = _tool_calls(reply)
    if reply.invalid_tool_calls:
        fields["invalid_tool_calls"] = _invalid_tool_calls(reply)
    return AIMessage(
        content=_content(result, reply),
        response_metadata=_response_metadata(result, model),
        usage_metadata=_known_usage(result.usage),
        id=result.response_id,
        **fields,
    )


def to_ai_message_chunk(
    result: GenerateContentResult, reply: ParsedReply, *, model: str
) -> AIMessageChunk:
    """The whole answer as the one and last chunk of a stream (the gateway has no SSE).

    Every call travels as a ``tool_call_chunk`` (what chunk aggregation reads), and the
    chunk carries the core's ``tool_calls`` / ``invalid_tool_calls`` verdicts. Adding
    chunks together re-derives calls from the chunks alone, so there an unknown-tool
    call with object arguments becomes an ordinary call (an agent's tool node then
    answers that no such tool exists); it is not dropped.
    """
    chunks: list[ToolCallChunk] = [
        tool_call_chunk(name=c.name, args=json.dumps(c.args, ensure_ascii=False), id=c.id, index=i)
        for i, c in enumerate(reply.tool_calls)
    ]
    offset = len(chunks)
    chunks.extend(
        tool_call_chunk(name=c.name, args=c.args, id=c.id, index=offset + i)
        for i, c in enumerate(reply.invalid_tool_calls)
    )
    chunk = AIMessageChunk(
        content=_content(result, reply),
        additional_kwargs=_additional_kwargs(result, reply),
        response_metadata=_response_metadata(result, model),
        tool_call_chunks=chunks,
        usage_metadata=_known_usage(result.usage),
        id=result.response_id,
        chunk_position="last",
    )
    if reply.invalid_tool_calls:
        # Parsing chunks cannot know *why* a call was refused (unknown tool...);
        # put back the core's verdicts.
        chunk.tool_calls = _tool_calls(reply)
        chunk.invalid_tool_calls = _invalid_tool_calls(reply)
    return chunk

"""A core :class:`~segmind_gemini.wire.response.GenerateContentResult` to LlamaIndex responses.

>>> response = chat_response(result)
>>> response.message.content               # the answer text
>>> response.message.blocks                 # [ThinkingBlock?, TextBlock?, ToolCallBlock...]
>>> response.raw["usage_metadata"]          # what TokenCountingHandler reads
{'prompt_token_count': 12, 'candidates_token_count': 3, 'total_token_count': 15, ...}
>>> response.additional_kwargs["cost"]      # Segmind's x-cost header
0.0012

Token counts land where ``llama_index.core.callbacks.TokenCountingHandler`` looks:
it reads ``raw["usage"]`` first (``prompt_tokens`` / ``completion_tokens``), then
``raw["usage_metadata"]`` (``prompt_token_count`` / ``candidates_token_count``).
``raw["usage"]`` counts thoughts as completion tokens, because Gemini bills them as
output; ``raw["usage_metadata"]`` mirrors Gemini's own fields unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import BaseModel, ValidationError

from segmind_gemini.planning.structured import Repair, StructuredOutputError, extract_json
from segmind_gemini.tools import InvalidToolCall, ParsedReply, ToolCall
from segmind_gemini.wire.answer import answer_blocks, has_rich_parts, token_logprobs
from segmind_gemini.wire.response import GenerateContentResult, Usage

_M = TypeVar("_M", bound=BaseModel)

__all__ = [
    "chat_response",
    "completion_response",
    "raw_body",
    "response_kwargs",
    "usage_metadata",
]


def usage_metadata(usage: Usage) -> dict[str, Any]:
    """Gemini's ``usageMetadata`` in snake_case, as the google-genai SDK names it.

    A count the server did not say is left out (unknown, not 0), so LlamaIndex's
    token counters estimate it instead.
    """
    meta: dict[str, Any] = {
        "prompt_token_count": usage.prompt_tokens,
        "candidates_token_count": usage.candidates_tokens,
        "total_token_count": usage.total_tokens,
    }
    if usage.unknown:  # the usual answer says every count
        for name, field in (
            ("prompt_token_count", "prompt_tokens"),
            ("candidates_token_count", "candidates_tokens"),
            ("total_token_count", "total_tokens"),
        ):
            if field in usage.unknown:
                del meta[name]
    if usage.thoughts_tokens:
        meta["thoughts_token_count"] = usage.thoughts_tokens
    if usage.cached_tokens:
        meta["cached_content_token_count"] = usage.cached_tokens
    if usage.tool_use_prompt_tokens:
        meta["tool_use_prompt_token_count"] = usage.tool_use_prompt_tokens
    return meta


def raw_body(result: GenerateContentResult) -> dict[str, Any]:
    """The response body plus ``usage_metadata`` and ``usage`` for token counters.

    A new dict; the result's own body is not changed. An OpenAI-shaped body keeps
    its own ``usage``.
    """
    body = result.raw
    raw: dict[str, Any] = dict(body) if isinstance(body, dict) else {"body": body}
    usage = result.usage
    raw["usage_metadata"] = usage_metadata(usage)
    if not usage.known:
        return raw  # token counters estimate what the server did not say
    raw.setdefault(
        "usage",
        {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
        },
    )
    return raw


def response_kwargs(result: GenerateContentResult) -> dict[str, Any]:
    """``additional_kwargs`` of a response.

    Finish reason and message, safety ratings, model version, response id,
    Segmind's request id, cost, remaining credits and generation time (keys with
    no value left out), and ``prompt_tokens`` / ``completion_tokens`` /
    ``total_tokens`` (the keys MLflow tracing and other integrations read).
    """
    kwargs = result.metadata()
    usage = result.usage
    if usage.known:
        kwargs["prompt_tokens"] = usage.input_tokens
        kwargs["completion_tokens"] = usage.output_tokens
        kwargs["total_tokens"] = usage.total_tokens
    if usage.thoughts_tokens:
        kwargs["thoughts_tokens"] = usage.thoughts_tokens
    if result.other_candidates:
        kwargs["other_candidates"] = [c.text for c in result.other_candidates]
    return kwargs


def _openai_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {
            "name": call.name,
            "arguments": json.dumps(call.args, ensure_ascii=False, default=str),
        },
    }


def _invalid(call: InvalidToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "args": call.args, "error": call.error}


def _recoverable(call: InvalidToolCall) -> ToolCall | None:
    """An invalid call to an unknown tool with object arguments, as a call to pass on.

    Agents answer an unknown tool name with "Tool X not found, select one that is
    available", which lets the model correct itself; dropping the call instead
    would end the run with an empty answer.
    """
    if not call.name or not call.error.startswith("unknown tool"):
        return None
    try:
        args = json.loads(call.args) if call.args else {}
    except (ValueError, RecursionError):  # a 5,000-deep "arguments" string
        return None
    if not isinstance(args, dict):
        return None
    return ToolCall(name=call.name, args=args, id=call.id)


def chat_response(
    result: GenerateContentResult,
    reply: ParsedReply | None = None,
    *,
    delta: bool = False,
) -> ChatResponse:
    """Build the ``ChatResponse`` for ``result``.

    ``reply`` is the tool-aware reading of the answer (from
    :func:`segmind_gemini.tools.calling.read_tool_reply`) when tools were offered;
    without it, native ``functionCall`` parts still become ``ToolCallBlock``s.
    ``delta=True`` sets ``delta`` (and ``additional_kwargs["thinking_delta"]``) for
    the single chunk of a stream.
    """
    text = result.text if reply is None else reply.text
    calls = list(result.tool_calls if reply is None else reply.tool_calls)
    invalid = [] if reply is None else list(reply.invalid_tool_calls)
    for bad in invalid:
        recovered = _recoverable(bad)
        if recovered is not None:
            calls.append(recovered)
    if not text and not calls and invalid:
        # Only broken calls: show what the model wrote rather than an empty answer.
        text = result.text

    blocks: list[ContentBlock] = []
    if result.thoughts:
        info: dict[str, Any] = {}
        sig = _thought_signature(result.parts)
        if sig:
            info["thought_signature"] = sig
        blocks.append(
            ThinkingBlock(
                content=result.thoughts,
                num_tokens=result.usage.thoughts_tokens or None,
                additional_information=info,
            )
        )
    if has_rich_parts(result) and not invalid:
        blocks.extend(_rich_blocks(result))
        code = _code_runs(result)
    else:
        code = []
        if text or not calls:
            blocks.append(TextBlock(text=text))
    blocks.extend(
        ToolCallBlock(tool_call_id=c.id, tool_name=c.name, tool_kwargs=c.args) for c in calls
    )

    message_kwargs: dict[str, Any] = {}
    if calls:
        message_kwargs["tool_calls"] = [_openai_call(c) for c in calls]
        sigs = {c.id: c.thought_signature for c in calls if c.thought_signature}
        if sigs:
            message_kwargs["thought_signatures"] = sigs
    if invalid:
        message_kwargs["invalid_tool_calls"] = [_invalid(c) for c in invalid]
    if code:
        message_kwargs["code_execution"] = code

    kwargs = response_kwargs(result)
    if delta and result.thoughts:
        kwargs["thinking_delta"] = result.thoughts
    response = ChatResponse(
        message=ChatMessage(
            role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=message_kwargs
        ),
        raw=raw_body(result),
        delta=text if delta else None,
        additional_kwargs=kwargs,
    )
    logprobs = _logprobs(result)
    if logprobs:
        response.logprobs = logprobs
    return response


def _rich_blocks(result: GenerateContentResult) -> list[ContentBlock]:
    """Text, images and executed code in the order Gemini sent them.

    Code the model ran (code execution tool) and its output are shown as fenced text,
    and listed in ``message.additional_kwargs["code_execution"]``.
    """
    blocks: list[ContentBlock] = []
    for block in answer_blocks(result):
        kind = block["kind"]
        if kind == "text":
            blocks.append(TextBlock(text=block["text"]))
        elif kind == "image":
            blocks.append(
                ImageBlock(image=block["data"].encode("ascii"), image_mimetype=block["mime_type"])
            )
        elif kind == "file":
            blocks.append(
                DocumentBlock(
                    data=block["data"].encode("ascii"), document_mimetype=block["mime_type"]
                )
            )
        elif kind == "code":
            language = block["language"].lower()
            blocks.append(TextBlock(text=f"\n```{language}\n{block['code']}\n```\n"))
        else:
            blocks.append(TextBlock(text=f"\n```\n{block['output']}\n```\n"))
    return blocks


def _code_runs(result: GenerateContentResult) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for block in answer_blocks(result):
        if block["kind"] == "code":
            runs.append({"language": block["language"], "code": block["code"]})
        elif block["kind"] == "code_result":
            entry = {"outcome": block["outcome"], "output": block["output"]}
            if runs and "outcome" not in runs[-1]:
                runs[-1].update(entry)
            else:
                runs.append(entry)
    return runs


def _logprobs(result: GenerateContentResult) -> list[list[LogProb]]:
    """Per token, the top candidates (or just the chosen token), as LlamaIndex's LogProbs."""
    out: list[list[LogProb]] = []
    for token in token_logprobs(result.logprobs_result):
        options = token["top_logprobs"] or [token]
        out.append(
            [LogProb(token=o["token"], logprob=o["logprob"], bytes=o["bytes"]) for o in options]
        )
    return out


def _thought_signature(parts: Sequence[dict[str, Any]]) -> str | None:
    for part in parts:
        if part.get("thought"):
            sig = part.get("thoughtSignature") or part.get("thought_signature")
            if isinstance(sig, str) and sig:
                return sig
    return None


def completion_response(
    result: GenerateContentResult, *, delta: bool = False
) -> CompletionResponse:
    """Build the ``CompletionResponse`` for ``result`` (``delta`` set for a stream's chunk)."""
    return CompletionResponse(
        text=result.text,
        raw=raw_body(result),
        delta=result.text if delta else None,
        additional_kwargs=response_kwargs(result),
    )


def first_call_only(response: ChatResponse) -> ChatResponse:
    """``response`` keeping only its first tool call."""
    message = response.message
    calls = [b for b in message.blocks if isinstance(b, ToolCallBlock)]
    if len(calls) <= 1:
        return response
    keep = calls[0]
    blocks = [b for b in message.blocks if not isinstance(b, ToolCallBlock) or b is keep]
    kwargs = dict(message.additional_kwargs)
    legacy = kwargs.get("tool_calls")
    if isinstance(legacy, list):
        kwargs["tool_calls"] = [c for c in legacy if c.get("id") == keep.tool_call_id]
    new_message = ChatMessage(role=message.role, blocks=blocks, additional_kwargs=kwargs)
    return response.model_copy(update={"message": new_message})


def parse_structured(output_cls: type[_M], text: str) -> _M:
    """``output_cls`` from a reply; StructuredOutputError (for the repair) when it does not fit."""
    data = extract_json(text)
    try:
        return output_cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '$'}: {err['msg']}"
            for err in exc.errors()[:10]
        )
        raise StructuredOutputError(
            f"the JSON does not match the schema ({problems})", raw_text=text
        ) from exc


def repair_messages(messages: list[ChatMessage], repair: Repair | None) -> list[ChatMessage]:
    """The messages for one send of the core repair flow (the originals for ``None``)."""
    if repair is None:
        return messages
    return [
        *messages,
        ChatMessage(role=MessageRole.ASSISTANT, content=repair.raw_text),
        ChatMessage(role=MessageRole.USER, content=repair.prompt),
    ]

"""The parts of an answer beyond plain text, in order, for the adapters to render.

An answer may hold images (``inlineData``), code the model ran with the code
execution tool (``executableCode``) and that code's output (``codeExecutionResult``)
between its text parts. :func:`answer_blocks` lists them neutrally::

    >>> answer_blocks(result)
    [{'kind': 'text', 'text': 'Here is the sum:'},
     {'kind': 'code', 'language': 'PYTHON', 'code': 'print(1 + 1)', 'id': 'code_0'},
     {'kind': 'code_result', 'outcome': 'OUTCOME_OK', 'output': '2\\n', 'call_id': 'code_0'},
     {'kind': 'image', 'mime_type': 'image/png', 'data': 'iVBORw0...'}]

Which part kinds there are, and how each shows, is the table in
:mod:`segmind_gemini.wire.parts`.

:func:`openai_logprobs` turns Gemini's ``logprobsResult`` into the shape
langchain-openai puts in ``response_metadata["logprobs"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from segmind_gemini.wire.parts import PARTS, RICH_ANSWERS, kinds, value
from segmind_gemini.wire.response import GenerateContentResult

__all__ = ["answer_blocks", "has_rich_parts", "openai_logprobs", "token_logprobs"]


# Both spellings of each rich kind; the camelCase one wins when both are there (as kinds()).
_RICH_KEYS = tuple((k.camel, k.snake) for k in PARTS if k.answer in RICH_ANSWERS)


def has_rich_parts(result: GenerateContentResult) -> bool:
    """Whether the answer holds an image or code-execution part (not only text)."""
    for part in result.parts:
        if part.get("thought"):
            continue
        for camel, snake in _RICH_KEYS:
            if (part[camel] if camel in part else part.get(snake)) is not None:
                return True
    return False


def _text_block(found: Any, blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    return {"kind": "text", "text": str(found)} if found else None


def _media_block(found: Any, blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    mime = str(value(found, "mimeType") or "")
    return {
        "kind": "image" if mime.startswith("image/") else "file",
        "mime_type": mime,
        "data": str(found.get("data", "")),
    }


def _code_block(found: Any, blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    return {
        "kind": "code",
        "language": str(found.get("language") or "PYTHON"),
        "code": str(found.get("code", "")),
        "id": f"code_{len(blocks)}",
    }


def _code_result_block(found: Any, blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    code_id = next((b["id"] for b in reversed(blocks) if b["kind"] == "code"), "")
    return {
        "kind": "code_result",
        "outcome": str(found.get("outcome") or "OUTCOME_UNSPECIFIED"),
        "output": str(found.get("output", "")),
        "call_id": code_id,
    }


#: ``PartKind.answer`` -> its block builder; tool calls are not blocks (they are
#: ``result.tool_calls``), request-only kinds (``answer=None``) never show.
BLOCK_BUILDERS: dict[str, Callable[[Any, list[dict[str, Any]]], dict[str, Any] | None] | None] = {
    "text": _text_block,
    "media": _media_block,
    "code": _code_block,
    "code_result": _code_result_block,
    "tool_call": None,
}


def answer_blocks(result: GenerateContentResult) -> list[dict[str, Any]]:
    """The answer's non-thought parts in order: text, image, code and code_result blocks.

    Each ``code_result`` carries the ``call_id`` of the ``code`` block before it.
    """
    blocks: list[dict[str, Any]] = []
    for part in result.parts:
        if part.get("thought"):
            continue
        for kind, found in kinds(part):
            build = BLOCK_BUILDERS.get(kind.answer) if kind.answer else None
            block = build(found, blocks) if build is not None else None
            if block is not None:
                blocks.append(block)
    return blocks


def _entry(candidate: Mapping[str, Any]) -> dict[str, Any]:
    token = str(candidate.get("token", ""))
    number = value(candidate, "logProbability")
    return {
        "token": token,
        "logprob": float(number) if isinstance(number, (int, float)) else 0.0,
        # A parsed answer holds no lone surrogates; a hand-made dict might.
        "bytes": list(token.encode("utf-8", "replace")),
    }


def token_logprobs(logprobs_result: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Per chosen token: ``{"token", "logprob", "bytes", "top_logprobs": [...]}``."""
    if not isinstance(logprobs_result, Mapping):
        return []
    chosen = value(logprobs_result, "chosenCandidates")
    top = value(logprobs_result, "topCandidates")
    chosen = chosen if isinstance(chosen, list) else []
    top = top if isinstance(top, list) else []
    out: list[dict[str, Any]] = []
    for i, candidate in enumerate(chosen):
        if not isinstance(candidate, Mapping):
            continue
        entry = _entry(candidate)
        alternatives = top[i] if i < len(top) and isinstance(top[i], Mapping) else {}
        listed = alternatives.get("candidates")
        listed = listed if isinstance(listed, list) else []
        entry["top_logprobs"] = [_entry(c) for c in listed if isinstance(c, Mapping)]
        out.append(entry)
    return out


def openai_logprobs(logprobs_result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``{"content": [...]}`` as langchain-openai reports logprobs, or ``None`` without any."""
    content = token_logprobs(logprobs_result)
    return {"content": content} if content else None

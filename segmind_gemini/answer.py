"""The parts of an answer beyond plain text, in order, for the adapters to render.

An answer may hold images (``inlineData``), code the model ran with the code
execution tool (``executableCode``) and that code's output (``codeExecutionResult``)
between its text parts. :func:`answer_blocks` lists them neutrally::

    >>> answer_blocks(result)
    [{'kind': 'text', 'text': 'Here is the sum:'},
     {'kind': 'code', 'language': 'PYTHON', 'code': 'print(1 + 1)', 'id': 'code_0'},
     {'kind': 'code_result', 'outcome': 'OUTCOME_OK', 'output': '2\\n', 'call_id': 'code_0'},
     {'kind': 'image', 'mime_type': 'image/png', 'data': 'iVBORw0...'}]

:func:`openai_logprobs` turns Gemini's ``logprobsResult`` into the shape
langchain-openai puts in ``response_metadata["logprobs"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .response import GenerateContentResult

__all__ = ["answer_blocks", "has_rich_parts", "openai_logprobs", "token_logprobs"]

_RICH_KEYS = ("inlineData", "inline_data", "executableCode", "executable_code",
              "codeExecutionResult", "code_execution_result")  # fmt: skip


def _get(part: Mapping[str, Any], camel: str, snake: str) -> Any:
    return part[camel] if camel in part else part.get(snake)


def has_rich_parts(result: GenerateContentResult) -> bool:
    """Whether the answer holds an image or code-execution part (not only text)."""
    return any(
        not part.get("thought") and any(key in part for key in _RICH_KEYS) for part in result.parts
    )


def answer_blocks(result: GenerateContentResult) -> list[dict[str, Any]]:
    """The answer's non-thought parts in order: text, image, code and code_result blocks.

    Each ``code_result`` carries the ``call_id`` of the ``code`` block before it.
    """
    blocks: list[dict[str, Any]] = []
    code_id: str | None = None
    for part in result.parts:
        if part.get("thought"):
            continue
        if part.get("text"):
            blocks.append({"kind": "text", "text": str(part["text"])})
        blob = _get(part, "inlineData", "inline_data")
        if isinstance(blob, Mapping):
            blocks.append(
                {
                    "kind": "image" if _mime(blob).startswith("image/") else "file",
                    "mime_type": _mime(blob),
                    "data": str(blob.get("data", "")),
                }
            )
        code = _get(part, "executableCode", "executable_code")
        if isinstance(code, Mapping):
            code_id = f"code_{len(blocks)}"
            blocks.append(
                {
                    "kind": "code",
                    "language": str(code.get("language") or "PYTHON"),
                    "code": str(code.get("code", "")),
                    "id": code_id,
                }
            )
        outcome = _get(part, "codeExecutionResult", "code_execution_result")
        if isinstance(outcome, Mapping):
            blocks.append(
                {
                    "kind": "code_result",
                    "outcome": str(outcome.get("outcome") or "OUTCOME_UNSPECIFIED"),
                    "output": str(outcome.get("output", "")),
                    "call_id": code_id or "",
                }
            )
    return blocks


def _mime(blob: Mapping[str, Any]) -> str:
    return str(blob.get("mimeType") or blob.get("mime_type") or "")


def _entry(candidate: Mapping[str, Any]) -> dict[str, Any]:
    token = str(candidate.get("token", ""))
    value = candidate.get("logProbability", candidate.get("log_probability"))
    return {
        "token": token,
        "logprob": float(value) if isinstance(value, (int, float)) else 0.0,
        "bytes": list(token.encode("utf-8")),
    }


def token_logprobs(logprobs_result: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Per chosen token: ``{"token", "logprob", "bytes", "top_logprobs": [...]}``."""
    if not isinstance(logprobs_result, Mapping):
        return []
    chosen = _get(logprobs_result, "chosenCandidates", "chosen_candidates") or []
    top = _get(logprobs_result, "topCandidates", "top_candidates") or []
    out: list[dict[str, Any]] = []
    for i, candidate in enumerate(chosen):
        if not isinstance(candidate, Mapping):
            continue
        entry = _entry(candidate)
        alternatives = top[i] if i < len(top) and isinstance(top[i], Mapping) else {}
        entry["top_logprobs"] = [
            _entry(c) for c in alternatives.get("candidates") or [] if isinstance(c, Mapping)
        ]
        out.append(entry)
    return out


def openai_logprobs(logprobs_result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``{"content": [...]}`` as langchain-openai reports logprobs, or ``None`` without any."""
    content = token_logprobs(logprobs_result)
    return {"content": content} if content else None

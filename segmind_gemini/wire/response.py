"""Parse a Segmind answer into a :class:`GenerateContentResult`.

This is the one place that knows the response shapes: Gemini's
``candidates[].content.parts[]`` with every optional field DESIGN.md lists, a
blocked prompt (no candidates), and the OpenAI-shaped body some Gemini slugs
have been seen to return.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from segmind_gemini.errors import ContentBlockedError, ResponseParseError
from segmind_gemini.tools import ToolCall, new_call_id
from segmind_gemini.wire.parts import PART_SHAPE, kinds
from segmind_gemini.wire.parts import value as part_value
from segmind_gemini.wire.types import (
    Candidate,
    ChatCompletionResponse,
    GenerateContentResponse,
    UsageMetadata,
)
from segmind_gemini.wire.validation import conform, listed_keys, repaired

__all__ = [
    "GenerateContentResult",
    "SegmindHeaders",
    "Usage",
    "body_excerpt",
    "parse_response",
    "unreadable",
]

logger = logging.getLogger("segmind_gemini")
T = TypeVar("T")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip().rstrip("s"))
    except ValueError:
        return None


@dataclass(frozen=True)
class SegmindHeaders:
    """The gateway's own response headers: who answered, what it cost.

    ``cost`` is in USD credits as sent in ``x-cost``; users track spend from it.
    """

    request_id: str | None = None
    cost: float | None = None
    remaining_credits: float | None = None
    generation_time: float | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> SegmindHeaders:
        """Read the ``x-*`` headers; ``headers`` must have lower-case keys."""
        return cls(
            request_id=headers.get("x-request-id"),
            cost=_float(headers.get("x-cost")),
            remaining_credits=_float(headers.get("x-remaining-credits")),
            generation_time=_float(headers.get("x-generation-time")),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "cost": self.cost,
            "remaining_credits": self.remaining_credits,
            "generation_time": self.generation_time,
        }


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if value is None:
        value = part_value(data, key)  # the snake_case spelling
    if isinstance(value, float):  # a caller's unchecked dict; inf and nan are not integers
        return int(value) if value.is_integer() else 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# Usage field -> usageMetadata key.
_COUNTS = {
    "prompt_tokens": "promptTokenCount",
    "candidates_tokens": "candidatesTokenCount",
    "thoughts_tokens": "thoughtsTokenCount",
    "cached_tokens": "cachedContentTokenCount",
    "tool_use_prompt_tokens": "toolUsePromptTokenCount",
    "total_tokens": "totalTokenCount",
}


@dataclass(frozen=True)
class Usage:
    """Every count from ``usageMetadata``.

    ``input_tokens`` and ``output_tokens`` are what billing and the frameworks
    count: the prompt plus tool-use prompt, and the answer plus thoughts.

    A count Gemini left out of ``usageMetadata`` is 0 (Gemini omits zero counts).
    A count the server did not say (no usable ``usageMetadata``, or a value that
    is not a whole number) is named in ``unknown`` and reads 0 here; the adapters
    report such usage as unknown rather than as zero.
    """

    prompt_tokens: int = 0
    candidates_tokens: int = 0
    thoughts_tokens: int = 0
    cached_tokens: int = 0
    tool_use_prompt_tokens: int = 0
    total_tokens: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    unknown: frozenset[str] = frozenset()

    @property
    def known(self) -> bool:
        """Whether the server reported every count (none is in ``unknown``)."""
        return not self.unknown

    @property
    def input_tokens(self) -> int:
        return self.prompt_tokens + self.tool_use_prompt_tokens

    @property
    def output_tokens(self) -> int:
        return self.candidates_tokens + self.thoughts_tokens

    # Gemini's own names (as the google-genai SDK spells them), for code ported from it.
    @property
    def prompt_token_count(self) -> int:
        return self.prompt_tokens

    @property
    def candidates_token_count(self) -> int:
        return self.candidates_tokens

    @property
    def thoughts_token_count(self) -> int:
        return self.thoughts_tokens

    @property
    def cached_content_token_count(self) -> int:
        return self.cached_tokens

    @property
    def tool_use_prompt_token_count(self) -> int:
        return self.tool_use_prompt_tokens

    @property
    def total_token_count(self) -> int:
        return self.total_tokens

    @classmethod
    def from_usage_metadata(
        cls, meta: Mapping[str, Any] | None, raw: Mapping[str, Any] | None = None
    ) -> Usage:
        """Counts from a checked ``usageMetadata``; ``raw`` is the same before checking.

        A count present in ``raw`` but dropped by the check is unknown.
        """
        if not isinstance(meta, Mapping):
            return cls(unknown=frozenset(_COUNTS))
        unknown: frozenset[str] = frozenset()
        if isinstance(raw, Mapping) and raw is not meta:  # conform() copies only on change
            unknown = frozenset(
                name
                for name, key in _COUNTS.items()
                if part_value(raw, key) is not None and part_value(meta, key) is None
            )
        prompt = _int(meta, "promptTokenCount")
        candidates = _int(meta, "candidatesTokenCount")
        thoughts = _int(meta, "thoughtsTokenCount")
        tool_use = _int(meta, "toolUsePromptTokenCount")
        total = _int(meta, "totalTokenCount") or prompt + candidates + thoughts + tool_use
        details = {k: v for k, v in meta.items() if isinstance(k, str) and k.endswith("Details")}
        return cls(
            prompt_tokens=prompt,
            candidates_tokens=candidates,
            thoughts_tokens=thoughts,
            cached_tokens=_int(meta, "cachedContentTokenCount"),
            tool_use_prompt_tokens=tool_use,
            total_tokens=total,
            details=details,
            unknown=unknown,
        )


@dataclass(frozen=True)
class GenerateContentResult:
    """One answer from a Gemini slug.

    Attributes:
        text: the answer: every non-thought text part, joined.
        thoughts: the model's reasoning text (``"thought": true`` parts), or ``""``.
        tool_calls: ``functionCall`` parts, in order (``id`` generated when Gemini sent none).
        finish_reason: ``STOP``, ``MAX_TOKENS``, ``SAFETY``, ... or ``None``.
        finish_message: Gemini's ``finishMessage`` when present.
        safety_ratings: the candidate's ``safetyRatings``.
        usage: token counts.
        model_version: ``modelVersion`` (or the OpenAI ``model``).
        response_id: ``responseId`` (or the OpenAI ``id``).
        headers: Segmind's request id, cost, remaining credits and generation time.
        parts: the candidate's raw parts (to echo ``thoughtSignature`` in later turns).
        images: ``inlineData`` blobs the model produced.
        citation_metadata, avg_logprobs: passed through when present.
        grounding_metadata: ``groundingMetadata`` (Google Search grounding), when present.
        url_context_metadata: ``urlContextMetadata`` (the URL context tool), when present.
        logprobs_result: ``logprobsResult`` (with ``response_logprobs``), when present.
        other_candidates: candidates 2..n (with ``candidate_count`` > 1), each parsed alike.
        raw: the parsed JSON body, unchanged.
    """

    text: str
    thoughts: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    finish_message: str | None = None
    safety_ratings: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    model_version: str | None = None
    response_id: str | None = None
    headers: SegmindHeaders = field(default_factory=SegmindHeaders)
    parts: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    citation_metadata: dict[str, Any] | None = None
    avg_logprobs: float | None = None
    raw: Any = None
    grounding_metadata: dict[str, Any] | None = None
    url_context_metadata: dict[str, Any] | None = None
    logprobs_result: dict[str, Any] | None = None
    other_candidates: list[GenerateContentResult] = field(default_factory=list)

    @property
    def request_id(self) -> str | None:
        return self.headers.request_id

    @property
    def cost(self) -> float | None:
        return self.headers.cost

    @property
    def remaining_credits(self) -> float | None:
        return self.headers.remaining_credits

    @property
    def generation_time(self) -> float | None:
        return self.headers.generation_time

    def metadata(self) -> dict[str, Any]:
        """Finish reason, safety, model and Segmind's billing headers, for response metadata.

        Keys with no value are left out.
        """
        headers = self.headers  # its as_dict() written out: this runs on every call
        meta = (
            ("finish_reason", self.finish_reason),
            ("finish_message", self.finish_message),
            ("safety_ratings", self.safety_ratings or None),
            ("model_version", self.model_version),
            ("response_id", self.response_id),
            ("request_id", headers.request_id),
            ("cost", headers.cost),
            ("remaining_credits", headers.remaining_credits),
            ("generation_time", headers.generation_time),
            ("grounding_metadata", self.grounding_metadata),
            ("citation_metadata", self.citation_metadata),
            ("url_context_metadata", self.url_context_metadata),
            ("avg_logprobs", self.avg_logprobs),
        )
        return {k: v for k, v in meta if v is not None}


def parse_response(
    body: Any, headers: Mapping[str, str] | None = None, *, status: int | None = None
) -> GenerateContentResult:
    """Turn a decoded JSON body into a result.

    The body is first checked against the wire types (:mod:`segmind_gemini.wire.types`,
    via :func:`~segmind_gemini.wire.validation.conform`): optional fields of the wrong
    JSON type are dropped (one WARNING naming them), a wrong type on the path to the answer
    is reported. ``status`` is the HTTP status the body came with, for errors.

    Raises:
        ContentBlockedError: the prompt was blocked (no candidates, ``promptFeedback.blockReason``).
        ResponseParseError: the body is neither Gemini- nor OpenAI-shaped; the message
            says what was wrong and where, and quotes the start of the body.
    """
    seg = SegmindHeaders.from_headers(headers or {})
    if type(body) is dict and "candidates" in body:
        plain = _plain_text_answer(body, seg)
        if plain is not None:
            return plain
    if not isinstance(body, Mapping):
        raise unreadable(
            f"Expected a JSON object from Segmind, got {type(body).__name__}", body, status, seg
        )
    if "candidates" in body or "promptFeedback" in body or "usageMetadata" in body:
        schema: Any = GenerateContentResponse
    elif "choices" in body:
        schema = ChatCompletionResponse
    else:
        keys = ", ".join(sorted(str(k) for k in body)) or "none"
        raise unreadable(
            f"The response has neither 'candidates' (Gemini) nor 'choices' (OpenAI); keys: {keys}",
            body,
            status,
            seg,
        )
    checked = conform(body, schema)
    if checked.errors:
        shown = "; ".join(checked.errors[:3])
        more = f" (and {len(checked.errors) - 3} more)" if len(checked.errors) > 3 else ""
        raise unreadable(f"The response is not a readable answer: {shown}{more}", body, status, seg)
    if checked.ignored:
        # One line per answer, naming every field dropped (what was wrong with it).
        logger.warning(
            "Segmind answer: ignored %d field(s) of the wrong type: %s",
            len(checked.ignored),
            "; ".join(checked.ignored),
        )
    if schema is ChatCompletionResponse:
        return _parse_openai(checked.value, body, seg, status)
    return _parse_gemini(checked.value, body, seg, status)


def unreadable(
    reason: str, body: Any, status: int | None, seg: SegmindHeaders | None = None
) -> ResponseParseError:
    """The error for an answer that cannot be read: the reason, and the start of the body."""
    return ResponseParseError(
        f"{reason}; the body begins {body_excerpt(body)}",
        status_code=status,
        body=dict(body) if isinstance(body, Mapping) else body,
        request_id=seg.request_id if seg is not None else None,
    )


def body_excerpt(body: Any, limit: int = 200) -> str:
    """The start of ``body`` as compact JSON (or its repr), quoted, for error messages."""
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=repr)
    except (ValueError, TypeError, RecursionError):
        text = reprlib.repr(body)
    if len(text) > limit:
        return repr(text[:limit]) + f" (first {limit} of {len(text)} characters)"
    return repr(text)


def _parse_gemini(
    body: Mapping[str, Any], raw: Mapping[str, Any], seg: SegmindHeaders, status: int | None
) -> GenerateContentResult:
    # ``body`` has passed conform(): every field read here has its schema type.
    candidates = body.get("candidates") or []
    if not candidates:
        feedback = body.get("promptFeedback") or {}
        reason = feedback.get("blockReason")
        detail = feedback.get("blockReasonMessage")
        message = f"Gemini blocked the prompt (blockReason={reason or 'unspecified'})"
        if detail:
            message += f": {detail}"
        raise ContentBlockedError(
            message,
            block_reason=reason,
            safety_ratings=list(feedback.get("safetyRatings") or []),
            status_code=status,
            body=dict(raw),
            request_id=seg.request_id,
        )
    cand = candidates[0]
    parts = (cand.get("content") or {}).get("parts") or []

    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    images: list[dict[str, str]] = []
    for part in parts:
        for kind, found in kinds(part):  # checked: each value has its kind's shape
            if kind.answer == "text":
                (thoughts if part.get("thought") else texts).append(found)
            elif kind.answer == "tool_call":
                calls.append(
                    ToolCall(
                        name=found.get("name", ""),
                        args=dict(found.get("args") or {}),
                        id=found.get("id") or new_call_id(),
                        thought_signature=part_value(part, "thoughtSignature"),
                    )
                )
            elif kind.answer == "media":
                mime = part_value(found, "mimeType") or ""
                images.append({"mimeType": mime, "data": found.get("data", "")})
    logprobs = cand.get("avgLogprobs")
    others = [
        _parse_gemini({**body, "candidates": [c]}, raw, seg, status)
        for c in candidates[1:]
        if isinstance(c, Mapping)
    ]
    return GenerateContentResult(
        text="".join(texts),
        thoughts="".join(thoughts),
        tool_calls=calls,
        finish_reason=cand.get("finishReason"),
        finish_message=cand.get("finishMessage"),
        safety_ratings=list(cand.get("safetyRatings") or []),
        usage=Usage.from_usage_metadata(body.get("usageMetadata"), raw.get("usageMetadata")),
        model_version=body.get("modelVersion"),
        response_id=body.get("responseId"),
        headers=seg,
        parts=[dict(p) for p in parts],
        images=images,
        citation_metadata=cand.get("citationMetadata"),
        avg_logprobs=float(logprobs) if isinstance(logprobs, (int, float)) else None,
        raw=raw,
        grounding_metadata=_mapping(cand, "groundingMetadata"),
        url_context_metadata=_mapping(cand, "urlContextMetadata"),
        logprobs_result=_mapping(cand, "logprobsResult"),
        other_candidates=others,
    )


# The plain-text reader: the answer most calls get (one candidate, text parts, usage)
# read in one pass over the body, without conform()'s general walk. Each field it
# reads gets the same type check conform() makes; a body it does not take whole (any
# other listed field, a value conform() would drop or repair, a part that is not
# text) goes to the general path, so both always give the same result
# (tests/test_response.py compares them on generated answers).
_PLAIN_TOP = frozenset({"candidates", "usageMetadata", "modelVersion", "responseId"})
_PLAIN_STRINGS = frozenset({"finishReason", "finishMessage"})
_PLAIN_COUNTS = frozenset(_COUNTS.values())


def _text_ok(value: Any) -> bool:
    """A string conform() keeps as it is (no lone surrogate to repair)."""
    return type(value) is str and (value.isascii() or _SURROGATE.search(value) is None)


def _plain_text_answer(body: dict[str, Any], seg: SegmindHeaders) -> GenerateContentResult | None:
    """The result the general path gives for a plain text answer; ``None`` for any other."""
    top, listed_candidate, listed_part, listed_usage = _listed_fields()
    cand: Any = None
    meta: Any = None
    for key, value in body.items():
        if key == "candidates":
            if type(value) is not list or len(value) != 1:
                return None
            cand = value[0]
        elif key == "usageMetadata":
            meta = value
        elif key in _PLAIN_TOP:  # modelVersion, responseId
            if not _text_ok(value):
                return None
        elif key in top:
            return None
    if type(cand) is not dict:
        return None
    parts = _plain_candidate(cand, listed_candidate)
    if parts is None:
        return None
    texts: list[str] = []
    thoughts: list[str] = []
    for part in parts:
        if type(part) is not dict or not _plain_part(part, listed_part):
            return None
        (thoughts if part.get("thought") else texts).append(part["text"])
    usage = Usage(unknown=frozenset(_COUNTS)) if meta is None else _plain_usage(meta, listed_usage)
    if usage is None:
        return None
    return _frozen(
        GenerateContentResult,
        {
            "text": "".join(texts),
            "thoughts": "".join(thoughts),
            "tool_calls": [],
            "finish_reason": cand.get("finishReason"),
            "finish_message": cand.get("finishMessage"),
            "safety_ratings": list(cand.get("safetyRatings") or []),
            "usage": usage,
            "model_version": body.get("modelVersion"),
            "response_id": body.get("responseId"),
            "headers": seg,
            "parts": [dict(p) for p in parts],
            "images": [],
            "citation_metadata": None,
            "avg_logprobs": cand.get("avgLogprobs"),
            "raw": body,
            "grounding_metadata": None,
            "url_context_metadata": None,
            "logprobs_result": None,
            "other_candidates": [],
        },
    )


def _frozen(cls: type[T], fields: dict[str, Any]) -> T:
    """An instance of the frozen dataclass ``cls`` holding ``fields`` (every one of them).

    Set straight into the instance dict: the generated ``__init__`` sets each field
    through ``object.__setattr__``, ~1.6 us more for a result's nineteen, on every call.
    (A field left out would read its class default, or fail for a list field: the
    plain-reader property test compares whole reprs with the general path's.)
    """
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


def _plain_candidate(cand: dict[str, Any], listed: frozenset[str]) -> list[Any] | None:
    """The candidate's parts if conform() keeps every field the reader reads, else ``None``."""
    parts: Any = None
    for key, value in cand.items():
        if key == "content":
            if type(value) is not dict:
                return None
            role = value.get("role")  # a content lists no other field
            if role is not None and not _text_ok(role):
                return None
            parts = value.get("parts")
            if type(parts) is not list:
                return None
        elif key in _PLAIN_STRINGS:
            if not _text_ok(value):
                return None
        elif key == "index":
            if type(value) is not int:
                return None
        elif key == "avgLogprobs":
            if type(value) is not float or not math.isfinite(value):
                return None
        elif key == "safetyRatings":
            if type(value) is not list or not all(_unrepaired(r) for r in value):
                return None
        elif key in listed:
            return None
    return cast("list[Any] | None", parts)


def _unrepaired(rating: Any) -> bool:
    """A free-form object conform() keeps as it is."""
    if type(rating) is not dict:
        return False
    try:
        return repaired(rating) is rating
    except RecursionError:
        return False


def _plain_part(part: dict[str, Any], listed: frozenset[str]) -> bool:
    if "text" not in part:
        return False
    for key, value in part.items():
        if key == "text" or key == "thoughtSignature":
            if not _text_ok(value):
                return False
        elif key == "thought":
            if type(value) is not bool:
                return False
        elif key in listed:
            return False
    return True


def _plain_usage(meta: Any, listed: frozenset[str]) -> Usage | None:
    if type(meta) is not dict:
        return None
    details: dict[str, Any] = {}
    for key, value in meta.items():
        if key in _PLAIN_COUNTS:
            if type(value) is not int:
                return None
        elif key in listed:
            return None  # a count in snake_case
        elif type(key) is str and key.endswith("Details"):
            details[key] = value
    get = meta.get
    prompt = get("promptTokenCount", 0)
    candidates = get("candidatesTokenCount", 0)
    thoughts = get("thoughtsTokenCount", 0)
    tool_use = get("toolUsePromptTokenCount", 0)
    return _frozen(
        Usage,
        {
            "prompt_tokens": prompt,
            "candidates_tokens": candidates,
            "thoughts_tokens": thoughts,
            "cached_tokens": get("cachedContentTokenCount", 0),
            "tool_use_prompt_tokens": tool_use,
            "total_tokens": get("totalTokenCount", 0) or prompt + candidates + thoughts + tool_use,
            "details": details,
            "unknown": frozenset(),
        },
    )


@functools.cache
def _listed_fields() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """The keys conform() checks (both spellings) in a body, a candidate, a part, a usage."""
    return (
        listed_keys(GenerateContentResponse),
        listed_keys(Candidate),
        listed_keys(PART_SHAPE),
        listed_keys(UsageMetadata),
    )


def _mapping(data: Mapping[str, Any], camel: str) -> dict[str, Any] | None:
    value = part_value(data, camel)
    return dict(value) if isinstance(value, Mapping) else None


_OPENAI_FINISH = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "tool_calls": "STOP",
    "function_call": "STOP",
}


def _parse_openai(
    body: Mapping[str, Any], raw: Mapping[str, Any], seg: SegmindHeaders, status: int | None
) -> GenerateContentResult:
    # ``body`` has passed conform(): every field read here has its schema type.
    choices = body.get("choices") or []
    if not choices:
        raise unreadable("OpenAI-shaped response with no choices", raw, status, seg)
    choice = choices[0]
    message = choice.get("message") or {}
    content = message.get("content")
    if isinstance(content, list):
        text = "".join(c.get("text", "") for c in content)
    else:
        text = content or ""
    calls: list[ToolCall] = []
    for i, tc in enumerate(message.get("tool_calls") or []):
        fn = tc.get("function") or {}
        raw_args: Any = fn.get("arguments") or {}
        if isinstance(raw_args, str):
            try:
                raw_args = json.loads(raw_args) if raw_args.strip() else {}
            except (ValueError, RecursionError):
                raw_args = None
        if not isinstance(raw_args, dict):
            # Arguments that cannot be read are lost content, not an empty call.
            where = f"choices[0].message.tool_calls[{i}].function.arguments"
            raise unreadable(f"{where} is not a JSON object", raw, status, seg)
        calls.append(
            ToolCall(
                name=fn.get("name", ""),
                args=conform(raw_args, dict[str, Any]).value,  # surrogates inside the JSON text
                id=tc.get("id") or new_call_id(),
            )
        )
    usage = body.get("usage") or {}
    raw_usage = raw.get("usage")
    unknown = frozenset(_COUNTS) if not usage else frozenset()
    if isinstance(raw_usage, Mapping) and usage:
        # A count sent but unreadable is unknown; so are the ones derived from it.
        dropped = {k for k in ("prompt_tokens", "completion_tokens") if k not in usage
                   and raw_usage.get(k) is not None}  # fmt: skip
        if "prompt_tokens" in dropped:
            unknown |= {"prompt_tokens", "total_tokens"}
        if "completion_tokens" in dropped:
            unknown |= {"candidates_tokens", "thoughts_tokens", "total_tokens"}
    prompt = _int(usage, "prompt_tokens")
    completion = _int(usage, "completion_tokens")
    reasoning = _int(usage.get("completion_tokens_details") or {}, "reasoning_tokens")
    reason = choice.get("finish_reason")
    return GenerateContentResult(
        text=text,
        thoughts=message.get("reasoning_content") or "",
        tool_calls=calls,
        finish_reason=_OPENAI_FINISH.get(reason, reason.upper()) if reason else None,
        usage=Usage(
            prompt_tokens=prompt,
            candidates_tokens=completion - reasoning,
            thoughts_tokens=reasoning,
            total_tokens=_int(usage, "total_tokens") or prompt + completion,
            unknown=unknown,
        ),
        model_version=body.get("model"),
        response_id=body.get("id"),
        headers=seg,
        parts=[{"text": text}] if text else [],
        raw=raw,
    )

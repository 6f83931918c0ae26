"""Build and check Gemini request bodies: the neutral request both adapters produce.

>>> build_request(
...     [{"role": "user", "parts": [{"text": "Hi"}]}],
...     system="Be brief.",
...     generation_config=generation_config(temperature=0.2),
... )
{'contents': [...], 'system_instruction': {'parts': {'text': 'Be brief.'}},
 'generationConfig': {'temperature': 0.2}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import InvalidRequestError
from .options import deep_merge
from .wire.parts import PART_KEYS

__all__ = [
    "PART_KEYS",
    "append_system_text",
    "build_request",
    "generation_config",
    "merge_consecutive_turns",
    "system_instruction",
    "validate_request",
]


def generation_config(
    *,
    temperature: float | None = None,
    max_output_tokens: int | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    stop_sequences: Sequence[str] | None = None,
    thinking_budget: int | None = None,
    include_thoughts: bool | None = None,
    response_mime_type: str | None = None,
    response_schema: Mapping[str, Any] | None = None,
    seed: int | None = None,
    candidate_count: int | None = None,
) -> dict[str, Any]:
    """A ``generationConfig`` holding only the settings that were given.

    Segmind documents no generation settings for its Gemini slugs, so a default
    request must carry none: an empty dict here means "send no config".
    """
    config: dict[str, Any] = {}
    if temperature is not None:
        config["temperature"] = temperature
    if max_output_tokens is not None:
        config["maxOutputTokens"] = max_output_tokens
    if top_p is not None:
        config["topP"] = top_p
    if top_k is not None:
        config["topK"] = top_k
    if stop_sequences:
        config["stopSequences"] = list(stop_sequences)
    if seed is not None:
        config["seed"] = seed
    if candidate_count is not None:
        config["candidateCount"] = candidate_count
    if response_mime_type is not None:
        config["responseMimeType"] = response_mime_type
    if response_schema is not None:
        config["responseSchema"] = dict(response_schema)
    thinking: dict[str, Any] = {}
    if thinking_budget is not None:
        thinking["thinkingBudget"] = thinking_budget
    if include_thoughts is not None:
        thinking["includeThoughts"] = include_thoughts
    if thinking:
        config["thinkingConfig"] = thinking
    return config


def system_instruction(text: str | Sequence[str] | None) -> dict[str, Any] | None:
    """Segmind's documented form, ``{"parts": {"text": ...}}``, or ``None`` for no text.

    Several texts are joined by a blank line into the one part.

    >>> system_instruction(["Be brief.", "Answer in French."])["parts"]["text"].split()
    ['Be', 'brief.', 'Answer', 'in', 'French.']
    """
    if text is None:
        return None
    texts = [text] if isinstance(text, str) else list(text)
    kept = [t for t in texts if t and t.strip()]
    return {"parts": {"text": "\n\n".join(kept)}} if kept else None


def append_system_text(instruction: Mapping[str, Any] | None, text: str) -> dict[str, Any]:
    """A new system instruction with ``text`` after what ``instruction`` says.

    An instruction of text parts (in either form) stays in Segmind's single-part
    form; one holding other parts keeps them and gets a text part appended.
    The input is not modified.
    """
    if not instruction:
        return {"parts": {"text": text}}
    parts = instruction.get("parts")
    listed = [parts] if isinstance(parts, Mapping) else list(parts or [])
    if all(isinstance(p, Mapping) and set(p) == {"text"} for p in listed):
        texts = [str(p["text"]) for p in listed if str(p["text"]).strip()]
        return {**instruction, "parts": {"text": "\n\n".join([*texts, text])}}
    return {**instruction, "parts": [*listed, {"text": text}]}


def merge_consecutive_turns(contents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Join neighbouring turns of the same role; drop turns with no parts.

    Older Gemini models rejected two ``user`` turns in a row, and every model
    rejects ``parts: []``. Returns new dicts and lists; the input is untouched.
    """
    merged: list[dict[str, Any]] = []
    for content in contents:
        parts = list(content.get("parts") or [])
        if not parts:
            continue
        role = content.get("role")
        if merged and merged[-1]["role"] == role:
            merged[-1]["parts"].extend(parts)
        else:
            merged.append({**content, "parts": parts})
    return merged


def build_request(
    contents: Sequence[Mapping[str, Any]],
    *,
    system: str | Sequence[str] | Mapping[str, Any] | None = None,
    generation_config: Mapping[str, Any] | None = None,
    safety_settings: Sequence[Mapping[str, str]] | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_config: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble a Gemini request, leaving out everything that was not given.

    ``settings`` are body fields from :func:`segmind_gemini.options.layered_settings`,
    merged in last (nested dicts key by key).
    """
    request: dict[str, Any] = {"contents": merge_consecutive_turns(contents)}
    instruction = system if isinstance(system, Mapping) else system_instruction(system)
    if instruction:
        request["system_instruction"] = dict(instruction)
    if generation_config:
        request["generationConfig"] = dict(generation_config)
    if safety_settings:
        request["safetySettings"] = [dict(s) for s in safety_settings]
    if tools:
        request["tools"] = [dict(t) for t in tools]
    if tool_config:
        request["toolConfig"] = dict(tool_config)
    if settings:
        request = deep_merge(request, settings)
    return request


def validate_request(request: Mapping[str, Any]) -> None:
    """Refuse, before sending, a request Gemini would reject; the message says where.

    Raises:
        InvalidRequestError: no contents, a bad role, empty parts, or an unknown part.
    """
    if not isinstance(request, Mapping):
        raise InvalidRequestError(
            f"request must be a dict holding Gemini 'contents', got {type(request).__name__}"
        )
    contents = request.get("contents")
    if not isinstance(contents, list) or not contents:
        raise InvalidRequestError("request['contents'] must be a non-empty list of turns")
    for i, content in enumerate(contents):
        if not isinstance(content, Mapping):
            raise InvalidRequestError(f"contents[{i}] must be an object with 'role' and 'parts'")
        role = content.get("role", "user")
        if role not in ("user", "model"):
            raise InvalidRequestError(
                f"contents[{i}].role is {role!r}; Gemini accepts only 'user' and 'model'"
            )
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise InvalidRequestError(
                f"contents[{i}].parts is empty; every turn needs at least one part"
            )
        for j, part in enumerate(parts):
            if not isinstance(part, Mapping) or not (PART_KEYS & part.keys()):
                raise InvalidRequestError(
                    f"contents[{i}].parts[{j}] has none of: {', '.join(sorted(PART_KEYS))}"
                )

"""Build and check Gemini request bodies: the neutral request both adapters produce.

>>> from segmind_gemini.planning.options import settings_fields
>>> build_request(
...     [{"role": "user", "parts": [{"text": "Hi"}]}],
...     system="Be brief.",
...     settings=settings_fields({"temperature": 0.2}),
... )
{'contents': [...], 'system_instruction': {'parts': {'text': 'Be brief.'}},
 'generationConfig': {'temperature': 0.2}}

Named settings are built by :mod:`segmind_gemini.planning.options` (the settings table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.planning.options import deep_merge
from segmind_gemini.wire.parts import PART_KEYS

__all__ = [
    "PART_KEYS",
    "append_system_text",
    "build_request",
    "merge_consecutive_turns",
    "system_instruction",
    "validate_request",
]


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

    ``settings`` are body fields from :func:`segmind_gemini.planning.options.layered_settings`,
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
            if not isinstance(part, Mapping) or PART_KEYS.isdisjoint(part.keys()):
                raise InvalidRequestError(
                    f"contents[{i}].parts[{j}] has none of: {', '.join(sorted(PART_KEYS))}"
                )

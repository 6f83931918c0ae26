"""Structured output: ask for JSON matching a schema, read it back, repair once.

Used by ``with_structured_output`` (LangChain) and ``structured_predict``
(LlamaIndex). The flow an adapter follows:

1. add :func:`schema_instruction` to the system instruction;
2. read the reply with :func:`extract_json` (and :func:`validate_json` for plain
   dict schemas, or the framework's own validator for pydantic models);
3. on :class:`StructuredOutputError`, send :func:`repair_prompt` once and parse again.

>>> schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
>>> extract_json('Here you go:\\n```json\\n{"city": "Oslo"}\\n```')
{'city': 'Oslo'}
>>> validate_json({}, schema)
["$: missing required property 'city'"]
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from segmind_gemini.errors import InvalidRequestError, SegmindError
from segmind_gemini.tools import compact_schema, scan_json
from segmind_gemini.tools.native import encoded_paths, json_schema_to_gemini

_R = TypeVar("_R")
_T = TypeVar("_T")

__all__ = [
    "JSON_ONLY_INSTRUCTION",
    "Repair",
    "StructuredOutputError",
    "arun_repairing",
    "extract_json",
    "gemini_response_schema",
    "repair_prompt",
    "run_repairing",
    "schema_instruction",
    "validate_json",
    "with_repair_turns",
]

JSON_ONLY_INSTRUCTION = (
    "Answer with ONLY a valid JSON value (an object unless the request asks for something "
    "else). Write the JSON itself: no explanation, no Markdown, no code fences."
)
_FENCE = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)
_MAX_ECHO = 4000


class StructuredOutputError(SegmindError, ValueError):
    """The reply is not the JSON that was asked for.

    ``raw_text`` is the model's reply as received, ``reason`` what was wrong with it
    (what :func:`repair_prompt` tells the model).
    """

    def __init__(self, reason: str, *, raw_text: str) -> None:
        super().__init__(f"the model's reply is not valid structured output: {reason}")
        self.reason = reason
        self.raw_text = raw_text


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def schema_instruction(schema: Mapping[str, Any], *, name: str | None = None) -> str:
    """Instruction to answer with only a JSON value matching ``schema``.

    >>> print(schema_instruction({"type": "integer"}))  # doctest: +ELLIPSIS
    Answer with ONLY a JSON value that matches this JSON Schema...
    """
    label = f' (named "{name}")' if name else ""
    return (
        f"Answer with ONLY a JSON value that matches this JSON Schema{label}. Write the "
        "JSON itself: no explanation, no Markdown, no code fences. Include every required "
        "property, and use null only where the schema allows it.\n\n"
        f"JSON Schema: {_dumps(compact_schema(schema))}"
    )


def extract_json(text: str) -> Any:
    """Parse the JSON value in a model reply.

    Accepts a bare value, a fenced ```json block, or a value with prose around it
    (the largest JSON object or array wins). Raises :class:`StructuredOutputError`
    with the raw text and a reason when there is none.

    >>> extract_json('The answer is [1, 2] as requested.')
    [1, 2]
    """
    if not isinstance(text, str) or not text.strip():
        raise StructuredOutputError("the reply is empty", raw_text=text or "")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        first_error = exc
    except RecursionError:
        raise StructuredOutputError("the JSON nests too deeply", raw_text=text) from None
    fence_error: json.JSONDecodeError | None = None
    for body in _FENCE.findall(text):
        try:
            return json.loads(body)
        except json.JSONDecodeError as exc:
            fence_error = fence_error or exc
        except RecursionError:
            continue
    best: tuple[int, Any] | None = None
    for start, end, value in scan_json(text):
        if best is None or end - start > best[0]:
            best = (end - start, value)
    if best is not None:
        return best[1]
    if fence_error is not None:
        reason = f"the code block is not valid JSON ({_describe(fence_error)})"
    elif "{" in text or "[" in text:
        reason = f"the JSON in it is incomplete or malformed ({_describe(first_error)})"
    else:
        reason = "the reply contains no JSON, only text"
    raise StructuredOutputError(reason, raw_text=text)


def _describe(exc: json.JSONDecodeError) -> str:
    return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"


def repair_prompt(raw_text: str, error: str, schema: Mapping[str, Any]) -> str:
    """The follow-up user message for the one repair round trip.

    >>> print(repair_prompt("{oops", "not JSON", {"type": "object"}))  # doctest: +ELLIPSIS
    Your previous reply could not be used: not JSON
    ...
    """
    echo = raw_text if len(raw_text) <= _MAX_ECHO else raw_text[:_MAX_ECHO] + "\n[... truncated]"
    return (
        f"Your previous reply could not be used: {error}\n\n"
        f"Your previous reply was:\n<previous_reply>\n{echo}\n</previous_reply>\n\n"
        "Reply again with ONLY a corrected JSON value that matches this JSON Schema. Write "
        "the JSON itself: no explanation, no Markdown, no code fences.\n\n"
        f"JSON Schema: {_dumps(compact_schema(schema))}"
    )


def gemini_response_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``generationConfig.responseSchema`` for ``schema`` (use with ``responseMimeType``
    ``application/json``).

    Raises :class:`~segmind_gemini.errors.InvalidRequestError` for a top-level
    object without properties, free-form values or recursion, which Gemini's
    ``responseSchema`` cannot express (plain JSON Schema can).

    >>> gemini_response_schema({"type": "array", "items": {"type": "string"}})
    {'type': 'ARRAY', 'items': {'type': 'STRING'}}
    """
    converted = json_schema_to_gemini(schema)
    if converted.get("type") == "STRING" and schema.get("type") in (None, "object"):
        raise InvalidRequestError(
            "a response schema needs typed properties; for free-form JSON set "
            "responseMimeType to application/json without a responseSchema"
        )
    if encoded_paths(schema):  # free-form values would come back as JSON strings
        raise InvalidRequestError(
            "the schema has free-form values, which responseSchema can only declare as "
            "strings; send it as responseJsonSchema (or in the instruction) instead"
        )
    return converted


# --------------------------------------------------------------------------- validation


def validate_json(value: Any, schema: Mapping[str, Any], *, max_errors: int = 10) -> list[str]:
    """Problems with ``value`` against a JSON Schema; ``[]`` when it conforms.

    A deliberately small validator (type, enum/const, required, properties,
    additionalProperties false, items, min/max, anyOf/oneOf/allOf, local $ref) for
    dict schemas, enough to give the repair prompt a precise reason.

    >>> validate_json({"n": "x"}, {"properties": {"n": {"type": "integer"}}})
    ['$.n: expected integer, got string']
    """
    errors: list[str] = []
    _check(value, schema, schema, "$", errors, 0)
    return errors[:max_errors]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _type_ok(value: Any, expected: str) -> bool:
    actual = _json_type(value)
    if expected == "number":
        return actual in ("integer", "number")
    if expected == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == expected


def _resolve(root: Mapping[str, Any], ref: str) -> Any:
    node: Any = root
    for token in [t for t in ref.lstrip("#").split("/") if t]:
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or token not in node:
            return None
        node = node[token]
    return node


def _check(
    value: Any, schema: Any, root: Mapping[str, Any], path: str, errors: list[str], depth: int
) -> None:
    # Recursive schemas validate recursive data; the depth cap only stops cycles
    # through $ref that never consume data.
    if depth > 100 or not isinstance(schema, Mapping):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        _check(value, _resolve(root, ref), root, path, errors, depth + 1)
    for sub in schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []:
        _check(value, sub, root, path, errors, depth + 1)
    for key in ("anyOf", "oneOf"):
        variants = schema.get(key)
        if isinstance(variants, list) and variants:
            ok = False
            for sub in variants:
                sub_errors: list[str] = []
                _check(value, sub, root, path, sub_errors, depth + 1)
                ok = ok or not sub_errors
            if not ok:
                errors.append(f"{path}: matches none of the allowed alternatives")
    expected = schema.get("type")
    if expected is not None:
        kinds = expected if isinstance(expected, list) else [expected]
        if not any(_type_ok(value, k) for k in kinds):
            errors.append(f"{path}: expected {' or '.join(kinds)}, got {_json_type(value)}")
            return
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: must be {json.dumps(schema['const'])}")
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        allowed = ", ".join(json.dumps(v) for v in enum)
        errors.append(f"{path}: {json.dumps(value, default=str)} is not one of {allowed}")
    if isinstance(value, dict):
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}: missing required property {name!r}")
        for name, sub in props.items():
            if name in value:
                _check(value[name], sub, root, f"{path}.{name}", errors, depth + 1)
        if schema.get("additionalProperties") is False:
            for name in value:
                if name not in props:
                    errors.append(f"{path}: unexpected property {name!r}")
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(value):
                _check(item, items, root, f"{path}[{i}]", errors, depth + 1)
        if isinstance(schema.get("minItems"), int) and len(value) < schema["minItems"]:
            errors.append(f"{path}: needs at least {schema['minItems']} items")
        if isinstance(schema.get("maxItems"), int) and len(value) > schema["maxItems"]:
            errors.append(f"{path}: allows at most {schema['maxItems']} items")
    elif _json_type(value) in ("integer", "number"):
        if isinstance(schema.get("minimum"), (int, float)) and value < schema["minimum"]:
            errors.append(f"{path}: must be >= {schema['minimum']}")
        if isinstance(schema.get("maximum"), (int, float)) and value > schema["maximum"]:
            errors.append(f"{path}: must be <= {schema['maximum']}")


# ------------------------------------------------------------------ parse, else repair once


@dataclass(frozen=True)
class Repair:
    """The one repair round trip: the reply that failed and the follow-up user message.

    An adapter sends its original messages, then a model turn holding ``raw_text``,
    then a user turn holding ``prompt``.
    """

    raw_text: str
    prompt: str


def _repair(error: StructuredOutputError, schema: Mapping[str, Any] | None) -> Repair:
    return Repair(error.raw_text, repair_prompt(error.raw_text, error.reason, schema or {}))


def run_repairing(
    send: Callable[[Repair | None], _R],
    parse: Callable[[_R], _T],
    schema: Mapping[str, Any] | None,
) -> _T:
    """The structured-output flow every caller shares: send, parse, else repair once.

    ``send(None)`` sends the original request, ``send(repair)`` the repair round trip;
    ``parse`` raises :class:`StructuredOutputError` for a reply to repair (any other
    exception, such as a refusal, passes straight through).

    >>> replies = iter(["no JSON here", '{"a": 1}'])
    >>> run_repairing(lambda repair: next(replies), extract_json, {"type": "object"})
    {'a': 1}
    """
    reply = send(None)
    try:
        return parse(reply)
    except StructuredOutputError as exc:
        repair = _repair(exc, schema)
    return parse(send(repair))


async def arun_repairing(
    send: Callable[[Repair | None], Awaitable[_R]],
    parse: Callable[[_R], _T],
    schema: Mapping[str, Any] | None,
) -> _T:
    """The async form of :func:`run_repairing`."""
    reply = await send(None)
    try:
        return parse(reply)
    except StructuredOutputError as exc:
        repair = _repair(exc, schema)
    return parse(await send(repair))


def with_repair_turns(request: Mapping[str, Any], repair: Repair | None) -> dict[str, Any]:
    """A Gemini request followed by the repair turns (``request`` itself for ``None``)."""
    if repair is None:
        return dict(request)
    return {
        **request,
        "contents": [
            *request["contents"],
            {"role": "model", "parts": [{"text": repair.raw_text or " "}]},
            {"role": "user", "parts": [{"text": repair.prompt}]},
        ],
    }

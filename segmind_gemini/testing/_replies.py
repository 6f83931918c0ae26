"""Request validation and reply bodies for the Segmind emulator (no server code here).

Everything in this module is pure: it turns request bytes into a :class:`RequestSummary`
(or a :class:`RequestInvalid` naming the problem) and builds the answers the emulator
sends. Keeping it free of aiohttp lets the rules be read and tested on their own.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from segmind_gemini.media.mime import SUPPORTED_MIME_TYPES as _MIME_TABLE
from segmind_gemini.wire.encoding import MAX_REQUEST_BYTES
from segmind_gemini.wire.request import PART_KEYS

__all__ = [
    "MAX_REQUEST_BYTES",
    "SUPPORTED_MIME_TYPES",
    "FieldPolicy",
    "GatewayBehaviour",
    "Outcome",
    "ReplyContext",
    "RequestInvalid",
    "RequestSummary",
    "Scripted",
    "describe",
    "parse_request",
]

#: MIME types Gemini accepts for ``inlineData`` (no image/jpg, no GIF): the same fact
#: table the client checks against, so the two cannot drift apart.
SUPPORTED_MIME_TYPES: frozenset[str] = frozenset(_MIME_TABLE)

#: Flat token estimate per media part (Gemini bills a small image as 258 tokens).
MEDIA_TOKENS = 258

_PART_KEYS = PART_KEYS

SAFETY_RATINGS: list[dict[str, str]] = [
    {"category": category, "probability": "NEGLIGIBLE"}
    for category in (
        "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_DANGEROUS_CONTENT",
        "HARM_CATEGORY_HARASSMENT",
        "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    )
]


class RequestInvalid(Exception):
    """The request body breaks a Segmind or Gemini rule; ``str()`` says which and where."""


class UnknownName(RequestInvalid):
    """A field Gemini does not know; answered in Google's error shape, as Gemini does."""


@dataclass
class RequestSummary:
    """What a valid request contained, for the default reply and the token estimate."""

    text_parts: int = 0
    text_chars: int = 0
    media: list[tuple[str, int]] = field(default_factory=list)
    file_parts: int = 0
    function_calls: int = 0
    function_responses: int = 0
    other_chars: int = 0
    system_chars: int | None = None
    system_text: str = ""
    tool_names: list[str] = field(default_factory=list)
    tool_schemas: dict[str, Any] = field(default_factory=dict)
    tool_mode: str | None = None
    allowed_tools: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def forced_tool(self) -> str | None:
        """The tool a ``toolConfig`` in mode ANY forces (the first allowed one), if any."""
        if (self.tool_mode or "").upper() != "ANY" or not self.tool_names:
            return None
        allowed = [name for name in self.allowed_tools if name in self.tool_names]
        return allowed[0] if allowed else self.tool_names[0]

    @property
    def candidate_count(self) -> int:
        """``generationConfig.candidateCount`` (validated by :func:`parse_request`), else 1."""
        count = _get(self.config, "candidateCount", "candidate_count")
        return count if isinstance(count, int) else 1

    @property
    def prompt_tokens(self) -> int:
        """Deterministic estimate: ceil(chars / 4) for text, 258 per media or file part."""
        chars = self.text_chars + self.other_chars + (self.system_chars or 0)
        return math.ceil(chars / 4) + MEDIA_TOKENS * (len(self.media) + self.file_parts)


def _get(obj: Mapping[str, Any], camel: str, snake: str) -> Any:
    return obj[camel] if camel in obj else obj.get(snake)


def _decode_base64(data: str) -> bytes:
    # Google's JSON mapping of bytes accepts standard and URL-safe alphabets, padded or not.
    padded = data + "=" * (-len(data) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return base64.b64decode(padded, altchars=b"-_", validate=True)


def _check_part(part: Any, where: str, summary: RequestSummary, *, system: bool) -> None:
    if not isinstance(part, dict):
        raise RequestInvalid(f"{where} must be an object, got {type(part).__name__}")
    if not any(key in part for key in _PART_KEYS):
        raise RequestInvalid(
            f"{where} has none of text, inlineData, functionCall, functionResponse, fileData "
            "(snake_case names are accepted too)"
        )
    if "text" in part:
        text = part["text"]
        if not isinstance(text, str):
            raise RequestInvalid(f"{where}.text must be a string, got {type(text).__name__}")
        if system:
            summary.system_chars = (summary.system_chars or 0) + len(text)
            summary.system_text += text
        else:
            summary.text_parts += 1
            summary.text_chars += len(text)
    inline = _get(part, "inlineData", "inline_data")
    if inline is not None:
        _check_inline(inline, f"{where}.inlineData", summary)
    file_data = _get(part, "fileData", "file_data")
    if file_data is not None:
        if not isinstance(file_data, dict) or not _get(file_data, "fileUri", "file_uri"):
            raise RequestInvalid(f"{where}.fileData must be an object with a fileUri")
        summary.file_parts += 1
    call = _get(part, "functionCall", "function_call")
    if call is not None:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise RequestInvalid(f"{where}.functionCall must be an object with a string name")
        summary.function_calls += 1
        summary.other_chars += len(json.dumps(call))
    result = _get(part, "functionResponse", "function_response")
    if result is not None:
        if not isinstance(result, dict) or not isinstance(result.get("name"), str):
            raise RequestInvalid(f"{where}.functionResponse must be an object with a string name")
        summary.function_responses += 1
        summary.other_chars += len(json.dumps(result))


def _check_inline(inline: Any, where: str, summary: RequestSummary) -> None:
    if not isinstance(inline, dict):
        raise RequestInvalid(f"{where} must be an object with mimeType and data")
    mime = _get(inline, "mimeType", "mime_type")
    if not isinstance(mime, str) or not mime:
        raise RequestInvalid(f"{where}.mimeType is missing")
    if mime.split(";")[0].strip().lower() not in SUPPORTED_MIME_TYPES:
        raise RequestInvalid(
            f"{where}.mimeType {mime!r} is not supported by Gemini; supported types: "
            + ", ".join(sorted(SUPPORTED_MIME_TYPES))
        )
    data = inline.get("data")
    if not isinstance(data, str):
        raise RequestInvalid(f"{where}.data must be a base64 string")
    try:
        raw = _decode_base64(data)
    except (binascii.Error, ValueError):
        raise RequestInvalid(f"{where}.data is not valid base64") from None
    summary.media.append((mime, len(raw)))


def _check_parts(parts: Any, where: str, summary: RequestSummary, *, system: bool) -> None:
    if parts is None:
        raise RequestInvalid(f"{where} is missing")
    if system and isinstance(parts, dict):
        # Segmind documents system_instruction.parts as a single object.
        parts = [parts]
    if not isinstance(parts, list):
        raise RequestInvalid(f"{where} must be a list of parts")
    if not parts:
        raise RequestInvalid(f"{where} is empty")
    for index, part in enumerate(parts):
        _check_part(part, f"{where}[{index}]", summary, system=system)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _both_spellings(*names: str) -> frozenset[str]:
    return frozenset(names) | {_snake(name) for name in names}


# GenerateContentRequest and GenerationConfig fields (Gemini API and Vertex AI): Gemini
# refuses any other name with 400 "Unknown name", so a misspelt setting is not lost.
_REQUEST_FIELDS = _both_spellings(
    "model",
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
    "labels",
    "modelArmorConfig",
)
_CONFIG_FIELDS = _both_spellings(
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "_responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
    "routingConfig",
    "audioTimestamp",
)


# The scalar GenerationConfig fields by their proto type: Gemini answers a value of the
# wrong type with 400 "Invalid value at 'generation_config.<field>' (TYPE_...)".
_CONFIG_TYPES: dict[str, str] = {
    "temperature": "TYPE_FLOAT",
    "topP": "TYPE_FLOAT",
    "topK": "TYPE_INT32",
    "maxOutputTokens": "TYPE_INT32",
    "candidateCount": "TYPE_INT32",
    "seed": "TYPE_INT32",
    "presencePenalty": "TYPE_FLOAT",
    "frequencyPenalty": "TYPE_FLOAT",
    "logprobs": "TYPE_INT32",
    "responseLogprobs": "TYPE_BOOL",
    "responseMimeType": "TYPE_STRING",
    "stopSequences": "TYPE_STRING",  # repeated
}


def _fits(value: Any, proto: str) -> bool:
    if proto == "TYPE_BOOL":
        return isinstance(value, bool)
    if proto == "TYPE_STRING":
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return proto == "TYPE_FLOAT" or float(value).is_integer()


def _check_config_types(config: Mapping[str, Any]) -> None:
    for name, value in config.items():
        camel = _camel(name)
        proto = _CONFIG_TYPES.get(camel)
        if proto is None:
            continue
        values = value if camel == "stopSequences" and isinstance(value, list) else [value]
        for item in values:
            if not _fits(item, proto):
                raise RequestInvalid(
                    f"Invalid value at 'generation_config.{_snake(camel)}' ({proto}), "
                    f"{json.dumps(item)[:80]}"
                )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _no_constants(token: str) -> Any:
    # NaN and Infinity are not JSON; Gemini's parser stops at them.
    raise ValueError(f"Invalid JSON payload received. Unexpected token: {token}")


def _refuse_unknown_names(fields: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    for name in fields:
        if name not in known:
            at = f" at '{where}'" if where else ""
            raise UnknownName(
                f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.'
            )


def parse_request(body: bytes) -> tuple[dict[str, Any], RequestSummary]:
    """Validate a Segmind request body; return it parsed with a summary of its parts.

    Raises:
        RequestInvalid: with a message that names the problem and its place, for example
            ``messages.contents[2].parts is empty``.
    """
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RequestInvalid(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise RequestInvalid("request body nests JSON too deeply to parse") from None
    if not isinstance(data, dict) or "messages" not in data:
        raise RequestInvalid(
            'request body must be a JSON object with a "messages" field holding the Gemini request'
        )
    messages = data["messages"]
    if not isinstance(messages, dict):
        raise RequestInvalid("messages must be an object (a Gemini generateContent request)")
    _refuse_unknown_names(messages, _REQUEST_FIELDS, "")
    summary = RequestSummary()
    contents = messages.get("contents")
    if not isinstance(contents, list) or not contents:
        raise RequestInvalid("messages.contents must be a non-empty list")
    for index, content in enumerate(contents):
        where = f"messages.contents[{index}]"
        if not isinstance(content, dict):
            raise RequestInvalid(f"{where} must be an object with role and parts")
        role = content.get("role", "user")
        if role not in ("user", "model"):
            raise RequestInvalid(f'{where}.role is {role!r}; Gemini accepts only "user" or "model"')
        _check_parts(content.get("parts"), f"{where}.parts", summary, system=False)
    system = _get(messages, "systemInstruction", "system_instruction")
    if system is not None:
        if not isinstance(system, dict):
            raise RequestInvalid("messages.system_instruction must be an object with parts")
        _check_parts(system.get("parts"), "messages.system_instruction.parts", summary, system=True)
    config = _get(messages, "generationConfig", "generation_config")
    if config is not None and not isinstance(config, dict):
        raise RequestInvalid("messages.generationConfig must be an object")
    _refuse_unknown_names(config or {}, _CONFIG_FIELDS, "generation_config")
    summary.config = dict(config or {})
    count = _get(summary.config, "candidateCount", "candidate_count")
    if count is not None and (
        isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 8
    ):
        raise RequestInvalid(
            f"messages.generationConfig.candidateCount must be an integer from 1 to 8, "
            f"got {count!r}"
        )
    _check_config_types(summary.config)
    tool_config = _get(messages, "toolConfig", "tool_config")
    calling = (
        _get(tool_config, "functionCallingConfig", "function_calling_config")
        if isinstance(tool_config, dict)
        else None
    )
    if isinstance(calling, dict):
        mode = calling.get("mode")
        summary.tool_mode = mode if isinstance(mode, str) else None
        allowed = _get(calling, "allowedFunctionNames", "allowed_function_names")
        if isinstance(allowed, list):
            summary.allowed_tools = [name for name in allowed if isinstance(name, str)]
    tools = messages.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise RequestInvalid("messages.tools must be a list")
        for index, tool in enumerate(tools):
            decls = (
                _get(tool, "functionDeclarations", "function_declarations")
                if isinstance(tool, dict)
                else None
            )
            for decl in decls or []:
                if not isinstance(decl, dict) or not isinstance(decl.get("name"), str):
                    raise RequestInvalid(
                        f"messages.tools[{index}].functionDeclarations needs a name on each entry"
                    )
                summary.tool_names.append(decl["name"])
                summary.tool_schemas[decl["name"]] = decl.get("parameters") or {}
    return data, summary


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _size(num_bytes: int) -> str:
    if num_bytes < 1024:
        return f"{num_bytes} B"
    if num_bytes < 1024 * 1024:
        return f"{num_bytes / 1024:.1f} KB"
    return f"{num_bytes / (1024 * 1024):.1f} MB"


def describe(summary: RequestSummary) -> str:
    """The default reply text; the wording is stable and tests may match it exactly.

    Format: ``emulated reply: <items>[; system instruction of <n> chars][; tools declared:
    <a>, <b>]``. Items, joined by ``", "``: ``<n> text part(s)`` when there are any, then
    each inline media part in request order as ``1 <mime> part of <size>`` (size of the
    decoded bytes: ``512 B``, ``2.1 KB``, ``3.4 MB``; 1 KB = 1024 B), then ``<n> fileData
    part(s)``, ``<n> functionCall part(s)``, ``<n> functionResponse part(s)`` when non-zero.
    Counts cover all contents. Example: ``emulated reply: 1 text part, 1 image/png part of
    2.1 KB``.
    """
    items: list[str] = []
    if summary.text_parts:
        items.append(_plural(summary.text_parts, "text part"))
    items.extend(f"1 {mime} part of {_size(size)}" for mime, size in summary.media)
    for count, noun in (
        (summary.file_parts, "fileData part"),
        (summary.function_calls, "functionCall part"),
        (summary.function_responses, "functionResponse part"),
    ):
        if count:
            items.append(_plural(count, noun))
    text = "emulated reply: " + ", ".join(items)
    if summary.system_chars is not None:
        text += f"; system instruction of {summary.system_chars} chars"
    if summary.tool_names:
        text += "; tools declared: " + ", ".join(summary.tool_names)
    return text


@dataclass(frozen=True)
class ReplyContext:
    """What a scripted reply may depend on: the request, the model slug and a response id."""

    summary: RequestSummary
    slug: str
    response_id: str


@dataclass(frozen=True)
class Outcome:
    """An HTTP answer: status, body bytes and extra headers (Segmind headers come later)."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error_message(self) -> str:
        """The message a FAILED queue job reports for this answer."""
        try:
            data = json.loads(self.body)
        except (UnicodeDecodeError, ValueError):
            return self.body.decode("utf-8", "replace")[:500] or f"HTTP {self.status}"
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        return json.dumps(data)[:500]


Action = Literal["answer", "reset", "truncated", "drip"]


@dataclass(frozen=True)
class Scripted:
    """One queued outcome.

    ``exchange`` marks gateway-level faults: on the v2 queue they hit the submit call
    itself instead of becoming the job's result.
    """

    label: str
    build: Callable[[ReplyContext], Outcome]
    delay: float = 0.0
    action: Action = "answer"
    exchange: bool = False


def json_outcome(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Outcome:
    return Outcome(status, json.dumps(body).encode(), dict(headers or {}))


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def gemini_body(
    ctx: ReplyContext,
    parts: Sequence[Mapping[str, Any]],
    *,
    finish_reason: str = "STOP",
    usage: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Gemini generateContent response holding ``parts`` in each candidate.

    As many candidates as the request's ``candidateCount`` asked for (one by default).
    """
    count = ctx.summary.candidate_count
    if usage is None:
        answer = thoughts = 0
        for part in parts:
            text = part.get("text")
            if isinstance(text, str):
                if part.get("thought"):
                    thoughts += _tokens(text)
                else:
                    answer += _tokens(text)
            elif "functionCall" in part:
                answer += _tokens(json.dumps(part["functionCall"]))
        prompt = ctx.summary.prompt_tokens
        answer *= count
        computed: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": answer}
        if thoughts:
            computed["thoughtsTokenCount"] = thoughts
        computed["totalTokenCount"] = prompt + answer + thoughts
        usage = computed
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [dict(part) for part in parts]},
                "finishReason": finish_reason,
                "index": index,
                "safetyRatings": [dict(rating) for rating in SAFETY_RATINGS],
            }
            for index in range(count)
        ],
        "usageMetadata": dict(usage),
        "modelVersion": ctx.slug,
        "responseId": ctx.response_id,
    }


# Deeper than any schema a model is given; recursion ($ref cycles) is cut where it repeats.
_MAX_DEPTH = 64
# Values for the string formats a schema may name, each valid for its format.
_FORMATS = {
    "uuid": "00000000-0000-4000-8000-000000000000",
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00",
    "duration": "PT0S",
    "email": "emulated@example.com",
    "uri": "https://example.com/emulated",
    "url": "https://example.com/emulated",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}
# segmind_gemini.tools.native moves a non-string enum, which Gemini cannot declare, into
# the description as "Allowed values: 1, 2."; honour it as the model would.
_ALLOWED = re.compile(r"Allowed values: (.+?)\.(?:\s|$)")


def example_value(schema: Any, name: str = "value", *, root: Any = None, depth: int = 0) -> Any:
    """A JSON value valid for ``schema`` (JSON Schema or Gemini's OpenAPI subset).

    Strings say they are emulated (``"emulated name"``) unless a ``format`` (uuid,
    date-time, date, email, uri, ...) asks for more; numbers are 0 when their bounds
    allow it, else the nearest bound; arrays hold ``minItems`` items (at least one);
    objects hold every declared property. Understood: ``$ref`` into ``$defs`` /
    ``definitions`` (a recursive one is cut at its first repeat: only required
    properties, ``minItems`` items, the null branch), ``anyOf``/``oneOf`` (the first
    branch that is not null), ``allOf``, ``enum`` of any type, ``const``, ``nullable``.
    It is an example of the right shape, not an answer.

    >>> example_value({"type": "object", "properties": {"city": {"type": "string"},
    ...     "days": {"type": "integer", "minimum": 1}}, "required": ["city"]})
    {'city': 'emulated city', 'days': 1}
    """
    root = schema if root is None else root
    return _example(schema, name, root, depth, frozenset(), lean=False)


def _example(
    schema: Any, name: str, root: Any, depth: int, refs: frozenset[str], *, lean: bool
) -> Any:
    if not isinstance(schema, Mapping) or depth > 2 * _MAX_DEPTH:
        return f"emulated {name}"
    lean = lean or depth > _MAX_DEPTH

    def sub(value: Any, key: str = name, seen: frozenset[str] = refs, thin: bool = lean) -> Any:
        return _example(value, key, root, depth + 1, seen, lean=thin)

    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#") and isinstance(root, Mapping):
        target: Any = root
        for key in ref[2:].split("/") if ref != "#" else []:
            target = target.get(key) if isinstance(target, Mapping) else None
        return sub(target, seen=refs | {ref}, thin=lean or ref in refs)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            nulls = [o for o in options if isinstance(o, Mapping) and _kind(o) == "null"]
            if lean and nulls:
                return None
            typed = [o for o in options if o not in nulls]
            return sub((typed or options)[0])
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, Mapping):
                merged.update(part)
        merged.update({k: v for k, v in schema.items() if k != "allOf"})
        return sub(merged)
    if lean and schema.get("nullable") is True:
        return None
    description = schema.get("description")
    allowed = _ALLOWED.search(description) if isinstance(description, str) else None
    if allowed is not None:
        with contextlib.suppress(ValueError):
            return json.loads(f"[{allowed[1]}]")[0]
    return _typed_example(schema, name, sub, lean=lean)


def _typed_example(
    schema: Mapping[str, Any], name: str, sub: Callable[..., Any], *, lean: bool
) -> Any:
    kind = _kind(schema)
    if kind == "object":
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required = schema.get("required")
        keep = set(required) if lean and isinstance(required, list) else set(props)
        return {key: sub(value, key) for key, value in props.items() if key in keep}
    if kind == "array":
        least = schema.get("minItems")
        least = least if isinstance(least, int) and not isinstance(least, bool) else 0
        count = least if lean else max(least, 1)
        return [sub(schema.get("items"))] * count
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    text = _FORMATS.get(str(schema.get("format", "")).lower(), f"emulated {name}")
    longest = schema.get("maxLength")
    if isinstance(longest, int) and not isinstance(longest, bool) and len(text) > longest:
        text = text[:longest]
    return text


def _number(schema: Mapping[str, Any], kind: str) -> int | float:
    def bound(key: str) -> float | None:
        value = schema.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return None

    low, above = bound("minimum"), bound("exclusiveMinimum")
    high, below = bound("maximum"), bound("exclusiveMaximum")
    # Zero when the bounds allow it, else the nearest bound (one past an exclusive one).
    value = 0.0
    lower = max((v for v in (low, above) if v is not None), default=None)
    upper = min((v for v in (high, below) if v is not None), default=None)
    if lower is not None and (value < lower or (above is not None and value <= above)):
        value = lower + (1 if above is not None and lower == above else 0)
    elif upper is not None and (value > upper or (below is not None and value >= below)):
        value = upper - (1 if below is not None and upper == below else 0)
    if kind == "integer":
        return math.ceil(value)
    return value


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        named = [str(k).lower() for k in kind if str(k).lower() != "null"]
        return named[0] if named else "null"
    if isinstance(kind, str):
        return kind.lower()
    if "properties" in schema:
        return "object"
    return "array" if "items" in schema else "string"


def _forced_call(summary: RequestSummary, name: str) -> dict[str, Any]:
    schema = summary.tool_schemas.get(name) or {"type": "object"}
    return {"functionCall": {"name": name, "args": example_value(schema, root=schema)}}


# The structured-output and prompted-tool instructions of segmind_gemini.planning.structured and
# segmind_gemini.tools, recognised in the system instruction so an unscripted answer
# takes the shape the client asked for.
_SCHEMA_MARK = "Answer with ONLY a JSON value that matches this JSON Schema"
# langchain_segmind_gemini's JSON_ONLY_INSTRUCTION (``method="json_mode"``).
_JSON_ONLY_MARK = "Answer with ONLY a valid JSON value"
_MUST_CALL = re.compile(r'In this reply you MUST call (?:the tool "(?P<name>[^"]+)"|at least one)')
_TOOL_HEAD = re.compile(r"^## (?P<name>.+)$", re.MULTILINE)
_ARGS = "Arguments schema: "


def _json_after(text: str, marker: str) -> Any:
    start = text.find(marker)
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start + len(marker))
    except ValueError:
        return None
    return value


def _prompted_schema(system: str) -> Any:
    if _SCHEMA_MARK not in system:
        return None
    return _json_after(system[system.index(_SCHEMA_MARK) :], "JSON Schema: ")


def _prompted_forced_call(system: str) -> str | None:
    """``{"tool_calls": [...]}`` text for a prompted instruction that demands a call."""
    must = _MUST_CALL.search(system)
    if must is None:
        return None
    heads = list(_TOOL_HEAD.finditer(system))
    name = must["name"] or next((h["name"] for h in heads), None)
    if name is None:
        return None
    schema: Any = {"type": "object"}
    for head in heads:
        if head["name"] == name:
            found = _json_after(system[head.end() :].split("\n## ", 1)[0], _ARGS)
            schema = found if isinstance(found, dict) else schema
    args = example_value(schema, root=schema)
    return json.dumps({"tool_calls": [{"name": name, "arguments": args}]})


def default_outcome(ctx: ReplyContext) -> Outcome:
    """The deterministic answer sent when nothing is queued.

    It is type-correct for what the request asked, so code that expects a shape gets
    one, and otherwise describes the request (:func:`describe`), with the generation
    settings that reached it applied the way Gemini documents them:

    - ``thinkingConfig.includeThoughts`` adds one thought part saying the emulator does
      not think;
    - a ``toolConfig`` in mode ANY gets a ``functionCall`` to the forced tool, and the
      prompted protocol's "you MUST call" instruction gets its ``{"tool_calls": [...]}``
      JSON, both with arguments made by :func:`example_value` from the tool's schema;
    - ``responseSchema`` / ``responseJsonSchema``, or the structured-output instruction
      of :func:`segmind_gemini.planning.structured.schema_instruction`, gets a JSON value made
      from that schema (its strings say they are emulated);
    - otherwise ``responseMimeType: application/json``, or the JSON-only instruction of
      ``with_structured_output(method="json_mode")``, wraps the description as
      ``{"emulated_reply": ...}``;
    - ``stopSequences`` cut the text before the first match, and ``maxOutputTokens``
      cuts it (4 characters a token) with finish reason ``MAX_TOKENS``.
    """
    summary, config = ctx.summary, ctx.summary.config
    parts: list[dict[str, Any]] = []
    thinking = _get(config, "thinkingConfig", "thinking_config")
    if isinstance(thinking, dict) and _get(thinking, "includeThoughts", "include_thoughts"):
        parts.append({"text": "emulated thought: the emulator does not think", "thought": True})
    forced = summary.forced_tool
    if forced is not None:
        return json_outcome(gemini_body(ctx, [*parts, _forced_call(summary, forced)]))
    schema = _get(config, "responseJsonSchema", "response_json_schema")
    if schema is None:
        schema = _get(config, "responseSchema", "response_schema")
    if schema is None:
        schema = _prompted_schema(summary.system_text)
    prompted_call = _prompted_forced_call(summary.system_text)
    if prompted_call is not None:
        text = prompted_call
    elif isinstance(schema, dict):
        text = json.dumps(example_value(schema, root=schema))
    elif (
        _get(config, "responseMimeType", "response_mime_type") == "application/json"
        or _JSON_ONLY_MARK in summary.system_text
    ):
        text = json.dumps({"emulated_reply": describe(summary)})
    else:
        text = describe(summary)
    stops = _get(config, "stopSequences", "stop_sequences")
    for stop in stops if isinstance(stops, list) else []:
        if isinstance(stop, str) and stop and stop in text:
            text = text[: text.index(stop)]
    finish = "STOP"
    limit = _get(config, "maxOutputTokens", "max_output_tokens")
    if isinstance(limit, int) and limit >= 0 and _tokens(text) > limit:
        text, finish = text[: limit * 4], "MAX_TOKENS"
    if text:
        parts.append({"text": text})
    return json_outcome(gemini_body(ctx, parts, finish_reason=finish))


FieldPolicy = Literal["apply", "ignore", "reject"]
_POLICIES = ("apply", "ignore", "reject")
# Where each optional Gemini field sits in ``messages`` (camelCase and snake_case).
_FIELDS: dict[str, tuple[str, ...]] = {
    "tools": ("tools", "toolConfig", "tool_config"),
    "generation_config": ("generationConfig", "generation_config"),
    "safety_settings": ("safetySettings", "safety_settings"),
}
_THINKING = ("thinkingConfig", "thinking_config")
_HARM_CATEGORIES = frozenset(
    {
        "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_DANGEROUS_CONTENT",
        "HARM_CATEGORY_HARASSMENT",
        "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_CIVIC_INTEGRITY",
    }
)
_THRESHOLDS = frozenset(
    {
        "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
        "BLOCK_LOW_AND_ABOVE",
        "BLOCK_MEDIUM_AND_ABOVE",
        "BLOCK_ONLY_HIGH",
        "BLOCK_NONE",
        "OFF",
    }
)


def google_400(message: str) -> Outcome:
    return json_outcome(
        {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}, status=400
    )


@dataclass(frozen=True)
class GatewayBehaviour:
    """What the emulated gateway does with each optional Gemini field of ``messages``.

    ``"apply"`` forwards it (the default answer then honours it, see
    :func:`default_outcome`; safety settings are checked against Gemini's enums as
    Gemini would), ``"ignore"`` drops it silently before the model sees it, and
    ``"reject"`` answers 400 naming the field. ``thinking`` is ``thinkingConfig``
    inside ``generationConfig``.
    """

    tools: FieldPolicy = "apply"
    generation_config: FieldPolicy = "apply"
    safety_settings: FieldPolicy = "apply"
    thinking: FieldPolicy = "apply"

    def __post_init__(self) -> None:
        for name in ("tools", "generation_config", "safety_settings", "thinking"):
            value = getattr(self, name)
            if value not in _POLICIES:
                raise ValueError(f"{name} must be one of {', '.join(_POLICIES)}; got {value!r}")

    def screen(self, messages: Mapping[str, Any]) -> dict[str, Any] | Outcome:
        """``messages`` as the model would receive them, or the gateway's refusal."""
        out = dict(messages)
        for name, keys in _FIELDS.items():
            policy = getattr(self, name)
            present = [key for key in keys if key in out]
            if present and policy == "reject":
                return json_outcome(
                    {"error": f"Unsupported field {present[0]!r} in messages"}, status=400
                )
            if policy == "ignore":
                for key in present:
                    del out[key]
        config_key = next((k for k in _FIELDS["generation_config"] if k in out), None)
        config = out.get(config_key) if config_key else None
        if isinstance(config, dict) and any(key in config for key in _THINKING):
            if self.thinking == "reject":
                return google_400(
                    'Invalid JSON payload received. Unknown name "thinkingConfig" at '
                    "'generation_config': Cannot find field."
                )
            if self.thinking == "ignore" and config_key is not None:
                out[config_key] = {k: v for k, v in config.items() if k not in _THINKING}
        safety = _get(out, "safetySettings", "safety_settings")
        for index, setting in enumerate(safety if isinstance(safety, list) else []):
            category = setting.get("category") if isinstance(setting, dict) else None
            threshold = setting.get("threshold") if isinstance(setting, dict) else None
            if category not in _HARM_CATEGORIES:
                return google_400(
                    f"Invalid value at 'safety_settings[{index}].category': {category!r}"
                )
            if threshold not in _THRESHOLDS:
                return google_400(
                    f"Invalid value at 'safety_settings[{index}].threshold': {threshold!r}"
                )
        return out


HTML_405 = (
    b"<html>\r\n<head><title>405 Not Allowed</title></head>\r\n<body>\r\n"
    b"<center><h1>405 Not Allowed</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

"""Every Gemini request setting by name, built into the request body in one place.

:data:`SETTINGS` is the single source: one :class:`Setting` row per setting (name,
Gemini name, where it goes, type, range, one-line doc). Adding a setting is adding a
row; the adapters keep typed fields for editors and docs, and
``tests/test_planning.py`` fails, naming the adapter, while either does not take
and send a row (constructor and per call).

Both adapters accept the same named settings (in the constructor and per call)
and hand them here; each one that is set lands in the body under Gemini's own
name, and nothing that is not set is sent::

    >>> settings_fields({"temperature": 0.2, "thinking_level": "low", "labels": {"team": "a"}})
    {'generationConfig': {'temperature': 0.2, 'thinkingConfig': {'thinkingLevel': 'LOW'}},
     'labels': {'team': 'a'}}

Two escape hatches reach everything else: ``generation_config`` (a dict merged
into ``generationConfig``) and ``model_kwargs`` (a dict merged into the request
body). :func:`layered_settings` applies the layers in a fixed order, so a conflict
always resolves the same way: **per call beats the constructor, and within one
level a raw dict entry beats the named field** (``generation_config`` after the
named settings, ``model_kwargs`` last). Dicts are merged key by key, recursively.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from segmind_gemini.errors import InvalidRequestError

__all__ = [
    "BODY_SETTINGS",
    "ESCAPE_HATCHES",
    "SETTINGS",
    "SETTING_ALIASES",
    "SETTING_NAMES",
    "Setting",
    "check_value",
    "deep_merge",
    "layered_settings",
    "normalize_media_resolution",
    "part_media_resolution",
    "safety_settings_list",
    "settings_fields",
    "settings_of",
]

_INT32 = 2**31 - 1


@dataclass(frozen=True)
class Setting:
    """One Gemini request setting: the single source both adapters are checked against.

    ``place`` says where it lands: ``"config"`` (``generationConfig``), ``"thinking"``
    (``generationConfig.thinkingConfig``) or ``"body"`` (top level). ``kind`` is the
    value's type (``float``, ``int``, ``bool``, ``str``, ``list``, ``dict``, or
    ``object`` for values a converter checks); numbers must be finite and inside
    ``minimum``..``maximum``.
    """

    name: str
    wire: str
    place: Literal["config", "thinking", "body"]
    kind: type
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    sample: Any = None
    """A valid value, for the tests that check every adapter sends every setting."""


#: Every named setting, in the order the README lists them.
SETTINGS: tuple[Setting, ...] = (
    Setting("temperature", "temperature", "config", float, "Sampling temperature.", 0, 2, 0.3),
    Setting(
        "max_output_tokens",
        "maxOutputTokens",
        "config",
        int,
        "Most tokens to generate.",
        1,
        _INT32,
        64,
    ),
    Setting("top_p", "topP", "config", float, "Nucleus sampling probability.", 0, 1, 0.9),
    Setting("top_k", "topK", "config", int, "Top-k sampling.", 1, _INT32, 7),
    Setting("stop_sequences", "stopSequences", "config", list, "Stop sequences.", sample=["END"]),
    Setting("seed", "seed", "config", int, "Sampling seed.", -_INT32 - 1, _INT32, 11),
    Setting("candidate_count", "candidateCount", "config", int, "Answers per call.", 1, 8, 2),
    Setting(
        "presence_penalty", "presencePenalty", "config", float, "Presence penalty.", -2, 2, 0.5
    ),
    Setting(
        "frequency_penalty", "frequencyPenalty", "config", float, "Frequency penalty.", -2, 2, 0.5
    ),
    Setting(
        "response_mime_type",
        "responseMimeType",
        "config",
        str,
        "Answer type, e.g. application/json.",
        sample="application/json",
    ),
    Setting(
        "response_schema",
        "responseSchema",
        "config",
        object,
        "Answer schema (Gemini's OpenAPI subset).",
        sample={"type": "object"},
    ),
    Setting(
        "response_json_schema",
        "responseJsonSchema",
        "config",
        object,
        "Answer schema (plain JSON Schema).",
        sample={"type": "object"},
    ),
    Setting(
        "response_logprobs",
        "responseLogprobs",
        "config",
        bool,
        "Return the chosen tokens' log probabilities.",
        sample=True,
    ),
    Setting("logprobs", "logprobs", "config", int, "Top candidates per token.", 0, 20, 3),
    Setting(
        "media_resolution",
        "mediaResolution",
        "config",
        str,
        "low, medium, high or ultra_high.",
        sample="MEDIA_RESOLUTION_LOW",
    ),
    Setting(
        "response_modalities",
        "responseModalities",
        "config",
        list,
        "e.g. ['TEXT', 'IMAGE'].",
        sample=["TEXT"],
    ),
    Setting(
        "image_config",
        "imageConfig",
        "config",
        dict,
        "Image output options (aspectRatio, imageSize).",
        sample={"aspectRatio": "16:9"},
    ),
    Setting(
        "thinking_budget",
        "thinkingBudget",
        "thinking",
        int,
        "Thinking tokens (0 off, -1 dynamic).",
        -1,
        _INT32,
        128,
    ),
    Setting(
        "include_thoughts",
        "includeThoughts",
        "thinking",
        bool,
        "Return the model's thoughts.",
        sample=True,
    ),
    Setting(
        "thinking_level",
        "thinkingLevel",
        "thinking",
        str,
        "minimal, low, medium or high (Gemini 3).",
        sample="HIGH",
    ),
    Setting(
        "safety_settings",
        "safetySettings",
        "body",
        object,
        "[{category, threshold}] or {category: threshold}.",
        sample=[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}],
    ),
    Setting(
        "cached_content",
        "cachedContent",
        "body",
        str,
        "A context cache name, cachedContents/...",
        sample="cachedContents/abc",
    ),
    Setting("labels", "labels", "body", dict, "Billing labels (Vertex AI).", sample={"team": "a"}),
)
_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}

_CONFIG_KEYS: dict[str, str] = {s.name: s.wire for s in SETTINGS if s.place == "config"}
_THINKING_KEYS: dict[str, str] = {s.name: s.wire for s in SETTINGS if s.place == "thinking"}
#: Settings that are top-level fields of the request body, with their Gemini names.
BODY_SETTINGS: dict[str, str] = {s.name: s.wire for s in SETTINGS if s.place == "body"}
#: Every named setting, by its canonical (Gemini SDK) name.
SETTING_NAMES: tuple[str, ...] = tuple(_BY_NAME)
#: Other names the frameworks use for the same settings.
SETTING_ALIASES: dict[str, str] = {
    "max_tokens": "max_output_tokens",
    "stop": "stop_sequences",
    "n": "candidate_count",
}
_KNOWN = frozenset(SETTING_NAMES)
_FIELD_ALIASES = {canonical: alias for alias, canonical in SETTING_ALIASES.items()}
#: The raw-dict settings: merged into ``generationConfig`` / the request body.
ESCAPE_HATCHES: tuple[str, ...] = ("generation_config", "model_kwargs")

_MEDIA_RESOLUTIONS = ("LOW", "MEDIUM", "HIGH", "ULTRA_HIGH", "UNSPECIFIED")
_THINKING_LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
# Parts of the request that the named settings and adapters own; a raw dict may not replace them.
_RESERVED_BODY_KEYS = frozenset({"contents"})


def settings_of(obj: Any) -> dict[str, Any]:
    """The named settings an adapter object holds, by canonical name (``None`` = unset).

    An adapter's field may carry a setting's name or one of its aliases
    (``max_tokens`` for ``max_output_tokens``).
    """
    cls = type(obj)
    pairs = _FIELDS_BY_CLASS.get(cls)
    if pairs is None:
        pairs = tuple(
            (name, name if hasattr(obj, name) else _FIELD_ALIASES.get(name, name))
            for name in SETTING_NAMES
        )
        # A pydantic model's fields are fixed by its class: which spelling it uses is
        # worked out once per class, not per call (a failed hasattr costs an exception).
        if isinstance(getattr(cls, "model_fields", None), dict):
            _FIELDS_BY_CLASS[cls] = pairs
    return {name: getattr(obj, field, None) for name, field in pairs}


_FIELDS_BY_CLASS: dict[type, tuple[tuple[str, str], ...]] = {}


def _fail(name: str, expected: str, value: Any) -> InvalidRequestError:
    return InvalidRequestError(f"{name} must be {expected}, got {value!r}")


def normalize_media_resolution(value: Any) -> str:
    """``"low"`` / ``"MEDIA_RESOLUTION_LOW"`` -> ``"MEDIA_RESOLUTION_LOW"`` (and so on).

    >>> normalize_media_resolution("high")
    'MEDIA_RESOLUTION_HIGH'
    """
    text = str(getattr(value, "value", value)).strip().upper().replace("-", "_")
    short = text.removeprefix("MEDIA_RESOLUTION_")
    if short not in _MEDIA_RESOLUTIONS:
        raise _fail("media_resolution", "one of low, medium, high, ultra_high", value)
    return f"MEDIA_RESOLUTION_{short}"


def part_media_resolution(block: Mapping[str, Any]) -> dict[str, Any]:
    """A media part's own ``mediaResolution`` from a content block (``{}`` if it sets none).

    Read from the block itself or its ``extras`` (LangChain's v1 blocks), as
    langchain-google-genai reads it; Gemini takes ``{"level": "MEDIA_RESOLUTION_..."}``.

    >>> part_media_resolution({"type": "image", "extras": {"media_resolution": "high"}})
    {'mediaResolution': {'level': 'MEDIA_RESOLUTION_HIGH'}}
    """
    extras = block.get("extras")
    value = block.get("media_resolution")
    if value is None and isinstance(extras, Mapping):
        value = extras.get("media_resolution")
    if value is None:
        return {}
    if isinstance(value, Mapping):  # already Gemini's {"level": ...}
        value = value.get("level")
    return {"mediaResolution": {"level": normalize_media_resolution(value)}}


def _thinking_level(value: Any) -> str:
    text = str(getattr(value, "value", value)).strip().upper()
    if text not in _THINKING_LEVELS:
        raise _fail("thinking_level", "one of minimal, low, medium, high", value)
    return text


def safety_settings_list(value: Any) -> list[dict[str, Any]]:
    """Gemini's ``safetySettings`` list from the list form or the ``{category: threshold}`` form.

    >>> safety_settings_list({"HARM_CATEGORY_HARASSMENT": "BLOCK_ONLY_HIGH"})
    [{'category': 'HARM_CATEGORY_HARASSMENT', 'threshold': 'BLOCK_ONLY_HIGH'}]
    """
    if isinstance(value, Mapping):
        return [{"category": _enum_text(k), "threshold": _enum_text(v)} for k, v in value.items()]
    if isinstance(value, Sequence) and not isinstance(value, str):
        out: list[dict[str, Any]] = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping) or "category" not in item or "threshold" not in item:
                raise InvalidRequestError(
                    f"safety_settings[{i}] must be a dict with 'category' and 'threshold', "
                    f"got {item!r}"
                )
            out.append({k: _enum_text(v) for k, v in item.items()})
        return out
    raise _fail(
        "safety_settings",
        "a list of {'category', 'threshold'} dicts or a {category: threshold} dict",
        value,
    )


def _enum_text(value: Any) -> Any:
    # Enum members (the google-genai SDK's HarmCategory...) travel as their value.
    inner = getattr(value, "value", value)
    return inner if isinstance(inner, str) else value


def _schema(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    dump = getattr(value, "model_json_schema", None)
    if callable(dump):  # a pydantic model class
        schema = dump()
        if isinstance(schema, dict):
            return schema
    raise _fail(name, "a JSON Schema dict (or a pydantic model class)", value)


def _strings(name: str) -> Callable[[Any], list[str]]:
    """A string or a list of strings (enum members travel as their value), as a list;
    anything else names the item (``stop=[5]`` is refused, not sent as ``"5"``)."""

    def convert(value: Any) -> list[str]:
        items = [value] if isinstance(value, str) else list(value)
        out = []
        for index, item in enumerate(items):
            inner = getattr(item, "value", item)
            if not isinstance(inner, str):
                raise _fail(f"{name}[{index}]", "a string", item)
            out.append(inner)
        return out

    return convert


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "stop_sequences": _strings("stop_sequences"),
    "response_schema": lambda v: _schema("response_schema", v),
    "response_json_schema": lambda v: _schema("response_json_schema", v),
    "media_resolution": normalize_media_resolution,
    "thinking_level": _thinking_level,
    "safety_settings": safety_settings_list,
    "labels": dict,
    "image_config": dict,
    "response_modalities": _strings("response_modalities"),
}


def _range(setting: Setting) -> str:
    low, high = setting.minimum, setting.maximum
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    return f" >= {low:g}" if low is not None else ""


def check_value(name: str, value: Any) -> Any:
    """``value`` for the setting ``name``, checked against the table's type and range.

    Numbers must be real, finite and in range (``nan``, ``inf`` and ``1e300`` are
    refused here, before anything is sent); ``True`` is not a number.

    >>> check_value("temperature", 1)
    1.0

    Raises:
        InvalidRequestError: the value has the wrong type or is out of range.
    """
    setting = _BY_NAME[name]
    kind = setting.kind
    if name == "logprobs" and isinstance(value, bool):
        return value  # langchain-openai's spelling of response_logprobs
    if kind is float or kind is int:
        number_ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if kind is int and not isinstance(value, numbers.Integral):
            number_ok = False
        kind_name = "an integer" if kind is int else "a finite number"
        if not number_ok or not math.isfinite(value):
            raise _fail(name, kind_name + _range(setting), value)
        low, high = setting.minimum, setting.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise _fail(name, kind_name + _range(setting), value)
        return int(value) if kind is int else float(value)
    if kind is bool and not isinstance(value, bool):
        raise _fail(name, "True or False", value)
    if kind is str and not isinstance(getattr(value, "value", value), str):
        raise _fail(name, "a string", value)
    if kind is list and (
        isinstance(value, Mapping | bytes) or not isinstance(value, str | Sequence)
    ):
        raise _fail(name, "a list of strings", value)
    if kind is dict and not isinstance(value, Mapping):
        raise _fail(name, "a dict", value)
    convert = _CONVERT.get(name)
    return convert(value) if convert else value


def _canonical(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:  # most settings are unset: skip them before any lookup
            continue
        name = SETTING_ALIASES.get(key, key)
        if name in _KNOWN:
            out[name] = value
    return out


def settings_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Request-body fields for the named settings in ``values`` that are set (not ``None``).

    Keys that are not setting names are ignored (adapters pass their whole call
    arguments). ``logprobs=True`` (langchain-openai's spelling) means
    ``responseLogprobs``; an integer ``logprobs`` also turns ``responseLogprobs`` on,
    since Gemini needs both. Empty ``stop_sequences`` and ``safety_settings`` are not sent.

    Raises:
        InvalidRequestError: a value Gemini cannot take (an unknown media resolution...).
    """
    named = _canonical(values)
    config: dict[str, Any] = {}
    thinking: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for name, value in named.items():
        converted = check_value(name, value)
        if name in _THINKING_KEYS:
            thinking[_THINKING_KEYS[name]] = converted
        elif name in BODY_SETTINGS:
            if converted or converted == 0:
                body[BODY_SETTINGS[name]] = converted
        elif name == "logprobs" and isinstance(converted, bool):
            if converted:
                config.setdefault("responseLogprobs", True)
        elif name == "stop_sequences" and not converted:
            continue
        else:
            config[_CONFIG_KEYS[name]] = converted
    if "logprobs" in config:
        config.setdefault("responseLogprobs", True)
    if thinking:
        config["thinkingConfig"] = thinking
    fields: dict[str, Any] = {}
    if config:
        fields["generationConfig"] = config
    fields.update(body)
    return fields


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``extra``; nested dicts are merged, everything else replaced."""
    out = dict(base)
    for key, value in extra.items():
        current = out.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            out[key] = deep_merge(current, value)
        else:
            out[key] = value
    return out


def _raw(name: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(name, "a dict", value)
    return value


def _check_model_kwargs(extra: Mapping[str, Any]) -> None:
    for key in extra:
        if key in _RESERVED_BODY_KEYS:
            raise InvalidRequestError(
                f"model_kwargs may not set {key!r}: the messages are the contents"
            )
        name = SETTING_ALIASES.get(key, key)
        if name in _KNOWN or key in ESCAPE_HATCHES:
            raise InvalidRequestError(
                f"{key!r} is a named setting: pass {key}=... itself, not inside model_kwargs "
                "(model_kwargs are merged into the request body as top-level Gemini fields)"
            )


def layered_settings(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """The request-body fields for settings given in ``layers`` (constructor first, then call).

    Each layer holds named settings plus, optionally, ``generation_config`` and
    ``model_kwargs``. Within a layer the named settings go first, then
    ``generation_config`` is merged into ``generationConfig``, then ``model_kwargs``
    into the body; a later layer is merged over an earlier one the same way.

    >>> layered_settings({"temperature": 0.1, "generation_config": {"topK": 3}},
    ...                  {"temperature": 0.9})
    {'generationConfig': {'temperature': 0.9, 'topK': 3}}

    Raises:
        InvalidRequestError: a bad value, or a raw dict that would replace ``contents``.
    """
    return layered_over({}, *layers)


def layered_over(base: Mapping[str, Any], *layers: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (what :func:`layered_settings` gave for the earlier layers) with ``layers``
    merged over it the same way; a new dict, ``base`` is not modified.

    An adapter builds its constructor's layer once and puts each call's over it.

    >>> layered_over(layered_settings({"temperature": 0.1}), {"top_k": 3})
    {'generationConfig': {'temperature': 0.1, 'topK': 3}}
    """
    body = dict(base)
    for layer in layers:
        if not layer:  # most calls pass no settings at all
            continue
        body = deep_merge(body, settings_fields(layer))
        config = _raw("generation_config", layer.get("generation_config"))
        if config:
            body = deep_merge(body, {"generationConfig": config})
        extra = _raw("model_kwargs", layer.get("model_kwargs"))
        _check_model_kwargs(extra)
        if extra:
            body = deep_merge(body, extra)
    return body

"""The arguments users give the adapters: one rule for both, applied before anything is sent.

Three decisions live here, so ``ChatSegmindGemini`` and ``SegmindGemini`` make
them the same way:

- **Credentials never travel as settings.** A name that looks like a credential
  (``api_key``, ``google_api_key``, ``access_token``, ``x_secret``...) is refused
  as a call argument and anywhere inside ``model_kwargs`` / ``generation_config``
  (call arguments are recorded by LangChain callbacks and traces and LlamaIndex
  events, and raw dicts are sent in the body). The message never quotes the value.
- **The peers' spellings work.** Users of langchain-google-genai and
  llama-index-llms-google-genai bring ``request_timeout``, ``retries``,
  ``thinking_config``, ``reasoning_effort``, ``tool_config``, ``http_options``,
  ``additional_headers`` and ``GenerateContentConfig`` objects: each is mapped to
  this package's setting, or refused with what to use instead (Google-only
  settings such as ``project``, ``location``, ``vertexai``, ``credentials``).
- **Unknown arguments are kept with a warning** and sent as top-level fields of
  the Gemini request (:func:`move_unknown`).

>>> peer_arguments({"request_timeout": 30, "reasoning_effort": "low"}, where="call")
{'timeout': 30, 'thinking_level': 'low'}
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Collection, Mapping
from typing import Any, Literal

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.planning.options import SETTING_ALIASES, SETTING_NAMES

__all__ = [
    "Where",
    "check_no_secrets",
    "is_secret_name",
    "move_unknown",
    "peer_arguments",
    "screen_arguments",
]

Where = Literal["constructor", "call", "bind_tools"]

# Words that are credentials (``x_key_id``, ``mykey_value``), and run-together names
# (``xApiToken``, ``clientsecret``).
_SECRET_WORD = re.compile(r"(?:key|keys|auth)$")
_SECRET_PARTS = re.compile(
    r"apikey|secret|passw(?:or)?d|token(?!s)|credential|authori[sz]ation|bearer|cookie"
)
# Names that contain a secret word but are settings (never credentials).
_NOT_SECRET = frozenset({*SETTING_NAMES, *SETTING_ALIASES, "top_k", "thought_signature"})
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

_SEGMIND_KEY = (
    "This package talks to Segmind, which takes a Segmind API key: pass api_key=... "
    "(or set $SEGMIND_API_KEY)"
)
# Google-only settings with no meaning on Segmind: refused, saying why.
_GOOGLE_ONLY: dict[str, str] = {
    "google_api_key": f"google_api_key is a Google AI Studio key. {_SEGMIND_KEY}; a Google "
    "key is never sent to Segmind.",
    "credentials": f"credentials are Google Cloud credentials. {_SEGMIND_KEY}.",
    "vertexai": f"vertexai selects Google's Vertex AI endpoint. {_SEGMIND_KEY}; the model "
    "runs on Segmind.",
    "vertexai_config": f"vertexai_config configures Google's Vertex AI. {_SEGMIND_KEY}.",
    "project": f"project is a Google Cloud project. {_SEGMIND_KEY}; Segmind bills your "
    "Segmind account.",
    "location": f"location is a Google Cloud region. {_SEGMIND_KEY}; Segmind chooses where "
    "the model runs.",
}
# The peers' transport and client settings: nothing here to apply them to.
_NO_EQUIVALENT: dict[str, str] = {
    name: f"{name} configures Google's own client and has no equivalent on Segmind{hint}"
    for name, hint in {
        "client_options": ": set base_url=... for another address",
        "transport": " (requests go over HTTPS with httpx/aiohttp)",
        "client_args": ": use additional_headers=... or timeout=...",
        "api_version": " (Segmind's API has one version)",
        "debug_config": " (the emulator records requests: segmind_gemini.testing)",
        "default_metadata": ": use additional_headers=...",
    }.items()
}
_RENAMES: dict[str, str] = {
    "request_timeout": "timeout",
    "retries": "max_retries",
    "reasoning_effort": "thinking_level",
}
_THINKING = {
    "thinking_budget": "thinking_budget",
    "thinkingBudget": "thinking_budget",
    "include_thoughts": "include_thoughts",
    "includeThoughts": "include_thoughts",
    "thinking_level": "thinking_level",
    "thinkingLevel": "thinking_level",
}
# Keys of a google-genai GenerateContentConfig that are not generationConfig fields.
_CONFIG_LIFTED = {
    "safety_settings": "safety_settings",
    "safetySettings": "safety_settings",
    "cached_content": "cached_content",
    "cachedContent": "cached_content",
    "labels": "labels",
    "tool_config": "tool_config",
    "toolConfig": "tool_config",
    "http_options": "http_options",
    "httpOptions": "http_options",
}
_CONFIG_REFUSED = {
    "system_instruction": "put system text in a system message",
    "systemInstruction": "put system text in a system message",
    "tools": "offer tools with bind_tools / chat_with_tools (or tools=...)",
    "automatic_function_calling": "the framework's agents run the tools",
}
_TOOL_CONFIG_ON_CONSTRUCTOR = (
    "tool_config belongs with the tools: pass it (or tool_choice=...) to bind_tools / "
    "chat_with_tools, or per call"
)
_NESTED = (
    "model_kwargs",
    "generation_config",
    "additional_kwargs",
    "additional_headers",
    "http_options",
)
_MAX_DEPTH = 32


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether an argument or field name looks like a credential.

    >>> [is_secret_name(n) for n in ("api_key", "xApiKey", "max_tokens", "temperature")]
    [True, True, False, False]
    """
    if name in _NOT_SECRET:
        return False
    if any(_SECRET_WORD.search(w.lower()) for w in _WORDS.findall(name)):
        return True
    return _SECRET_PARTS.search(re.sub(r"[^a-z0-9]", "", name.lower())) is not None


# Arguments whose insides are schemas or the frameworks' own bookkeeping, not values
# sent as they are: a tool may well have a parameter called ``api_key``.
_NOT_RAW = frozenset(
    {
        "tools",
        "functions",
        "tool_choice",
        "tool_config",
        "response_format",
        "response_schema",
        "response_json_schema",
        "ls_structured_output_format",
        "metadata",
        "tags",
        "callbacks",
        "run_name",
        "run_id",
    }
)
# A credential written as a header value (``"Bearer sk-..."``).
_BEARER = re.compile(r"^\s*(?:bearer|basic|token)\s+\S{8,}", re.IGNORECASE)


def _secret_path(value: Any, path: str, depth: int = 0) -> str | None:
    """Where in a raw value (dicts, lists, strings) a credential-looking entry sits."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, str):
        return path if _BEARER.match(value) else None
    if isinstance(value, Mapping):
        for key, inner in value.items():
            where = f"{path}[{key!r}]"
            if isinstance(key, str) and is_secret_name(key):
                return where
            found = _secret_path(inner, where, depth + 1)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            found = _secret_path(inner, f"{path}[{index}]", depth + 1)
            if found:
                return found
    return None


def _holds(value: Any, secret: str, depth: int = 0) -> bool:
    """Whether ``value`` (strings, dicts, lists, nested) contains ``secret``."""
    if isinstance(value, str):
        return secret in value
    if depth > _MAX_DEPTH:
        return False
    if isinstance(value, Mapping):
        return any(_holds(v, secret, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds(v, secret, depth + 1) for v in value)
    return False


def check_no_secrets(
    args: Mapping[str, Any],
    *,
    where: Where,
    owner: str,
    allowed: Collection[str] = (),
    key: str | None = None,
) -> None:
    """Refuse credential-looking names in ``args`` and in the raw dicts they hold.

    ``allowed`` names the credential arguments this place really takes (the
    constructor's ``api_key``). With ``key`` (the model's own key), an argument whose
    value holds it is refused too, whatever its name. The message names the
    argument, never its value.

    Raises:
        InvalidRequestError: a credential as a call argument or inside a raw dict.
    """
    for name, value in args.items():
        if name in allowed:
            continue
        refusal = _GOOGLE_ONLY.get(name) or _NO_EQUIVALENT.get(name)
        if refusal:
            raise InvalidRequestError(f"{owner}: {refusal}")
        # None or a function holds no credential whatever its name (LangChain's own
        # custom_get_token_ids, which configurable_fields passes back as None).
        named = is_secret_name(name) and value is not None and not callable(value)
        if named or (key and len(key) >= 8 and _holds(value, key)):
            if where == "constructor":
                raise InvalidRequestError(
                    f"{owner} got {name!r}, which looks like a credential and has no "
                    f"meaning here. {_SEGMIND_KEY}."
                )
            raise InvalidRequestError(
                f"{owner}: {name!r} holds a credential and cannot be given per call. Call "
                "arguments are recorded by LangChain callbacks and traces and LlamaIndex "
                "events, and would be sent in the request body. Set the key on the "
                f"constructor: {_SEGMIND_KEY}; for a second key, make a second model."
            )
        if name in _NESTED or (where == "call" and name not in _NOT_RAW):
            # Call arguments are traced whole and unknown ones are sent as they are:
            # a credential anywhere inside one is refused, not only at the top.
            found = _secret_path(value, name)
            if found:
                raise InvalidRequestError(
                    f"{owner}: {found} looks like a credential; raw values are sent in the "
                    f"request body and recorded by traces, so it is refused. {_SEGMIND_KEY}."
                )


def _as_dict(name: str, value: Any) -> dict[str, Any]:
    """A dict from a dict or a pydantic object (the google-genai SDK's types)."""
    if isinstance(value, Mapping):
        return dict(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        dumped = dump(exclude_none=True)
        if isinstance(dumped, dict):
            return dumped
    raise InvalidRequestError(f"{name} must be a dict, got {type(value).__name__}")


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value)).upper()


def _tool_choice(config: Any) -> Any:
    """A ``tool_choice`` from Gemini's ``tool_config`` (``function_calling_config``)."""
    cfg = _as_dict("tool_config", config)
    calling = cfg.get("function_calling_config", cfg.get("functionCallingConfig")) or {}
    calling = _as_dict("tool_config['function_calling_config']", calling)
    mode = _enum(calling.get("mode") or "AUTO")
    names = calling.get("allowed_function_names", calling.get("allowedFunctionNames")) or []
    if mode == "NONE":
        return "none"
    if mode in ("ANY", "VALIDATED"):
        if len(names) == 1:
            return str(names[0])
        if names:
            raise InvalidRequestError(
                "tool_config allows several function names; here tool_choice is one tool "
                "name, 'any' or 'auto': offer only those tools instead"
            )
        return "any"
    if mode == "AUTO":
        return "auto"
    raise InvalidRequestError(f"tool_config mode must be AUTO, ANY or NONE, got {mode!r}")


def _http_options(value: Any, out: dict[str, Any], where: Where) -> None:
    options = _as_dict("http_options", value)
    for key, inner in options.items():
        if inner is None:
            continue
        if key == "timeout":  # google-genai's HttpOptions.timeout is in milliseconds
            _set(out, "timeout", inner / 1000, "http_options.timeout")
        elif key == "headers" and where != "call":
            _set(out, "additional_headers", dict(inner), "http_options.headers")
        else:
            raise InvalidRequestError(
                f"http_options[{key!r}] has no equivalent here: only timeout"
                + (" and headers" if where != "call" else "")
                + " apply (base_url=... sets the address)"
            )


def _set(out: dict[str, Any], name: str, value: Any, given_as: str) -> None:
    if out.get(name) is not None and out[name] != value:
        raise InvalidRequestError(f"{name} is given twice: as {name} and as {given_as}")
    out[name] = value


def _generation_config(value: Any, out: dict[str, Any], where: Where) -> None:
    config = _as_dict("generation_config", value)
    raw: dict[str, Any] = {}
    for key, inner in config.items():
        if inner is None:
            continue
        if key in _CONFIG_REFUSED:
            raise InvalidRequestError(
                f"generation_config[{key!r}] is not a generation setting here: "
                f"{_CONFIG_REFUSED[key]}"
            )
        lifted = _CONFIG_LIFTED.get(key)
        if lifted == "tool_config":
            if where == "constructor":
                raise InvalidRequestError(_TOOL_CONFIG_ON_CONSTRUCTOR)
            # Within one level a raw dict beats the named field (see options.py).
            out["tool_choice"] = _tool_choice(inner)
        elif lifted == "http_options":
            _http_options(inner, out, where)
        elif lifted:
            out[lifted] = inner
        else:
            raw[key] = inner
    out["generation_config"] = raw or None


def peer_arguments(args: Mapping[str, Any], *, where: Where) -> dict[str, Any]:
    """``args`` with the peers' spellings turned into this package's settings.

    Raises:
        InvalidRequestError: a spelling given twice, or one that cannot apply here
            (``additional_headers`` or ``retries`` per call, ``tool_config`` on a
            constructor).
    """
    out = dict(args)
    for old, new in _RENAMES.items():
        if old in out:
            _set(out, new, out.pop(old), old)
    thinking = out.pop("thinking_config", None)
    if thinking is not None:
        for key, inner in _as_dict("thinking_config", thinking).items():
            if key not in _THINKING:
                raise InvalidRequestError(
                    f"thinking_config[{key!r}] is unknown; it takes thinking_budget, "
                    "include_thoughts and thinking_level"
                )
            if inner is not None:
                _set(out, _THINKING[key], inner, f"thinking_config[{key!r}]")
    config = out.get("generation_config")
    if config is not None:
        _generation_config(config, out, where)
    http = out.pop("http_options", None)
    if http is not None:
        _http_options(http, out, where)
    tool_config = out.pop("tool_config", None)
    if tool_config is not None:
        if where == "constructor":
            raise InvalidRequestError(_TOOL_CONFIG_ON_CONSTRUCTOR)
        _set(out, "tool_choice", _tool_choice(tool_config), "tool_config")
    if where == "call":
        for name in ("max_retries", "additional_headers"):
            if out.get(name) is not None:
                raise InvalidRequestError(
                    f"{name} cannot change per call: set it on the constructor"
                )
    return out


def screen_arguments(
    args: Mapping[str, Any],
    *,
    where: Where,
    owner: str,
    allowed_secrets: Collection[str] = (),
) -> dict[str, Any]:
    """:func:`check_no_secrets` then :func:`peer_arguments`: what every entry point runs."""
    check_no_secrets(args, where=where, owner=owner, allowed=allowed_secrets)
    return peer_arguments(args, where=where)


def move_unknown(
    args: Mapping[str, Any], known: Collection[str], *, into: str, owner: str, stacklevel: int
) -> dict[str, Any]:
    """``args`` with the names not in ``known`` moved into the raw dict ``into``, warning once each.

    The one policy for both adapters: an unknown argument is kept (sent as a top-level
    field of the Gemini request) and never silent.

    Raises:
        InvalidRequestError: a name given both as an argument and inside ``into``.
    """
    unknown = [k for k in args if k not in known]
    if not unknown:
        return dict(args)
    extra = dict(args.get(into) or {})
    for key in unknown:
        if key in extra:
            raise InvalidRequestError(f"{key!r} is given both as an argument and in {into}")
        warnings.warn(
            f"{key!r} is not a {owner} setting: it was moved to {into} and is sent as a "
            "top-level field of the Gemini request. Check that this is what you meant.",
            UserWarning,
            stacklevel=stacklevel,
        )
        extra[key] = args[key]
    return {**{k: v for k, v in args.items() if k not in unknown}, into: extra}

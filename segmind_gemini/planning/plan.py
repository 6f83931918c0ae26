"""One call planner for both adapters: call arguments and messages in, a request out.

:func:`plan_call` is what ``ChatSegmindGemini`` and ``SegmindGemini`` run once per
call (the shape of langchain-anthropic's ``_get_request_payload``). It screens the
arguments (:mod:`segmind_gemini.planning.arguments`), resolves the tool-calling mode once,
asks the adapter to convert its messages for that mode, and builds the request:
named settings over the constructor's, structured-output settings, tools, built-in
tools, the one-call-at-a-time rule, and the checks Gemini would otherwise fail.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.planning.arguments import move_unknown, screen_arguments
from segmind_gemini.planning.options import (
    ESCAPE_HATCHES,
    SETTING_ALIASES,
    SETTING_NAMES,
    layered_over,
    layered_settings,
)
from segmind_gemini.planning.structured import (
    JSON_ONLY_INSTRUCTION,
    gemini_response_schema,
    schema_instruction,
)
from segmind_gemini.tools import ParsedReply, ToolSpec
from segmind_gemini.tools.builtin import apply_builtin_tools
from segmind_gemini.tools.calling import ToolCallingMode, apply_tools, read_tool_reply, resolve_mode
from segmind_gemini.wire.request import append_system_text, build_request
from segmind_gemini.wire.response import GenerateContentResult

__all__ = ["CALL_KEYS", "Converted", "Plan", "plan_call", "structured_from_response_format"]

#: Call arguments the planner reads, besides the named settings and their aliases.
PLANNER_KEYS = frozenset(
    {
        "model",
        "timeout",
        "api_mode",
        "tool_calling",
        "tools",
        "tool_choice",
        "builtin_tools",
        "parallel_tool_calls",
        "structured_output",
        # OpenAI's spelling, which create_agent's ProviderStrategy binds.
        "response_format",
    }
)
#: Every call argument both adapters accept (each adds the few its framework passes).
CALL_KEYS = frozenset({*PLANNER_KEYS, *SETTING_NAMES, *SETTING_ALIASES, *ESCAPE_HATCHES})

SINGLE_CALL_INSTRUCTION = (
    "Call at most one tool in this reply: if several calls are needed, make the first "
    "one now and the others after its result comes back."
)


class Converted(Protocol):
    """What an adapter's message conversion gives the planner."""

    @property
    def contents(self) -> list[dict[str, Any]]: ...

    @property
    def system(self) -> list[str]: ...


@dataclass
class Plan:
    """Everything one call needs, decided once and shared by the sync, async and stream paths."""

    request: dict[str, Any]
    tools: list[ToolSpec]
    mode: ToolCallingMode
    model: str | None = None
    api_mode: Any = None
    timeout: float | None = None
    single_call: bool = False
    converted: Any = None

    def reply(self, result: GenerateContentResult) -> ParsedReply:
        """The answer split into text and tool calls (only the first with one call at a time)."""
        if not self.tools:
            return ParsedReply(text=result.text)
        reply = read_tool_reply(result, self.tools, mode=self.mode)
        if self.single_call and len(reply.tool_calls) > 1:
            reply = dataclasses.replace(reply, tool_calls=reply.tool_calls[:1])
        return reply


def structured_from_response_format(value: Any) -> dict[str, Any] | None:
    """OpenAI's ``response_format`` as a ``structured_output`` setting (``None`` if unset)."""
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "json_object":
        return {"method": "json_mode", "schema": None}
    spec = value.get("json_schema") if isinstance(value, Mapping) else None
    if kind != "json_schema" or not isinstance(spec, Mapping) or "schema" not in spec:
        raise InvalidRequestError(
            "response_format must be {'type': 'json_schema', 'json_schema': {'name': ..., "
            f"'schema': {{...}}}} or {{'type': 'json_object'}}; got {value!r}"
        )
    return {"method": "json_schema", "schema": dict(spec["schema"]), "name": spec.get("name")}


def _structured(args: dict[str, Any], system: list[str], mode: ToolCallingMode) -> list[str]:
    """Add the JSON instruction (and, natively, JSON mode) for a structured-output call."""
    structured = args.get("structured_output") or structured_from_response_format(
        args.get("response_format")
    )
    if not structured:
        return system
    schema = structured.get("schema")
    if schema:
        instruction = schema_instruction(schema, name=structured.get("name"))
    else:
        instruction = JSON_ONLY_INSTRUCTION
    if mode == "native":
        # A gateway that forwards tools presumably forwards JSON mode too.
        args["response_mime_type"] = args.get("response_mime_type") or "application/json"
        # JSON mode names its schema in the instruction only (the reply is checked
        # against it here); json_schema also declares it to Gemini.
        pure_json = structured.get("method") == "json_mode"
        if schema and not pure_json and args.get("response_schema") is None:
            with contextlib.suppress(InvalidRequestError):  # the instruction has it anyway
                args["response_schema"] = gemini_response_schema(schema)
    return [*system, instruction]


def _check_cached_content(request: Mapping[str, Any]) -> None:
    if not request.get("cachedContent"):
        return
    clash = [
        label
        for key, label in (
            ("system_instruction", "a system instruction"),
            ("tools", "tools"),
            ("toolConfig", "a tool config"),
        )
        if request.get(key)
    ]
    if clash:
        raise InvalidRequestError(
            f"cached_content cannot be sent with {' or '.join(clash)}: Gemini refuses the "
            "request, since the cache already fixes them. Put the system instruction and "
            "tools into the cache when you create it (in prompt tool mode the tools are "
            "part of the system instruction), or leave cached_content out."
        )


def call_arguments(
    kwargs: Mapping[str, Any], *, owner: str, framework_keys: Collection[str] = ()
) -> dict[str, Any]:
    """A call's arguments screened (no credentials, peers' spellings mapped), unknown ones
    moved into ``model_kwargs`` with a warning, and the framework's own keys dropped."""
    if not kwargs:  # most calls: nothing to screen, map or move
        return {}
    args = screen_arguments(kwargs, where="call", owner=owner)
    args = {k: v for k, v in args.items() if k not in framework_keys}
    return move_unknown(args, CALL_KEYS, into="model_kwargs", owner=owner, stacklevel=6)


def plan_call(
    convert: Callable[[ToolCallingMode], Converted],
    kwargs: Mapping[str, Any],
    *,
    defaults: Mapping[str, Any],
    owner: str,
    model: str,
    tool_calling: str,
    base_url: str,
    framework_keys: Collection[str] = (),
    builtin_tools: Sequence[Mapping[str, Any]] = (),
    built_defaults: Mapping[str, Any] | None = None,
) -> Plan:
    """Plan one call: ``convert(mode)`` turns the adapter's messages into Gemini contents.

    ``defaults`` are the constructor's settings (named ones plus ``generation_config``
    and ``model_kwargs``); ``kwargs`` the call's arguments, which win. ``tools`` in
    ``kwargs`` are :class:`ToolSpec`\\ s or OpenAI-style dicts; ``parallel_tool_calls=False``
    asks for one call and keeps only the first. ``built_defaults``, when given, is
    ``layered_settings(defaults)`` already worked out (an adapter caches it per state
    of its fields), and ``defaults`` is not read.

    Raises:
        InvalidRequestError: a credential, a bad value, nothing to send, or
            ``cached_content`` with a system instruction or tools.
    """
    args = call_arguments(kwargs, owner=owner, framework_keys=framework_keys)
    call_model = args.get("model") or model
    mode = resolve_mode(args.get("tool_calling") or tool_calling, call_model, base_url)
    converted = convert(mode)
    system = _structured(args, list(converted.system), mode)
    request = build_request(
        converted.contents,
        system=system or None,
        settings=layered_settings(defaults, args)
        if built_defaults is None
        else layered_over(built_defaults, args),
    )
    if not request["contents"]:
        raise InvalidRequestError(
            "nothing to send: the messages hold no user or assistant content "
            "(only system messages, or only empty text)"
        )
    specs = [
        t if isinstance(t, ToolSpec) else ToolSpec.from_openai(t) for t in args.get("tools") or []
    ]
    choice = args.get("tool_choice")
    single = bool(specs) and args.get("parallel_tool_calls") is False
    if specs:
        request = apply_tools(request, specs, tool_choice=choice, mode=mode)
        if single and choice not in ("none", False):
            request["system_instruction"] = append_system_text(
                request.get("system_instruction"), SINGLE_CALL_INSTRUCTION
            )
    builtins = [*builtin_tools, *(args.get("builtin_tools") or [])]
    if builtins:
        request = apply_builtin_tools(request, builtins, mode=mode)
    _check_cached_content(request)
    return Plan(
        request,
        specs,
        mode,
        model=args.get("model"),
        api_mode=args.get("api_mode"),
        timeout=args.get("timeout"),
        single_call=single,
        converted=converted,
    )

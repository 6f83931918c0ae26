"""Gemini's server-side tools (Google Search, code execution, URL context...).

These run on Google's side, so they exist only as Gemini ``tools`` entries:

    >>> builtin_tool({"google_search": {}})
    {'googleSearch': {}}
    >>> apply_builtin_tools({"contents": []}, [{"code_execution": {}}], mode="native")
    {'contents': [], 'tools': [{'codeExecution': {}}]}

The prompted tool protocol describes tools in text and parses a JSON reply, so it
cannot run them; asking for one in prompt mode is an error that says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from segmind_gemini.errors import InvalidRequestError

__all__ = [
    "BUILTIN_TOOL_NAMES",
    "apply_builtin_tools",
    "builtin_tool",
    "check_builtin_mode",
    "split_builtin_tools",
]

# Accepted spellings -> Gemini's field name in a Tool.
_NAMES = {
    "google_search": "googleSearch",
    "googleSearch": "googleSearch",
    "google_search_retrieval": "googleSearchRetrieval",
    "googleSearchRetrieval": "googleSearchRetrieval",
    "code_execution": "codeExecution",
    "codeExecution": "codeExecution",
    "url_context": "urlContext",
    "urlContext": "urlContext",
    "google_maps": "googleMaps",
    "googleMaps": "googleMaps",
}
#: The built-in tool names this package recognises (snake_case spelling).
BUILTIN_TOOL_NAMES = ("google_search", "google_search_retrieval", "code_execution",
                      "url_context", "google_maps")  # fmt: skip


def builtin_tool(tool: Any) -> dict[str, Any] | None:
    """``tool`` as a Gemini Tool entry if it names a built-in tool, else ``None``.

    Accepts ``{"google_search": {}}`` (either spelling) and objects with
    ``model_dump`` (the google-genai SDK's ``types.Tool``) holding only built-ins.
    """
    if isinstance(tool, type):  # a pydantic model class is a function tool's schema
        return None
    if not isinstance(tool, Mapping):
        dump = getattr(tool, "model_dump", None)
        if not callable(dump):
            return None
        data = dump(exclude_none=True)
        if not isinstance(data, Mapping):
            return None
        tool = data
    if not tool or not all(key in _NAMES for key in tool):
        return None
    out: dict[str, Any] = {}
    for key, value in tool.items():
        if value is not None and not isinstance(value, Mapping):
            raise InvalidRequestError(
                f"built-in tool {key!r} takes a dict of options (usually {{}}), got {value!r}"
            )
        out[_NAMES[key]] = dict(value or {})
    return out


def split_builtin_tools(tools: Sequence[Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """``(function tools, built-in tool entries)`` from a mixed list, order kept."""
    functions: list[Any] = []
    builtins: list[dict[str, Any]] = []
    for tool in tools:
        entry = builtin_tool(tool)
        if entry is None:
            functions.append(tool)
        else:
            builtins.append(entry)
    return functions, builtins


def check_builtin_mode(builtins: Sequence[Mapping[str, Any]], mode: str) -> None:
    """Raise unless ``mode`` is ``"native"`` when built-in tools are asked for.

    ``"auto"`` passes here: it is checked again once resolved, when the call is built.
    """
    if builtins and mode not in ("native", "auto"):
        names = ", ".join(sorted({k for b in builtins for k in b}))
        raise InvalidRequestError(
            f"built-in tool(s) {names} run on Google's servers and can only be sent as "
            "Gemini tools; the prompted tool protocol (tool_calling='prompt') cannot run "
            "server-side tools. Use tool_calling='native' (this needs a gateway that "
            "forwards Gemini tools), or offer an ordinary function tool that does the work."
        )


def apply_builtin_tools(
    request: Mapping[str, Any], builtins: Sequence[Mapping[str, Any]], *, mode: str
) -> dict[str, Any]:
    """A copy of ``request`` whose ``tools`` also hold ``builtins`` (native mode only).

    Raises:
        InvalidRequestError: built-in tools in prompt mode.
    """
    new = dict(request)
    if not builtins:
        return new
    entries = []
    for tool in builtins:
        entry = builtin_tool(tool)
        if entry is None:
            raise InvalidRequestError(f"{tool!r} is not a Gemini built-in tool")
        entries.append(entry)
    check_builtin_mode(entries, mode)
    new["tools"] = [*new.get("tools", []), *entries]
    return new

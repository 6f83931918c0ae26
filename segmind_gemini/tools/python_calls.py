"""Read Python-call syntax (```tool_code`` fences) as tool calls, never evaluating it.

Only literal arguments are read, with :mod:`ast`; see
:func:`segmind_gemini.tools.parse_tool_reply`.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from typing import Any

from segmind_gemini.tools.spec import InvalidToolCall, ToolCall, ToolSpec, new_call_id

__all__: list[str] = []


# ```tool_code fences: the language tag is what marks Python-call syntax as a call.
_TOOL_CODE = re.compile(r"```[ \t]*tool_code[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE)


_BARE_NAMES: dict[str, Any] = {"true": True, "false": False, "null": None, "none": None}


class _NotLiteral(Exception):
    """A tool_code argument that is not a plain literal; ``str()`` says why."""


def _literal(node: ast.AST) -> Any:
    """The JSON value a literal expression spells; anything else raises ``_NotLiteral``."""
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, (str, bool, int)):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        raise _NotLiteral(f"{value!r} is not a JSON value")
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        number = _literal(node.operand)
        return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for key, item in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise _NotLiteral("dictionary keys must be strings")
            out[key.value] = _literal(item)
        return out
    if isinstance(node, ast.Name) and node.id.lower() in _BARE_NAMES:
        return _BARE_NAMES[node.id.lower()]
    raise _NotLiteral(f"{type(node).__name__} is not a literal value (only literals are read)")


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _python_calls(
    code: str, known: set[str], specs: Mapping[str, ToolSpec]
) -> list[ToolCall | InvalidToolCall]:
    """The calls in a tool_code block: one per expression statement, never evaluated."""
    try:
        tree = ast.parse(code, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        why = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
        error = f"tool_code is not Python call syntax: {why}"
        return [InvalidToolCall(None, code, new_call_id(), error)]
    out: list[ToolCall | InvalidToolCall] = []
    for stmt in tree.body:
        node = stmt.value if isinstance(stmt, ast.Expr) else None
        # Gemini's code-execution habit: print(default_api.get_weather(...)).
        if (
            isinstance(node, ast.Call)
            and _dotted(node.func) == "print"
            and len(node.args) == 1
            and not node.keywords
            and isinstance(node.args[0], ast.Call)
        ):
            node = node.args[0]
        if isinstance(node, ast.Call):
            out.append(_python_call(node, known, specs))
        else:
            source = ast.get_source_segment(code, stmt) or type(stmt).__name__
            out.append(
                InvalidToolCall(
                    None, source, new_call_id(), "tool_code holds something that is not a call"
                )
            )
    if not out:
        out.append(InvalidToolCall(None, None, new_call_id(), "tool_code block is empty"))
    return out


def _python_call(
    node: ast.Call, known: set[str], specs: Mapping[str, ToolSpec]
) -> ToolCall | InvalidToolCall:
    call_id = new_call_id()
    dotted = _dotted(node.func)
    source = ast.unparse(node)
    if dotted is None:
        return InvalidToolCall(None, source, call_id, "the called object is not a tool name")
    # default_api.get_weather(...) names the tool get_weather (a dotted tool name wins).
    last = dotted.rsplit(".", 1)[-1]
    name = dotted if dotted in known or last not in known else last
    if name not in known:
        available = ", ".join(sorted(known)) or "none"
        return InvalidToolCall(
            name, source, call_id, f"unknown tool {name!r} (available tools: {available})"
        )
    try:
        args: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _NotLiteral("**kwargs is not read; name each argument")
            args[keyword.arg] = _literal(keyword.value)
        if node.args:
            spec = specs.get(name)
            order = list(spec.parameters.get("properties", {})) if spec else []
            if len(node.args) > len(order):
                raise _NotLiteral(
                    f"{len(node.args)} positional arguments, but the schema orders "
                    f"{len(order)}; name the arguments"
                )
            for param, arg in zip(order, node.args, strict=False):
                if param in args or isinstance(arg, ast.Starred):
                    raise _NotLiteral(f"argument {param!r} is given twice or unpacked")
                args[param] = _literal(arg)
    except (_NotLiteral, RecursionError) as exc:
        why = str(exc) if isinstance(exc, _NotLiteral) else "nested too deeply"
        return InvalidToolCall(name, source, call_id, f"arguments are not literals: {why}")
    return ToolCall(name=name, args=args, id=call_id)

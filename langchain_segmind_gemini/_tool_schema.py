"""LangChain tools as OpenAI-style tool dicts, keeping recursive argument schemas.

``convert_to_openai_tool`` inlines pydantic's ``$ref`` s and turns a cycle into
``{}`` (a ``children: list[Node]`` field becomes ``{"items": {}}``), so the model is
told nothing about the nested shape and native mode declares it a JSON string.
For such schemas the pydantic schema itself (with its ``$defs``) is used: the
prompt shows it, and native mode declares it as plain JSON Schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from segmind_gemini.tools.native import RecursiveSchemaError, json_schema_to_gemini

__all__ = ["openai_tool", "recursive_model_schema"]


def _pydantic_schema(tool: Any) -> dict[str, Any] | None:
    model: Any = None
    if isinstance(tool, BaseTool):
        model = tool.tool_call_schema
    elif isinstance(tool, type) and issubclass(tool, BaseModel):
        model = tool
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    try:
        schema: dict[str, Any] = model.model_json_schema()
    except Exception:  # a schema pydantic cannot render: keep langchain-core's
        return None
    # A model that contains itself is rendered as a bare ``$ref`` into ``$defs``: lift
    # that definition to the top (keeping ``$defs`` for the inner references), so the
    # arguments' properties are where a tool schema has them.
    ref, defs = schema.get("$ref"), schema.get("$defs")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and isinstance(defs, dict):
        top = defs.get(ref.removeprefix("#/$defs/"))
        if isinstance(top, dict):
            schema = {**top, "$defs": defs}
    return schema


def recursive_model_schema(model: Any) -> dict[str, Any] | None:
    """The pydantic schema (``$defs`` kept) of a recursive model or tool; else None."""
    schema = _pydantic_schema(model)
    if schema is None:
        return None
    try:
        json_schema_to_gemini(schema)
    except RecursiveSchemaError:
        return schema
    except Exception:  # other problems are reported where the schema is used
        return None
    return None


def openai_tool(tool: Mapping[str, Any] | type | Callable[..., Any] | BaseTool) -> dict[str, Any]:
    """``convert_to_openai_tool(tool)``, with a recursive pydantic schema kept as it is."""
    formatted = convert_to_openai_tool(tool)
    schema = recursive_model_schema(tool)
    if schema is None:
        return formatted
    schema.pop("title", None)
    schema.pop("description", None)
    function = {**formatted["function"], "parameters": schema}
    return {**formatted, "function": function}

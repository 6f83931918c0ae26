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

from segmind_gemini.native_tools import RecursiveSchemaError, json_schema_to_gemini

__all__ = ["openai_tool"]


def _pydantic_schema(tool: Any) -> dict[str, Any] | None:
    model: Any = None
    if isinstance(tool, BaseTool):
        model = tool.tool_call_schema
    elif isinstance(tool, type) and issubclass(tool, BaseModel):
        model = tool
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    try:
        return model.model_json_schema()
    except Exception:  # a schema pydantic cannot render: keep langchain-core's
        return None


def openai_tool(tool: Mapping[str, Any] | type | Callable[..., Any] | BaseTool) -> dict[str, Any]:
    """``convert_to_openai_tool(tool)``, with a recursive pydantic schema kept as it is."""
    formatted = convert_to_openai_tool(tool)
    schema = _pydantic_schema(tool)
    if schema is None:
        return formatted
    try:
        json_schema_to_gemini(schema)
    except RecursiveSchemaError:
        schema.pop("title", None)
        schema.pop("description", None)
        function = {**formatted["function"], "parameters": schema}
        return {**formatted, "function": function}
    except Exception:  # other problems are reported where the tool is used
        return formatted
    return formatted

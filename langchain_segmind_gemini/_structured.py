"""``with_structured_output`` for ``ChatSegmindGemini``: JSON answers, validated, repaired once.

``json_schema`` and ``json_mode`` run as one runnable that calls the model, parses
the reply (bare JSON, a fenced block, or JSON with prose around it), validates it,
and when that fails sends the conversation back once with the reply and the reason
(the core's ``repair_prompt``) before giving up with ``OutputParserException``.
``function_calling`` binds the schema as a forced tool and reads the call's
arguments, like LangChain's built-in implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableLambda,
)
from langchain_core.utils.function_calling import convert_to_json_schema
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, ValidationError

from segmind_gemini.planning.structured import (
    JSON_ONLY_INSTRUCTION,
    Repair,
    StructuredOutputError,
    arun_repairing,
    extract_json,
    run_repairing,
    validate_json,
)

if TYPE_CHECKING:
    from .chat_models import ChatSegmindGemini

from ._tool_schema import openai_tool, recursive_model_schema

__all__ = ["JSON_ONLY_INSTRUCTION", "structured_output_runnable"]

# Finish reasons meaning the model withheld the answer rather than fumbled the format.
_REFUSALS = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"})


Method = Literal["json_schema", "function_calling", "json_mode"]


def _is_tool_dict(schema: Mapping[str, Any]) -> bool:
    return "function" in schema or "parameters" in schema or "input_schema" in schema


def json_schema_of(schema: Mapping[str, Any] | type) -> dict[str, Any]:
    """The JSON Schema for a pydantic model, TypedDict, tool dict or JSON Schema dict."""
    if isinstance(schema, Mapping) and not _is_tool_dict(schema):
        return dict(schema)  # a plain JSON Schema needs no title here
    converted = convert_to_json_schema(dict(schema) if isinstance(schema, Mapping) else schema)
    # langchain-core turns a cycle into ``{}``; a recursive pydantic model keeps its own
    # schema (with ``$defs``) so the model is told the nested shape.
    kept = recursive_model_schema(schema)
    if kept is not None:
        return {**kept, "title": converted.get("title", kept.get("title"))}
    return converted


class _Reader:
    """Parses and validates a reply; raises StructuredOutputError with a reason."""

    def __init__(self, schema: Mapping[str, Any] | type | None, json_schema: dict[str, Any]):
        self.pydantic = (
            cast(type[BaseModel], schema)
            if isinstance(schema, type) and is_basemodel_subclass(schema)
            else None
        )
        self.json_schema = json_schema

    def __call__(self, message: BaseMessage) -> Any:
        text = message.text
        finish = message.response_metadata.get("finish_reason")
        if not text.strip() and finish in _REFUSALS:
            raise ModelRefusalError(
                f"The model withheld the answer (finish_reason={finish})", raw_message=message
            )
        value = extract_json(text)
        if self.pydantic is not None:
            try:
                if hasattr(self.pydantic, "model_validate"):
                    return self.pydantic.model_validate(value)
                return self.pydantic.parse_obj(value)  # pydantic.v1 models
            except (ValidationError, ValueError, TypeError) as exc:
                raise StructuredOutputError(_short(str(exc)), raw_text=text) from exc
        if self.json_schema:
            problems = validate_json(value, self.json_schema)
            if problems:
                raise StructuredOutputError("; ".join(problems), raw_text=text)
        return value


def _short(text: str, limit: int = 1500) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


class _Repairing:
    """invoke -> parse -> (one repair round trip) -> parsed value (the core's flow)."""

    def __init__(
        self,
        model: ChatSegmindGemini,
        llm: Runnable[LanguageModelInput, BaseMessage],
        reader: _Reader,
        include_raw: bool,
    ) -> None:
        self.model = model
        self.llm = llm
        self.reader = reader
        self.include_raw = include_raw

    @staticmethod
    def _messages(messages: list[BaseMessage], repair: Repair | None) -> list[BaseMessage]:
        if repair is None:
            return messages
        return [*messages, AIMessage(content=repair.raw_text), HumanMessage(content=repair.prompt)]

    def _done(self, raw: BaseMessage, parsed: Any) -> Any:
        if self.include_raw:
            return {"raw": raw, "parsed": parsed, "parsing_error": None}
        return parsed

    def _failed(self, raw: BaseMessage, error: Exception) -> Any:
        if isinstance(error, StructuredOutputError):
            error = OutputParserException(
                f"The model's answer is not valid structured output after one repair attempt: "
                f"{error.reason}",
                llm_output=error.raw_text,
            )
        if self.include_raw:
            return {"raw": raw, "parsed": None, "parsing_error": error}
        raise error

    def run(self, input_: LanguageModelInput, config: RunnableConfig, **kwargs: Any) -> Any:
        """Call arguments (``invoke(x, temperature=0.1)``) go to every model call."""
        messages = self.model._convert_input(input_).to_messages()
        sent: list[BaseMessage] = []

        def send(repair: Repair | None) -> BaseMessage:
            sent.append(self.llm.invoke(self._messages(messages, repair), config, **kwargs))
            return sent[-1]

        try:
            parsed = run_repairing(send, self.reader, self.reader.json_schema)
        except (StructuredOutputError, ModelRefusalError) as exc:
            if not sent:  # the first call itself was refused (a blocked prompt)
                raise
            return self._failed(sent[-1], exc)
        return self._done(sent[-1], parsed)

    async def arun(self, input_: LanguageModelInput, config: RunnableConfig, **kwargs: Any) -> Any:
        """The async form of :meth:`run`."""
        messages = self.model._convert_input(input_).to_messages()
        sent: list[BaseMessage] = []

        async def send(repair: Repair | None) -> BaseMessage:
            raw = await self.llm.ainvoke(self._messages(messages, repair), config, **kwargs)
            sent.append(raw)
            return raw

        try:
            parsed = await arun_repairing(send, self.reader, self.reader.json_schema)
        except (StructuredOutputError, ModelRefusalError) as exc:
            if not sent:  # the first call itself was refused (a blocked prompt)
                raise
            return self._failed(sent[-1], exc)
        return self._done(sent[-1], parsed)


def _require_tool_call(message: AIMessage) -> AIMessage:
    if not message.tool_calls:
        raise OutputParserException(
            "The model answered without calling the schema tool", llm_output=message.text
        )
    return message


def _function_calling(
    model: ChatSegmindGemini,
    schema: Mapping[str, Any] | type,
    include_raw: bool,
    strict: bool | None,
) -> Runnable[LanguageModelInput, Any]:
    tool = openai_tool(schema)
    name = tool["function"]["name"]
    llm = model.bind_tools(
        [tool],
        tool_choice=name,
        ls_structured_output_format={
            "kwargs": {"method": "function_calling", "strict": strict},
            "schema": tool,
        },
    )
    parser: Runnable[Any, Any]
    if isinstance(schema, type) and is_basemodel_subclass(schema):
        parser = PydanticToolsParser(tools=[schema], first_tool_only=True)
    else:
        parser = JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
    parse = RunnableLambda(_require_tool_call) | parser
    if not include_raw:
        return llm | parse

    # A function rather than RunnableMap(raw=llm): a map does not hand call
    # arguments (invoke(x, temperature=0.1)) on to the model.
    def with_raw(raw: AIMessage, config: RunnableConfig) -> dict[str, Any]:
        try:
            parsed = parse.invoke(raw, config)
        except Exception as exc:  # include_raw: every parsing failure is reported, not raised
            return {"raw": raw, "parsed": None, "parsing_error": exc}
        return {"raw": raw, "parsed": parsed, "parsing_error": None}

    def run(input_: LanguageModelInput, config: RunnableConfig, **kwargs: Any) -> Any:
        return with_raw(llm.invoke(input_, config, **kwargs), config)

    async def arun(input_: LanguageModelInput, config: RunnableConfig, **kwargs: Any) -> Any:
        raw = await llm.ainvoke(input_, config, **kwargs)
        try:
            parsed = await parse.ainvoke(raw, config)
        except Exception as exc:
            return {"raw": raw, "parsed": None, "parsing_error": exc}
        return {"raw": raw, "parsed": parsed, "parsing_error": None}

    return RunnableLambda(run, afunc=arun, name="SegmindStructuredOutput")


def structured_output_runnable(
    model: ChatSegmindGemini,
    schema: Mapping[str, Any] | type | None,
    *,
    method: Method,
    include_raw: bool,
    strict: bool | None,
) -> Runnable[LanguageModelInput, Any]:
    """Build what ``ChatSegmindGemini.with_structured_output`` returns."""
    if method not in ("json_schema", "function_calling", "json_mode"):
        raise ValueError(
            f"Unrecognized structured output method {method!r}; expected 'json_schema', "
            "'function_calling' or 'json_mode'"
        )
    if schema is None and method != "json_mode":
        raise ValueError(f"method={method!r} needs a schema (only 'json_mode' works without)")
    if method == "function_calling":
        assert schema is not None
        return _function_calling(model, schema, include_raw, strict)
    json_schema = json_schema_of(schema) if schema is not None else {}
    bound: dict[str, Any] = {}
    if method == "json_schema":
        bound["structured_output"] = {
            "method": method,
            "schema": json_schema,
            "name": json_schema.get("title"),
        }
    else:
        # LangChain's json_mode leaves the schema to the prompt; it is named in the
        # instruction too, since the reply is validated against it anyway.
        bound["structured_output"] = {"method": method, "schema": json_schema or None}
    if schema is not None:
        bound["ls_structured_output_format"] = {
            "kwargs": {"method": method, "strict": strict},
            "schema": json_schema if isinstance(schema, Mapping) else schema,
        }
    llm = model.bind(**bound)
    runner = _Repairing(model, llm, _Reader(schema, json_schema), include_raw)
    return RunnableLambda(runner.run, afunc=runner.arun, name="SegmindStructuredOutput")

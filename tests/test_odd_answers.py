"""Odd answers, deep schemas and odd media (issue 17) and native-mode schemas (issue 18).

Each test pins one reported failure: what used to escape as a foreign exception,
or lose content silently, and what happens now.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from segmind_gemini.errors import InvalidRequestError, ResponseParseError
from segmind_gemini.tokens import count_request_tokens, media_duration, pdf_page_count
from segmind_gemini.tools import ToolSpec, compact_schema, parse_tool_reply, render_tool_instruction
from segmind_gemini.tools.native import (
    decode_encoded,
    function_declaration,
    json_schema_to_gemini,
)
from segmind_gemini.wire.answer import openai_logprobs, token_logprobs
from segmind_gemini.wire.depth import MAX_SCHEMA_DEPTH
from segmind_gemini.wire.response import parse_response


class Node(BaseModel):
    """A tree node (a recursive schema)."""

    name: str
    children: list[Node] = []


def _gemini(parts: list[Any], **extra: Any) -> dict[str, Any]:
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}
    candidate.update(extra.pop("candidate", {}))
    return {"candidates": [candidate], **extra}


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize(
    "tool_calls",
    [["get_weather"], [{"function": "get_weather"}], [{"function": {"name": 3}}], "x"],
)
def test_openai_tool_calls_that_do_not_conform_are_unreadable(tool_calls: Any) -> None:
    body = {"choices": [{"message": {"content": "", "tool_calls": tool_calls}}]}
    with pytest.raises(ResponseParseError, match="tool_calls"):
        parse_response(body)


@pytest.mark.parametrize("arguments", ["{bad", "[1]", "[" * 5000 + "]" * 5000])
def test_openai_tool_call_arguments_that_are_not_an_object_are_unreadable(arguments: str) -> None:
    call = {"id": "c1", "function": {"name": "f", "arguments": arguments}}
    body = {"choices": [{"message": {"content": "", "tool_calls": [call]}}]}
    with pytest.raises(ResponseParseError, match="arguments is not a JSON object"):
        parse_response(body)


def test_openai_tool_call_arguments_are_read_and_repaired() -> None:
    call = {"function": {"name": "f", "arguments": '{"q": "a\\ud800"}'}}
    body = {"choices": [{"message": {"content": None, "tool_calls": [call]}}]}
    (parsed,) = parse_response(body).tool_calls
    assert parsed.args == {"q": "a\ufffd"}


@pytest.mark.parametrize(
    "part",
    [{"functionCall": "get_weather"}, {"functionCall": {"name": "f", "args": "[1]"}}],
)
def test_gemini_tool_calls_that_do_not_conform_are_unreadable(part: Any) -> None:
    with pytest.raises(ResponseParseError, match="functionCall"):
        parse_response(_gemini([part]))


def test_lone_surrogates_anywhere_in_an_answer_are_repaired() -> None:
    body = _gemini(
        [
            {"text": "a\ud800"},
            {"executable_code": {"code": "print('\udfff')"}},
            {"functionCall": {"name": "f", "args": {"q": ["\ud800"]}}},
        ],
        candidate={
            "logprobsResult": {
                "chosenCandidates": [{"token": "\ud800", "logProbability": -0.5}],
                "topCandidates": [{"candidates": [{"token": "x\udc00"}]}],
            },
            "groundingMetadata": {"chunks": [{"title": "\ud83d"}]},
        },
    )
    result = parse_response(body)
    assert result.text == "a\ufffd"
    assert result.tool_calls[0].args == {"q": ["\ufffd"]}
    assert result.grounding_metadata == {"chunks": [{"title": "\ufffd"}]}
    logprobs = openai_logprobs(result.logprobs_result)
    assert logprobs is not None
    assert logprobs["content"][0]["token"] == "\ufffd"
    assert logprobs["content"][0]["top_logprobs"][0]["token"] == "x\ufffd"
    assert "\\ud" not in repr(result.parts).lower()


@pytest.mark.parametrize(
    "logprobs",
    [
        {"chosenCandidates": [{"token": "a"}], "topCandidates": {"a": 1}},
        {"chosenCandidates": {"token": "a"}},
        {"chosenCandidates": [{"token": "a"}], "topCandidates": [{"candidates": {"x": 1}}]},
    ],
)
def test_token_logprobs_of_any_shape_never_raise(logprobs: Any) -> None:
    entries = token_logprobs(logprobs)  # the raw, unchecked shape (KeyError before)
    assert all(isinstance(e["top_logprobs"], list) for e in entries)
    parsed = parse_response(_gemini([{"text": "a"}], candidate={"logprobsResult": logprobs}))
    token_logprobs(parsed.logprobs_result)


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"candidate": {"safetyRatings": 5}}, "candidates[0].safetyRatings"),
        ({"usageMetadata": [1, 2]}, "usageMetadata"),
        ({"usageMetadata": {"promptTokenCount": float("nan")}}, "promptTokenCount"),
        ({"usageMetadata": {"candidatesTokenCount": 1e400}}, "candidatesTokenCount"),
    ],
)
def test_metadata_that_does_not_conform_is_dropped_with_one_warning(
    caplog: pytest.LogCaptureFixture, extra: dict[str, Any], field: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="segmind_gemini"):
        result = parse_response(_gemini([{"text": "hi"}], **extra))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert field in warnings[0].getMessage()
    assert result.text == "hi"
    if "usageMetadata" in extra:
        assert not result.usage.known  # never zero usage the server did not say


def test_usage_is_unknown_when_absent_and_known_when_sent() -> None:
    assert not parse_response(_gemini([{"text": "hi"}])).usage.known
    usage = parse_response(
        _gemini([{"text": "hi"}], usageMetadata={"promptTokenCount": 4, "totalTokenCount": 6})
    ).usage
    assert usage.known and (usage.prompt_tokens, usage.candidates_tokens) == (4, 0)
    bad = parse_response(
        _gemini([{"text": "hi"}], usageMetadata={"promptTokenCount": "4", "totalTokenCount": 6})
    ).usage
    assert bad.unknown == {"prompt_tokens"}
    openai = parse_response({"choices": [{"message": {"content": "hi"}}], "usage": []}).usage
    assert not openai.known


def test_adapters_report_unknown_usage_as_unknown_not_zero() -> None:
    pytest.importorskip("langchain_core")
    pytest.importorskip("llama_index.core")
    from langchain_segmind_gemini._output import to_ai_message
    from llama_index_segmind_gemini._output import chat_response
    from segmind_gemini.tools import ParsedReply

    result = parse_response(_gemini([{"text": "hi"}], usageMetadata={"promptTokenCount": 1e400}))
    reply = ParsedReply("hi")
    assert to_ai_message(result, reply, model="m").usage_metadata is None
    response = chat_response(result, reply)
    assert "prompt_tokens" not in response.additional_kwargs
    assert response.raw is not None and "usage" not in response.raw
    assert "prompt_token_count" not in response.raw["usage_metadata"]
    # LlamaIndex's token counters then estimate instead of counting zero (or failing on None).
    from llama_index.core.callbacks.token_counting import get_tokens_from_response

    assert get_tokens_from_response(response) == (0, 0)


# --------------------------------------------------------------------------- depth


def _deep_schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


def test_one_depth_limit_for_every_schema_path() -> None:
    deep = _deep_schema(3000)
    message = f"nests more than {MAX_SCHEMA_DEPTH} levels"
    with pytest.raises(InvalidRequestError, match=message):
        ToolSpec("t", "", deep)  # prompted and native modes both start here
    with pytest.raises(InvalidRequestError, match=message):
        compact_schema(deep)  # the structured-output instruction
    with pytest.raises(InvalidRequestError, match=message):
        json_schema_to_gemini(deep)
    decl = {"name": "t", "parameters": deep}
    with pytest.raises(InvalidRequestError, match=message):
        count_request_tokens({"contents": [], "tools": [{"functionDeclarations": [decl]}]})
    # Just inside the limit, every path works.
    ok = ToolSpec("t", "", _deep_schema(MAX_SCHEMA_DEPTH - 1))
    assert render_tool_instruction([ok])
    assert function_declaration(ok)["parameters"]["type"] == "OBJECT"


def test_deep_prompted_arguments_are_an_invalid_call_not_recursion_error() -> None:
    nested = "[" * 5000 + "]" * 5000
    reply = '{"tool_calls": [{"name": "f", "arguments": "' + nested + '"}]}'
    parsed = parse_tool_reply(reply, ["f"])
    assert parsed.tool_calls == []
    assert parsed.invalid_tool_calls[0].error == "arguments are nested too deeply"


# --------------------------------------------------------------------------- media headers


def test_empty_mvhd_box_has_no_duration() -> None:
    mvhd = struct.pack(">I", 8) + b"mvhd"
    moov = struct.pack(">I", 8 + len(mvhd)) + b"moov" + mvhd
    mp4 = struct.pack(">I", 16) + b"ftypisom" + b"\0" * 4 + moov
    assert media_duration(mp4, "video/mp4") is None


def test_pdf_with_an_absurd_page_count_counts_its_page_objects() -> None:
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Page >>\n2 0 obj << /Count " + b"9" * 5000 + b" >>"
    assert pdf_page_count(pdf) == 1
    assert pdf_page_count(b"%PDF /Type /Pages /Count 12 ") == 12


# --------------------------------------------------------------------------- native schemas

HTTP_GET = {
    "type": "object",
    "properties": {
        "url": {"type": "string"},
        "params": {"type": "object", "additionalProperties": {"type": "string"}},
        "extra": {},
        "items": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["url", "params"],
}


def test_native_mode_decodes_exactly_what_it_encoded() -> None:
    declared = json_schema_to_gemini(HTTP_GET)["properties"]
    assert declared["params"]["type"] == declared["extra"]["type"] == "STRING"
    args = {
        "url": '{"not": "decoded"}',
        "params": '{"q": "x"}',
        "extra": "[1, 2]",
        "items": ['{"a": 1}', "not json"],
    }
    assert decode_encoded(args, HTTP_GET) == {
        "url": '{"not": "decoded"}',  # a real string stays a string
        "params": {"q": "x"},
        "extra": [1, 2],
        "items": [{"a": 1}, "not json"],
    }
    assert decode_encoded({"params": "[1]"}, HTTP_GET) == {"params": "[1]"}  # not an object


def test_exclusive_bounds_become_bounds_with_a_note() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
            "m": {"type": "number", "minimum": 1, "maximum": 2},
        },
    }
    props = json_schema_to_gemini(schema)["properties"]
    assert props["n"]["minimum"] == 0 and props["n"]["maximum"] == 10
    assert "greater than 0" in props["n"]["description"]
    assert "less than 10" in props["n"]["description"]
    assert props["m"] == {"type": "NUMBER", "minimum": 1, "maximum": 2}


def test_pydantic_gt_lt_reach_the_declaration() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Order(pydantic.BaseModel):
        quantity: int = pydantic.Field(gt=0, lt=100)
        price: float = pydantic.Field(ge=0.5)

    decl = function_declaration(ToolSpec("order", "", Order.model_json_schema()))
    quantity = decl["parameters"]["properties"]["quantity"]
    assert (quantity["minimum"], quantity["maximum"]) == (0, 100)
    assert decl["parameters"]["properties"]["price"]["minimum"] == 0.5


# --------------------------------------------------------------------------- through the adapters


def test_langchain_native_tool_gets_its_dict_argument_back(emu: Any) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.tools import tool

    from langchain_segmind_gemini import ChatSegmindGemini

    @tool
    def http_get(url: str, params: dict[str, str]) -> str:
        """Fetch a URL with query parameters."""
        return f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}"

    model = ChatSegmindGemini(
        api_key=emu.api_key, base_url=emu.base_url, max_retries=0, tool_calling="native"
    )
    try:
        emu.queue_function_call("http_get", {"url": "https://x.test", "params": '{"q": "cats"}'})
        message = model.bind_tools([http_get]).invoke("search cats")
    finally:
        model.close()
    declared = emu.last_request.json["messages"]["tools"][0]["functionDeclarations"][0]
    assert declared["parameters"]["properties"]["params"]["type"] == "STRING"
    (call,) = message.tool_calls
    assert call["args"]["params"] == {"q": "cats"}
    assert http_get.invoke(call).content == "https://x.test?q=cats"


def test_langchain_native_structured_output_with_a_dict_field(emu: Any) -> None:
    pytest.importorskip("langchain_core")
    from pydantic import BaseModel

    from langchain_segmind_gemini import ChatSegmindGemini

    class Request(BaseModel):
        url: str
        params: dict[str, str]

    model = ChatSegmindGemini(
        api_key=emu.api_key, base_url=emu.base_url, max_retries=0, tool_calling="native"
    )
    try:
        emu.queue_text('{"url": "https://x.test", "params": {"q": "cats"}}')
        parsed = model.with_structured_output(Request).invoke("make a request")
    finally:
        model.close()
    assert parsed == Request(url="https://x.test", params={"q": "cats"})
    config = emu.last_request.json["messages"].get("generationConfig", {})
    # responseSchema would declare params as a JSON string; the schema goes in the instruction.
    assert "responseSchema" not in config


def test_llama_index_native_tool_function_gets_a_dict(emu: Any) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.tools import FunctionTool

    from llama_index_segmind_gemini import SegmindGemini

    seen: list[Any] = []

    def http_get(url: str, params: dict[str, str]) -> str:
        """Fetch a URL with query parameters."""
        seen.append(params)
        return "ok"

    llm = SegmindGemini(
        api_key=emu.api_key, base_url=emu.base_url, max_retries=0, tool_calling="native"
    )
    try:
        emu.queue_function_call("http_get", {"url": "https://x.test", "params": '{"q": "cats"}'})
        llm.predict_and_call([FunctionTool.from_defaults(fn=http_get)], "search cats")
    finally:
        llm.close()
    assert seen == [{"q": "cats"}]


def test_recursive_tool_schema_is_declared_as_plain_json_schema(emu: Any) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index_segmind_gemini import SegmindGemini

    tree = ToolSpec(
        "plant",
        "Plant a tree.",
        {
            "type": "object",
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                    },
                }
            },
            "properties": {"root": {"$ref": "#/$defs/Node"}},
        },
    )
    llm = SegmindGemini(
        api_key=emu.api_key, base_url=emu.base_url, max_retries=0, tool_calling="native"
    )
    try:
        emu.queue_text("done")
        llm.chat_with_tools([tree], user_msg="plant one")  # raised InvalidRequestError before
    finally:
        llm.close()
    (decl,) = emu.last_request.json["messages"]["tools"][0]["functionDeclarations"]
    assert decl["parametersJsonSchema"]["properties"]["root"] == {"$ref": "#/$defs/Node"}


def test_langchain_recursive_tool_schema_keeps_its_shape(emu: Any) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.tools import tool

    from langchain_segmind_gemini import ChatSegmindGemini

    @tool
    def plant(root: Node) -> str:
        """Plant a tree."""
        return root.name

    model = ChatSegmindGemini(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)
    try:
        emu.queue_text("ok")
        model.bind_tools([plant]).invoke("plant one")
        emu.queue_text("ok")
        model.bind_tools([plant], tool_calling="native").invoke("plant one")
    finally:
        model.close()
    prompted, native = (r.json["messages"] for r in emu.requests)
    # langchain-core alone says "children": {"items": {}}; the cycle is kept as a $ref.
    assert '"items":{"$ref":"#/$defs/Node"}' in prompted["system_instruction"]["parts"]["text"]
    (decl,) = native["tools"][0]["functionDeclarations"]
    node = decl["parametersJsonSchema"]["$defs"]["Node"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}


_TOKEN_KEYS = st.sampled_from(
    ["contents", "parts", "text", "inlineData", "inline_data", "mimeType", "data", "fileData",
     "generationConfig", "mediaResolution", "tools", "functionDeclarations", "systemInstruction",
     "system_instruction", "messages", "functionCall", "executableCode"]
)  # fmt: skip
_TOKEN_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.sampled_from(["image/png", "application/pdf", "video/mp4", "iVBORw0KGgo=", "LOW"]),
)
_TOKEN_JSON = st.recursive(
    _TOKEN_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_TOKEN_KEYS, inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(derandomize=True, max_examples=400, deadline=None, database=None)
@given(request=st.dictionaries(_TOKEN_KEYS, _TOKEN_JSON, max_size=4))
def test_token_estimates_of_any_request_are_a_count_or_a_library_error(request: Any) -> None:
    try:
        total = count_request_tokens(request)
    except InvalidRequestError:  # an unknown mediaResolution, say: the library's own error
        return
    assert total >= 0


_SCHEMA_KEYS = st.sampled_from(
    ["type", "properties", "items", "anyOf", "oneOf", "allOf", "$ref", "$defs", "enum", "const",
     "format", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "required",
     "additionalProperties", "prefixItems", "description", "A"]
)  # fmt: skip
_SCHEMA_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from(["object", "string", "integer", "array", "null", "#/$defs/A", "#", "uuid"]),
)
_SCHEMA = st.recursive(
    _SCHEMA_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_SCHEMA_KEYS, inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(derandomize=True, max_examples=400, deadline=None, database=None)
@given(schema=st.dictionaries(_SCHEMA_KEYS, _SCHEMA, max_size=5), value=_SCHEMA)
@example(schema={"type": "object", "properties": {"a": {}}, "required": [["a"]]}, value=None)
def test_any_tool_schema_converts_or_is_a_library_error(schema: Any, value: Any) -> None:
    """Every schema path (declaration, prompt, decoding back) on odd schemas."""
    for step in (
        lambda: function_declaration(ToolSpec("t", "", schema)),
        lambda: render_tool_instruction([ToolSpec("t", "", schema)]),
        lambda: decode_encoded(value, schema),
    ):
        try:
            step()
        except InvalidRequestError:
            continue

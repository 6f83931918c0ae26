"""The neutral tool types, the prompted tool-call protocol and the native mapping."""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.tools import (
    InvalidToolCall,
    ToolCall,
    ToolResult,
    ToolSpec,
    compact_schema,
    new_call_id,
    parse_tool_reply,
    render_tool_instruction,
    resolve_tool_choice,
    tool_calls_turn,
    tool_results_turn,
    with_tool_instruction,
)
from segmind_gemini.tools.native import (
    function_call_part,
    function_declarations,
    function_response_part,
    json_schema_to_gemini,
    native_tool_config,
    native_tool_fields,
    native_tools_payload,
    tool_call_from_part,
)

WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city.",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "title": "City"},
            "unit": {"enum": ["c", "f"]},
        },
        "required": ["city"],
    },
)
NOW = ToolSpec("now", "The current time.")
TOOLS = [WEATHER, NOW]


# --------------------------------------------------------------------------- types


def test_new_call_id_shape_and_uniqueness() -> None:
    ids = {new_call_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", i) for i in ids)


@pytest.mark.parametrize("name", ["", "1abc", "has space", "a" * 65, "semi;colon", "ünï"])
def test_toolspec_rejects_illegal_names(name: str) -> None:
    with pytest.raises(InvalidRequestError, match="not a valid function name"):
        ToolSpec(name, "x")


@pytest.mark.parametrize("name", ["a", "_x", "get.weather-v2", "A" * 64])
def test_toolspec_accepts_legal_names(name: str) -> None:
    assert ToolSpec(name).name == name


def test_toolspec_rejects_non_object_parameters() -> None:
    with pytest.raises(InvalidRequestError, match=r"'bad'.*type 'object'"):
        ToolSpec("bad", "", {"type": "string"})
    with pytest.raises(InvalidRequestError, match="'bad'"):
        ToolSpec("bad", "", ["not", "a", "dict"])  # type: ignore[arg-type]


def test_toolspec_from_openai_both_shapes() -> None:
    inner = {"name": "add", "description": "Add.", "parameters": {"type": "object"}}
    assert ToolSpec.from_openai({"type": "function", "function": inner}) == ToolSpec.from_openai(
        inner
    )
    assert ToolSpec.from_openai(inner).description == "Add."


# --------------------------------------------------------------------------- tool choice


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, "auto"),
        ("auto", "auto"),
        ("required", "any"),
        ("ANY", "any"),
        (True, "any"),
        ("none", "none"),
        ("now", "now"),
        ({"type": "function", "function": {"name": "now"}}, "now"),
        ({"type": "tool", "name": "now"}, "now"),
        ({"type": "any"}, "any"),
    ],
)
def test_resolve_tool_choice(choice: Any, expected: str) -> None:
    assert resolve_tool_choice(choice, TOOLS) == expected


def test_resolve_tool_choice_unknown_name_names_the_tools() -> None:
    with pytest.raises(InvalidRequestError, match=r"'nope'.*get_weather, now"):
        resolve_tool_choice("nope", TOOLS)


def test_duplicate_tool_names_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="'now' is defined more than once"):
        render_tool_instruction([NOW, NOW])


# --------------------------------------------------------------------------- rendering


def test_render_auto_lists_tools_schema_and_format() -> None:
    text = render_tool_instruction(TOOLS)
    assert "## get_weather" in text
    assert "## now" in text
    assert "Current weather for a city." in text
    assert '"required":["city"]' in text  # compact schema
    assert '"title"' not in text  # pydantic noise stripped
    assert '{"tool_calls": [{"name": "<tool name>", "arguments": { ... }}]}' in text
    assert "ONLY" in text
    assert "plain text" in text
    assert "several" in text
    assert "MUST" not in text


@pytest.mark.parametrize("choice", ["any", "required"])
def test_render_any_demands_a_call(choice: str) -> None:
    text = render_tool_instruction(TOOLS, choice)
    assert "MUST call at least one tool" in text
    assert "## get_weather" in text
    assert "## now" in text


def test_render_named_choice_lists_only_that_tool() -> None:
    text = render_tool_instruction(TOOLS, "get_weather")
    assert 'MUST call the tool "get_weather"' in text
    assert "## get_weather" in text
    assert "## now" not in text


def test_render_none_forbids_calls_without_listing_schemas() -> None:
    text = render_tool_instruction(TOOLS, "none")
    assert "do not" in text.lower()
    assert "tool_calls" in text
    assert "get_weather" not in text
    assert "Arguments schema" not in text


def test_render_unknown_choice_and_empty_tools() -> None:
    with pytest.raises(InvalidRequestError, match="unknown tool 'missing'"):
        render_tool_instruction(TOOLS, "missing")
    assert render_tool_instruction([]) == ""
    with pytest.raises(InvalidRequestError, match="at least one tool"):
        render_tool_instruction([], "any")


def test_render_does_not_mutate_specs() -> None:
    before = copy.deepcopy(WEATHER.parameters)
    render_tool_instruction(TOOLS)
    function_declarations(TOOLS)
    assert before == WEATHER.parameters


def test_with_tool_instruction_appends_and_never_mutates() -> None:
    system = {"parts": [{"text": "Be brief."}]}
    snapshot = copy.deepcopy(system)
    out = with_tool_instruction(system, TOOLS, "auto")
    assert system == snapshot
    assert out is not None
    # The user's text first, then the tool block, in Segmind's single-part form.
    assert out == {"parts": {"text": "Be brief.\n\n" + render_tool_instruction(TOOLS)}}
    out["parts"]["text"] = "changed"
    assert system == snapshot


def test_with_tool_instruction_other_shapes() -> None:
    # Segmind documents `parts` as a single object.
    single = {"parts": {"text": "Hi."}}
    out = with_tool_instruction(single, [NOW])
    assert out is not None
    assert out == {"parts": {"text": "Hi.\n\n" + render_tool_instruction([NOW])}}
    assert out["parts"]["text"].startswith("Hi.\n\n# Tools")
    out["parts"]["text"] = "changed"
    assert single == {"parts": {"text": "Hi."}}
    fresh = with_tool_instruction(None, [NOW], "now")
    assert fresh is not None
    assert fresh == {"parts": {"text": render_tool_instruction([NOW], "now")}}
    assert "MUST" in fresh["parts"]["text"]
    assert with_tool_instruction(None, []) is None
    assert with_tool_instruction({"parts": [{"text": "x"}]}, []) == {"parts": [{"text": "x"}]}


def test_tool_calls_turn_renders_protocol_json_with_ids() -> None:
    turn = tool_calls_turn(
        [ToolCall("now", {}, "call_a"), ToolCall("get_weather", {"city": "Oslo"}, "call_b")],
        text="Let me check.",
    )
    assert turn["role"] == "model"
    assert len(turn["parts"]) == 1
    text = turn["parts"][0]["text"]
    assert text.startswith("Let me check.\n\n")
    payload = json.loads(text.split("\n\n", 1)[1])
    assert payload == {
        "tool_calls": [
            {"id": "call_a", "name": "now", "arguments": {}},
            {"id": "call_b", "name": "get_weather", "arguments": {"city": "Oslo"}},
        ]
    }


def test_tool_results_turn_names_tool_id_and_errors() -> None:
    turn = tool_results_turn(
        [
            ToolResult("call_a", "now", "12:00"),
            ToolResult("call_b", "get_weather", {"temp": 21, "sky": "clear"}),
            ToolResult("call_c", "get_weather", "city not found", is_error=True),
            ToolResult("call_d", "now", [{"type": "text", "text": "block text"}]),
        ]
    )
    assert turn["role"] == "user"
    text = turn["parts"][0]["text"]
    assert "not a message written by the user" in text
    assert '<tool_result name="now" call_id="call_a">\n12:00\n</tool_result>' in text
    assert '{"temp": 21, "sky": "clear"}' in text
    assert 'call_id="call_c" error="true"' in text
    assert "city not found" in text
    assert "block text" in text
    assert '"type"' not in text
    with pytest.raises(InvalidRequestError):
        tool_results_turn([])


# --------------------------------------------------------------------------- parsing

CALL = '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}'


def _only_call(text: str) -> ToolCall:
    reply = parse_tool_reply(text, TOOLS)
    assert reply.invalid_tool_calls == []
    assert len(reply.tool_calls) == 1
    return reply.tool_calls[0]


def test_parse_bare_object() -> None:
    reply = parse_tool_reply(CALL, TOOLS)
    assert reply.text == ""
    call = reply.tool_calls[0]
    assert (call.name, call.args) == ("get_weather", {"city": "Oslo"})
    assert re.fullmatch(r"call_[0-9a-f]{24}", call.id)


@pytest.mark.parametrize("fence", ["```json", "```JSON", "```"])
def test_parse_fenced_with_prose(fence: str) -> None:
    text = f"I'll look that up.\n{fence}\n{CALL}\n```\nOne moment."
    reply = parse_tool_reply(text, TOOLS)
    assert reply.text == "I'll look that up.\nOne moment."
    assert [c.name for c in reply.tool_calls] == ["get_weather"]


def test_parse_inline_prose_around_bare_object() -> None:
    reply = parse_tool_reply(f"Sure: {CALL}", TOOLS)
    assert reply.text == "Sure:"
    assert reply.tool_calls[0].args == {"city": "Oslo"}


def test_parse_parallel_calls_keep_order_and_ids() -> None:
    text = json.dumps(
        {
            "tool_calls": [
                {"name": "get_weather", "arguments": {"city": "Oslo"}, "id": "call_x"},
                {"name": "get_weather", "arguments": {"city": "Rome"}},
                {"name": "now", "arguments": {}},
            ]
        }
    )
    reply = parse_tool_reply(text, TOOLS)
    assert [c.args.get("city") for c in reply.tool_calls] == ["Oslo", "Rome", None]
    assert reply.tool_calls[0].id == "call_x"
    assert len({c.id for c in reply.tool_calls}) == 3


def test_parse_tolerated_variants() -> None:
    assert _only_call('[{"name": "now", "arguments": {}}]').name == "now"
    assert _only_call('{"tool_calls": [{"name": "now", "args": {}}]}').name == "now"
    assert _only_call(
        '{"tool_calls": [{"name": "get_weather", "parameters": {"city": "Oslo"}}]}'
    ).args == {"city": "Oslo"}
    string_args = (
        '{"tool_calls": [{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}]}'
    )
    assert _only_call(string_args).args == {"city": "Oslo"}
    openai_shape = '{"tool_calls": [{"id": "c1", "function": {"name": "now", "arguments": "{}"}}]}'
    call = _only_call(openai_shape)
    assert (call.name, call.id, call.args) == ("now", "c1", {})
    # A bare single call is accepted for a known tool.
    assert _only_call('{"name": "now", "arguments": {}}').name == "now"
    # Missing arguments means no arguments.
    assert _only_call('{"tool_calls": [{"name": "now"}]}').args == {}


def test_parse_braces_inside_strings() -> None:
    text = (
        'Note: {not json} and "quotes" {\n'
        '{"tool_calls": [{"name": "get_weather", "arguments": '
        '{"city": "O}s{lo \\"]}\\" [x"}}]}\ntrailing } brace'
    )
    reply = parse_tool_reply(text, TOOLS)
    assert reply.tool_calls[0].args == {"city": 'O}s{lo "]}" [x'}
    assert reply.text == 'Note: {not json} and "quotes" {\ntrailing } brace'


def test_parse_invalid_calls_are_reported_not_raised() -> None:
    text = json.dumps(
        {
            "tool_calls": [
                {"name": "delete_everything", "arguments": {}},
                {"name": "get_weather", "arguments": [1, 2]},
                {"name": "get_weather", "arguments": "{broken"},
                {"name": "get_weather", "arguments": "[1]"},
                {"arguments": {"city": "Oslo"}, "id": "c9"},
                "just a string",
                {"name": "now", "arguments": {}},
            ]
        }
    )
    reply = parse_tool_reply(text, TOOLS)
    assert [c.name for c in reply.tool_calls] == ["now"]
    bad = reply.invalid_tool_calls
    assert all(isinstance(b, InvalidToolCall) for b in bad)
    assert [b.name for b in bad] == [
        "delete_everything",
        "get_weather",
        "get_weather",
        "get_weather",
        None,
        None,
    ]
    assert "unknown tool 'delete_everything'" in bad[0].error
    assert "get_weather" in bad[0].error  # lists what is available
    assert "must be a JSON object, got list" in bad[1].error
    assert bad[1].args == "[1,2]"
    assert "not valid JSON" in bad[2].error
    assert bad[2].args == "{broken"
    assert "got list" in bad[3].error
    assert "no tool name" in bad[4].error
    assert bad[4].id == "c9"
    assert "not an object" in bad[5].error


@pytest.mark.parametrize(
    "text",
    [
        "The weather in Oslo is sunny.",
        '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]',  # truncated
        '{"tool_calls": [{"name": "now", "arguments": {}},]}',  # trailing comma
        '{"answer": "Oslo", "confidence": 0.9}',  # a structured answer
        '[{"name": "Ada", "age": 36}]',  # a list that is not calls
        '{"name": "Ada", "arguments": {"x": 1}}',  # bare call shape, unknown name
        '```json\n{"result": {"tool_calls": []}}\n```',  # tool_calls nested in other data
        "",
    ],
)
def test_parse_non_calls_are_plain_text_untouched(text: str) -> None:
    reply = parse_tool_reply(text, TOOLS)
    assert reply.text == text
    assert reply.tool_calls == []
    assert reply.invalid_tool_calls == []


def test_parse_accepts_names_as_tool_list() -> None:
    assert parse_tool_reply(CALL, {"get_weather"}).tool_calls[0].name == "get_weather"
    assert parse_tool_reply(CALL, "get_weather").tool_calls[0].name == "get_weather"


def test_round_trip_calls_turn_parses_back() -> None:
    calls = [
        ToolCall("get_weather", {"city": "Zürich {north}"}, "call_1"),
        ToolCall("now", {}, "call_2"),
    ]
    turn = tool_calls_turn(calls, text="Checking both.")
    reply = parse_tool_reply(turn["parts"][0]["text"], TOOLS)
    assert reply.text == "Checking both."
    assert reply.tool_calls == calls
    assert parse_tool_reply(tool_calls_turn(calls)["parts"][0]["text"], TOOLS).text == ""


# --------------------------------------------------------------------------- native schema


def test_native_declarations_and_payload() -> None:
    decls = function_declarations(TOOLS)
    assert decls[0] == {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "OBJECT",
            "properties": {
                "city": {"type": "STRING"},
                "unit": {"type": "STRING", "enum": ["c", "f"]},
            },
            "required": ["city"],
        },
    }
    # No parameters key: Gemini rejects OBJECT with empty properties.
    assert decls[1] == {"name": "now", "description": "The current time."}
    assert ToolSpec("x", "", {"type": "object", "properties": {}}).has_parameters is False
    assert native_tools_payload(TOOLS) == [{"functionDeclarations": decls}]
    assert native_tools_payload([]) == []


def test_schema_refs_are_inlined_and_input_untouched() -> None:
    schema = {
        "type": "object",
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}},
        "definitions": {"Tag": {"type": "string", "title": "Tag"}},
        "properties": {
            "at": {"$ref": "#/$defs/Point", "description": "Where."},
            "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}, "maxItems": 3},
        },
        "additionalProperties": False,
    }
    before = copy.deepcopy(schema)
    assert json_schema_to_gemini(schema) == {
        "type": "OBJECT",
        "properties": {
            "at": {
                "type": "OBJECT",
                "properties": {"x": {"type": "NUMBER"}},
                "description": "Where.",
            },
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": 3},
        },
    }
    assert schema == before


def test_schema_recursion_falls_back_and_depth_is_a_clear_error() -> None:
    recursive = {
        "type": "object",
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"child": {"$ref": "#/$defs/Node"}, "v": {"type": "integer"}},
            }
        },
        "properties": {"root": {"$ref": "#/$defs/Node"}},
    }
    with pytest.raises(InvalidRequestError, match=r"recursive schema.*Node"):
        json_schema_to_gemini(recursive)
    # A tool with a recursive schema is declared as plain JSON Schema, which takes $ref cycles.
    (decl,) = function_declarations([ToolSpec("tree", "", recursive)])
    assert "parameters" not in decl
    assert decl["parametersJsonSchema"]["$defs"]["Node"]["properties"]["child"] == {
        "$ref": "#/$defs/Node"
    }
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(10):
        deep = {"type": "object", "properties": {"a": deep}}
    with pytest.raises(InvalidRequestError, match="more than 5 levels"):
        json_schema_to_gemini(deep, max_depth=5)
    with pytest.raises(InvalidRequestError, match="does not resolve"):
        json_schema_to_gemini({"properties": {"a": {"$ref": "#/$defs/Missing"}}})


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, {"type": "INTEGER", "nullable": True}),
        ({"oneOf": [{"type": "null"}, {"type": "string"}]}, {"type": "STRING", "nullable": True}),
        ({"type": ["string", "null"]}, {"type": "STRING", "nullable": True}),
        ({"const": "fixed"}, {"type": "STRING", "enum": ["fixed"]}),
        (
            {"type": "string", "enum": ["a", "", None]},
            {"type": "STRING", "enum": ["a"], "nullable": True},
        ),
        (
            {"type": "integer", "enum": [1, 2]},
            {"type": "INTEGER", "description": "Allowed values: 1, 2."},
        ),
        (
            {"type": "string", "format": "date-time", "default": "x", "examples": ["y"]},
            {"type": "STRING", "format": "date-time"},
        ),
        (
            {"type": "string", "format": "uri", "description": "Link."},
            {"type": "STRING", "description": "Link. (format: uri)"},
        ),
        (
            {"type": ["integer", "string"]},
            {"anyOf": [{"type": "INTEGER"}, {"type": "STRING"}]},
        ),
        (
            {"type": "object", "additionalProperties": True},
            {"type": "STRING", "description": "(a JSON object, written as a JSON string)"},
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "zz"]},
            {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["a"]},
        ),
        (
            {"allOf": [{"properties": {"a": {"type": "boolean"}}}], "description": "D."},
            {"type": "OBJECT", "properties": {"a": {"type": "BOOLEAN"}}, "description": "D."},
        ),
    ],
)
def test_schema_keyword_mapping(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert json_schema_to_gemini(schema) == expected


class _Address(BaseModel):
    street: str
    zip_code: str | None = Field(None, description="Postal code.")


class _Order(BaseModel):
    """Place an order."""

    item: str = Field(description="What to buy.")
    quantity: int = Field(1, ge=1, le=99)
    size: Literal["S", "M", "L"] = "M"
    ship_to: _Address | None = None
    notes: list[str] = []


def test_pydantic_schema_converts_cleanly() -> None:
    schema = _Order.model_json_schema()
    out = json_schema_to_gemini(schema)
    dumped = json.dumps(out)
    for gone in ("$ref", "$defs", "title", "default", "anyOf", "additionalProperties"):
        assert gone not in dumped
    props = out["properties"]
    assert out["required"] == ["item"]
    assert props["quantity"] == {"type": "INTEGER", "minimum": 1, "maximum": 99}
    assert props["size"] == {"type": "STRING", "enum": ["S", "M", "L"]}
    assert props["ship_to"]["nullable"] is True
    assert props["ship_to"]["properties"]["zip_code"] == {
        "type": "STRING",
        "description": "Postal code.",
        "nullable": True,
    }
    assert props["notes"] == {"type": "ARRAY", "items": {"type": "STRING"}}


# --------------------------------------------------------------------------- native config/parts


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        ("auto", {"functionCallingConfig": {"mode": "AUTO"}}),
        ("any", {"functionCallingConfig": {"mode": "ANY"}}),
        ("required", {"functionCallingConfig": {"mode": "ANY"}}),
        ("none", {"functionCallingConfig": {"mode": "NONE"}}),
        ("now", {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["now"]}}),
    ],
)
def test_native_tool_config(choice: str | None, expected: dict[str, Any] | None) -> None:
    assert native_tool_config(choice, ["get_weather", "now"]) == expected


def test_native_tool_config_unknown_name() -> None:
    with pytest.raises(InvalidRequestError, match="unknown tool 'later'"):
        native_tool_config("later", TOOLS)


def test_native_tool_fields() -> None:
    assert native_tool_fields([], "any") == {}
    fields = native_tool_fields(TOOLS, "now")
    assert set(fields) == {"tools", "toolConfig"}
    assert "toolConfig" not in native_tool_fields(TOOLS)


def test_function_call_part_echoes_signature_as_sibling() -> None:
    call = ToolCall("get_weather", {"city": "Oslo"}, "call_1", thought_signature="c2ln")
    assert function_call_part(call) == {
        "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_1"},
        "thoughtSignature": "c2ln",
    }
    assert function_call_part(ToolCall("now", {}, "call_2"), include_id=False) == {
        "functionCall": {"name": "now", "args": {}}
    }


def test_function_response_part_always_sends_an_object() -> None:
    def response(content: Any, **kw: Any) -> Any:
        return function_response_part(ToolResult("call_1", "now", content, **kw))[
            "functionResponse"
        ]["response"]

    assert response({"temp": 21}) == {"temp": 21}
    assert response("12:00") == {"result": "12:00"}
    assert response([1, 2]) == {"result": [1, 2]}
    assert response("boom", is_error=True) == {"error": "boom"}
    assert response([{"type": "text", "text": "hi"}]) == {"result": "hi"}
    part = function_response_part(ToolResult("call_1", "now", 3))
    assert part == {"functionResponse": {"name": "now", "id": "call_1", "response": {"result": 3}}}


def test_tool_call_from_part() -> None:
    call = tool_call_from_part(
        {"functionCall": {"name": "now", "args": {"a": 1}}, "thoughtSignature": "sig"}
    )
    assert call is not None
    assert (call.name, call.args, call.thought_signature) == ("now", {"a": 1}, "sig")
    assert call.id.startswith("call_")
    with_id = tool_call_from_part({"functionCall": {"name": "now", "id": "g1"}})
    assert with_id is not None
    assert with_id.id == "g1"
    assert with_id.args == {}
    assert tool_call_from_part({"text": "hello"}) is None


def test_compact_schema_keeps_property_named_title() -> None:
    schema = {
        "title": "Book",
        "properties": {"title": {"title": "Title", "type": "string"}},
        "$defs": {"X": {"title": "X", "type": "integer"}},
    }
    assert compact_schema(schema) == {
        "properties": {"title": {"type": "string"}},
        "$defs": {"X": {"type": "integer"}},
    }


def test_parse_survives_absurd_nesting() -> None:
    text = "[" * 5_000 + " " + CALL
    reply = parse_tool_reply(text, TOOLS)
    assert [c.name for c in reply.tool_calls] == ["get_weather"]
    assert parse_tool_reply("{" * 5_000, TOOLS).text == "{" * 5_000


def test_native_parts_echo_only_ids_the_model_sent() -> None:
    from segmind_gemini.tools import ToolCall, ToolResult, is_generated_call_id, new_call_id
    from segmind_gemini.tools.native import function_call_part, function_response_part

    made_up = new_call_id()
    assert is_generated_call_id(made_up)
    assert "id" not in function_call_part(ToolCall("add", {}, made_up))["functionCall"]
    assert "id" not in function_response_part(ToolResult(made_up, "add", 1))["functionResponse"]
    given = "fc-7f3a"  # an id Gemini itself sent
    assert function_call_part(ToolCall("add", {}, given))["functionCall"]["id"] == given
    assert function_response_part(ToolResult(given, "add", 1))["functionResponse"]["id"] == given

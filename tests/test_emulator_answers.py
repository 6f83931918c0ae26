"""Unscripted emulator answers are type-correct for what the request asked.

So examples run unchanged against a bare ``segmind-gemini emulator``: a response schema
or the structured-output instruction gets a JSON value of that schema, a forced tool
(native or prompted) gets a call whose arguments fit the tool's schema.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel

from segmind_gemini import SegmindGeminiClient
from segmind_gemini.planning.structured import schema_instruction, validate_json
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing._replies import example_value
from segmind_gemini.tools import ToolSpec, parse_tool_reply, render_tool_instruction


class Address(BaseModel):
    street: str
    number: int


class Person(BaseModel):
    name: str
    age: int
    height_m: float
    tags: list[str]
    home: Address
    nickname: str | None = None
    mood: Literal["calm", "busy"]


SCHEMAS: list[dict[str, Any]] = [
    Person.model_json_schema(),
    {"type": "array", "items": {"type": "integer", "minimum": 3}, "minItems": 2},
    {"type": ["null", "number"], "exclusiveMinimum": 0},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "boolean"}}}], "required": ["a"]},
    {"type": "OBJECT", "properties": {"n": {"type": "STRING", "enum": ["x", "y"]}}},
    {"oneOf": [{"type": "null"}, {"const": 7}]},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_example_value_is_valid_for_its_schema(schema: dict[str, Any]) -> None:
    lowered = _lower_types(schema)
    assert validate_json(example_value(schema), lowered) == []


def _lower_types(schema: Any) -> Any:
    # validate_json reads JSON Schema; Gemini's OpenAPI subset spells types in capitals.
    if isinstance(schema, dict):
        return {
            k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def test_strings_say_they_are_emulated() -> None:
    value = example_value(Person.model_json_schema())
    assert value["name"] == "emulated name" and value["home"]["street"] == "emulated street"


def _ask(emu: SegmindEmulator, request: dict[str, Any]) -> Any:
    with SegmindGeminiClient(emu.api_key, base_url=emu.base_url, model="gemini-2.5-flash") as c:
        return c.generate_content(request)


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "parts": [{"text": text}]}]


def test_response_json_schema_gets_a_json_value_of_it(segmind_emulator: SegmindEmulator) -> None:
    schema = Person.model_json_schema()
    result = _ask(
        segmind_emulator,
        {
            "contents": _user("who?"),
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": schema,
            },
        },
    )
    Person.model_validate_json(result.text)


def test_structured_output_instruction_gets_a_json_value(
    segmind_emulator: SegmindEmulator,
) -> None:
    schema = Person.model_json_schema()
    result = _ask(
        segmind_emulator,
        {
            "system_instruction": {"parts": {"text": schema_instruction(schema)}},
            "contents": _user("who?"),
        },
    )
    assert Person.model_validate_json(result.text).home.number == 0


@pytest.mark.parametrize("choice", ["any", "lookup"])
def test_prompted_forced_tool_gets_a_valid_call(
    segmind_emulator: SegmindEmulator, choice: str
) -> None:
    tools = [
        ToolSpec("other", "Unrelated.", {"type": "object", "properties": {}}),
        ToolSpec("lookup", "Find a person.", Person.model_json_schema()),
    ]
    if choice == "any":
        tools.reverse()  # "any": the emulator calls the first listed tool
    result = _ask(
        segmind_emulator,
        {
            "system_instruction": {"parts": {"text": render_tool_instruction(tools, choice)}},
            "contents": _user("find Ada"),
        },
    )
    parsed = parse_tool_reply(result.text, tools)
    assert [call.name for call in parsed.tool_calls] == ["lookup"]
    Person.model_validate(parsed.tool_calls[0].args)


def test_prompted_auto_choice_stays_a_description(segmind_emulator: SegmindEmulator) -> None:
    tools = [ToolSpec("lookup", "Find a person.", Person.model_json_schema())]
    result = _ask(
        segmind_emulator,
        {
            "system_instruction": {"parts": {"text": render_tool_instruction(tools, "auto")}},
            "contents": _user("hi"),
        },
    )
    assert result.text.startswith("emulated reply: 1 text part")


def test_native_forced_tool_args_fit_nested_schema(segmind_emulator: SegmindEmulator) -> None:
    schema = Person.model_json_schema()
    result = _ask(
        segmind_emulator,
        {
            "contents": _user("find Ada"),
            "tools": [{"functionDeclarations": [{"name": "lookup", "parameters": schema}]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        },
    )
    Person.model_validate(result.tool_calls[0].args)


def test_langchain_structured_output_runs_unscripted(segmind_emulator: SegmindEmulator) -> None:
    from langchain_segmind_gemini import ChatSegmindGemini

    model = ChatSegmindGemini(
        model="gemini-2.5-flash",
        api_key=segmind_emulator.api_key,
        base_url=segmind_emulator.base_url,
    )
    for method in ("json_schema", "function_calling"):
        person = model.with_structured_output(Person, method=method).invoke("Ada?")
        assert isinstance(person, Person) and person.name == "emulated name"


# -- scripts: segmind-gemini emulator --script FILE.jsonl --------------------------------

SCRIPT_LINES = [
    '{"kind": "text", "text": "scripted answer: hello", "thoughts": "scripted thought"}',
    "# comments and blank lines are skipped",
    "",
    '{"kind": "function_call", "name": "get_weather", "args": {"city": "Oslo"}}',
    '{"kind": "prompted_tool_call", "name": "get_weather", "args": {"city": "Bergen"}}',
    '{"kind": "error", "status": 400, "message": "scripted 400: bad field"}',
    '{"kind": "fault", "fault": "blocked", "reason": "PROHIBITED_CONTENT"}',
]


def test_queue_script_queues_each_kind_in_order(
    segmind_emulator: SegmindEmulator, tmp_path: Any
) -> None:
    from segmind_gemini import BadRequestError, ContentBlockedError

    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(SCRIPT_LINES) + "\n")
    assert segmind_emulator.queue_script(path) == 5
    request = {"contents": _user("hi")}
    first = _ask(segmind_emulator, request)
    assert (first.text, first.thoughts) == ("scripted answer: hello", "scripted thought")
    assert _ask(segmind_emulator, request).tool_calls[0].args == {"city": "Oslo"}
    assert '"Bergen"' in _ask(segmind_emulator, request).text
    with pytest.raises(BadRequestError, match="scripted 400"):
        _ask(segmind_emulator, request)
    with pytest.raises(ContentBlockedError):
        _ask(segmind_emulator, request)
    assert _ask(segmind_emulator, request).text.startswith("emulated reply")  # script used up


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "answers.jsonl:2: not a JSON object"),
        ('{"text": "no kind"}', 'answers.jsonl:2: each line needs a "kind"'),
        (
            '{"kind": "text", "txt": "typo"}',
            r"answers.jsonl:2: queue_text\(\) takes text, .*; not txt",
        ),
        ('{"kind": "fault", "fault": "meteor"}', "answers.jsonl:2: unknown fault kind 'meteor'"),
        ('{"kind": "fault", "fault": "slow", "reason": "x"}', "answers.jsonl:2: fault 'slow'"),
    ],
)
def test_a_bad_script_line_is_named_and_nothing_is_queued(
    segmind_emulator: SegmindEmulator, tmp_path: Any, line: str, message: str
) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text(SCRIPT_LINES[0] + "\n" + line + "\n")
    with pytest.raises(ValueError, match=message):
        segmind_emulator.queue_script(path)
    assert segmind_emulator.pending == 0


def test_emulator_command_serves_a_script(tmp_path: Any) -> None:
    import socket
    import subprocess
    import sys

    import httpx

    path = tmp_path / "answers.jsonl"
    path.write_text(SCRIPT_LINES[0] + "\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "segmind_gemini.cli", "emulator", "--port", str(port)]
    bad = subprocess.run(
        [*command, "--script", str(tmp_path / "missing.jsonl")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert bad.returncode == 2 and "missing.jsonl" in bad.stderr and "Traceback" not in bad.stderr
    with subprocess.Popen(
        [*command, "--script", str(path)], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            banner = ""
            while "Ctrl-C" not in banner:
                banner += proc.stdout.readline()
            assert "1 scripted answers queued" in banner
            url = f"http://127.0.0.1:{port}/v1/gemini-2.5-flash"
            body = {"messages": {"contents": _user("hi")}}
            headers = {"x-api-key": "emulator-key"}
            first = httpx.post(url, json=body, headers=headers).json()
            assert first["candidates"][0]["content"]["parts"][1]["text"] == "scripted answer: hello"
            second = httpx.post(url, json=body, headers=headers).json()
            assert second["candidates"][0]["content"]["parts"][0]["text"].startswith("emulated")
        finally:
            proc.terminate()
            proc.wait(timeout=10)

"""Structured-output helpers: instruction, extraction, validation, repair."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from segmind_gemini.errors import InvalidRequestError, SegmindError
from segmind_gemini.planning.structured import (
    StructuredOutputError,
    extract_json,
    gemini_response_schema,
    repair_prompt,
    schema_instruction,
    validate_json,
)

PERSON = {
    "title": "Person",
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
        "role": {"enum": ["admin", "user"]},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_schema_instruction_includes_compact_schema_and_name() -> None:
    text = schema_instruction(PERSON, name="Person")
    assert "ONLY a JSON value" in text
    assert '(named "Person")' in text
    assert '"required":["name","age"]' in text
    assert '"title"' not in text
    assert "Person" in text  # from the name, not the stripped title


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("  [1, 2]\n", [1, 2]),
        ("42", 42),
        ('"just a string"', "just a string"),
        ('```json\n{"a": {"b": "}"}}\n```', {"a": {"b": "}"}}),
        ('Here it is:\n```\n{"a": 1}\n```\nAnything else?', {"a": 1}),
        ('Sure! {"a": "x {y} z"} hope that helps', {"a": "x {y} z"}),
        # The largest value wins over a citation-like list in the prose.
        ('As noted in [1], the answer is {"a": [1, 2, 3]}.', {"a": [1, 2, 3]}),
        # A broken fence falls back to scanning.
        ('```json\n{"a": 1,}\n```\nCorrected: {"a": 1}', {"a": 1}),
    ],
)
def test_extract_json(text: str, expected: Any) -> None:
    assert extract_json(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("I cannot answer that.", "no JSON"),
        ('{"a": 1', "incomplete or malformed"),
        ("```json\n{'a': 1}\n```", "code block is not valid JSON"),
    ],
)
def test_extract_json_errors_carry_raw_text_and_reason(text: str, reason: str) -> None:
    with pytest.raises(StructuredOutputError) as info:
        extract_json(text)
    err = info.value
    assert reason in err.reason
    assert reason in str(err)
    assert err.raw_text == text
    assert isinstance(err, ValueError)
    assert isinstance(err, SegmindError)


def test_repair_prompt_shows_reply_error_and_schema() -> None:
    prompt = repair_prompt("{oops", "missing required property 'age'", PERSON)
    assert "missing required property 'age'" in prompt
    assert "<previous_reply>\n{oops\n</previous_reply>" in prompt
    assert '"required":["name","age"]' in prompt
    long = repair_prompt("x" * 10_000, "bad", PERSON)
    assert "[... truncated]" in long
    assert len(long) < 6000


def test_validate_json() -> None:
    assert validate_json({"name": "Ada", "age": 36, "tags": ["x"], "role": "user"}, PERSON) == []
    problems = validate_json({"age": -1, "tags": [1], "role": "root", "extra": True}, PERSON)
    assert problems == [
        "$: missing required property 'name'",
        "$.age: must be >= 0",
        "$.tags[0]: expected string, got integer",
        '$.role: "root" is not one of "admin", "user"',
        "$: unexpected property 'extra'",
    ]
    assert validate_json([], PERSON) == ["$: expected object, got array"]
    assert validate_json(3.0, {"type": "integer"}) == []
    assert validate_json(True, {"type": "integer"}) == ["$: expected integer, got boolean"]


def test_validate_json_refs_and_unions() -> None:
    schema = {
        "$defs": {"Pt": {"type": "object", "required": ["x"]}},
        "properties": {"p": {"anyOf": [{"$ref": "#/$defs/Pt"}, {"type": "null"}]}},
    }
    assert validate_json({"p": None}, schema) == []
    assert validate_json({"p": {"x": 1}}, schema) == []
    assert validate_json({"p": {}}, schema) == ["$.p: matches none of the allowed alternatives"]


class _Movie(BaseModel):
    title: str
    year: int
    rating: float | None = None


def test_pydantic_schema_round_trip() -> None:
    schema = _Movie.model_json_schema()
    reply = 'Here you go:\n```json\n{"title": "Alien", "year": 1979}\n```'
    data = extract_json(reply)
    assert validate_json(data, schema) == []
    assert _Movie.model_validate(data).year == 1979
    assert gemini_response_schema(schema) == {
        "type": "OBJECT",
        "properties": {
            "title": {"type": "STRING"},
            "year": {"type": "INTEGER"},
            "rating": {"type": "NUMBER", "nullable": True},
        },
        "required": ["title", "year"],
    }
    assert json.loads(json.dumps(gemini_response_schema(schema)))  # plain JSON


def test_gemini_response_schema_refuses_free_form_object() -> None:
    with pytest.raises(InvalidRequestError, match="responseMimeType"):
        gemini_response_schema({"type": "object"})
    assert gemini_response_schema({"type": "string"}) == {"type": "STRING"}


def test_extract_json_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(StructuredOutputError, match="nests too deeply"):
        extract_json("[" * 5_000)
    assert extract_json("{" * 5_000 + ' then {"ok": true}') == {"ok": True}

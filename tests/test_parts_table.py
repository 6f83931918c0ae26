"""The parts table (segmind_gemini/wire/parts.py) and everything that reads it agree.

For every kind in ``PARTS`` (in both spellings) these tests drive the real users:
the answer parser and checker, ``answer_blocks``, both adapters' answer
conversion, token counting and request validation. A new kind added to the table
without teaching one of them what it is fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from segmind_gemini.errors import ResponseParseError
from segmind_gemini.tokens import _COUNTERS, count_part_tokens
from segmind_gemini.wire.answer import BLOCK_BUILDERS, answer_blocks, has_rich_parts
from segmind_gemini.wire.parts import PART_KEYS, PARTS, RICH_ANSWERS, PartKind
from segmind_gemini.wire.request import PART_KEYS as REQUEST_PART_KEYS
from segmind_gemini.wire.request import validate_request
from segmind_gemini.wire.response import parse_response

# One valid value per kind. A kind missing here fails test_every_kind_has_a_sample.
SAMPLES: dict[str, Any] = {
    "text": "The sum is 2.",
    "inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"},
    "fileData": {"mimeType": "image/jpeg", "fileUri": "gs://bucket/cat.jpg"},
    "functionCall": {"name": "add", "args": {"a": 1}},
    "functionResponse": {"name": "add", "response": {"result": 3}},
    "executableCode": {"language": "PYTHON", "code": "print(1 + 1)"},
    "codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "2\n"},
}
# What a wrong-shaped value of each kind looks like.
WRONG: dict[str, Any] = {
    "text": 5,
    "inlineData": "not an object",
    "fileData": ["x"],
    "functionCall": "add(1)",
    "functionResponse": 7,
    "executableCode": "print(1)",
    "codeExecutionResult": True,
}

SPELLINGS = [(kind, key) for kind in PARTS for key in kind.keys]


def _answer(part: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 9},
    }


def test_every_kind_has_a_sample_and_both_spellings_are_part_keys() -> None:
    assert set(SAMPLES) == {k.camel for k in PARTS} == set(WRONG)
    assert {key for kind in PARTS for key in kind.keys} == PART_KEYS
    assert REQUEST_PART_KEYS is PART_KEYS  # request validation reads the table itself
    assert "inline_data" in PART_KEYS and "code_execution_result" in PART_KEYS


def test_every_answer_and_tokens_strategy_has_a_handler() -> None:
    for kind in PARTS:
        assert kind.tokens in _COUNTERS, f"tokens has no counter for {kind.camel}"
        if kind.answer is not None:
            assert kind.answer in BLOCK_BUILDERS, f"answer has no builder for {kind.camel}"


@pytest.mark.parametrize(("kind", "key"), SPELLINGS, ids=[k for _, k in SPELLINGS])
def test_request_validation_accepts_each_kind(kind: PartKind, key: str) -> None:
    request = {"contents": [{"role": "user", "parts": [{key: SAMPLES[kind.camel]}]}]}
    validate_request(request)  # a part holding only this kind is a part


@pytest.mark.parametrize(("kind", "key"), SPELLINGS, ids=[k for _, k in SPELLINGS])
def test_token_counting_counts_each_kind(kind: PartKind, key: str) -> None:
    assert count_part_tokens({key: SAMPLES[kind.camel]}) > 0


@pytest.mark.parametrize(("kind", "key"), SPELLINGS, ids=[k for _, k in SPELLINGS])
def test_the_parser_keeps_each_kind_and_refuses_it_misshapen(kind: PartKind, key: str) -> None:
    result = parse_response(_answer({key: SAMPLES[kind.camel]}))
    assert result.parts == [{key: SAMPLES[kind.camel]}]
    if kind.answer == "text":
        assert result.text == SAMPLES["text"]
    elif kind.answer == "tool_call":
        assert [(c.name, c.args) for c in result.tool_calls] == [("add", {"a": 1})]
    elif kind.answer == "media":
        assert result.images == [SAMPLES["inlineData"]]
    # Content that does not have its kind's shape is an unreadable answer, not a silent loss.
    with pytest.raises(ResponseParseError, match=key):
        parse_response(_answer({key: WRONG[kind.camel]}))


@pytest.mark.parametrize(("kind", "key"), SPELLINGS, ids=[k for _, k in SPELLINGS])
def test_answer_blocks_and_both_adapters_show_each_kind(kind: PartKind, key: str) -> None:
    pytest.importorskip("langchain_core")
    pytest.importorskip("llama_index.core")
    from langchain_segmind_gemini._output import to_ai_message
    from llama_index_segmind_gemini._output import chat_response
    from segmind_gemini.tools import ParsedReply

    result = parse_response(_answer({"text": "Here:"} | {key: SAMPLES[kind.camel]}))
    reply = ParsedReply(result.text, result.tool_calls)
    blocks = answer_blocks(result)
    assert has_rich_parts(result) == (kind.answer in RICH_ANSWERS)
    message = to_ai_message(result, reply, model="gemini-2.5-flash")
    li_blocks = chat_response(result, reply).message.blocks
    shown = {type(b).__name__ for b in li_blocks}
    if kind.answer in RICH_ANSWERS:
        expected = {"media": ("image",), "code": ("code",), "code_result": ("code_result",)}
        assert blocks[-1]["kind"] in (*expected[kind.answer], "file")
        # LangChain: standard content blocks, one per answer block.
        assert isinstance(message.content, list) and len(message.content) == len(blocks)
        assert len(li_blocks) >= len(blocks)
    elif kind.answer == "tool_call":
        assert [c["name"] for c in message.tool_calls] == ["add"]
        assert "ToolCallBlock" in shown
    else:  # text, or a request-only kind: only the text shows
        assert message.content == result.text
        assert shown <= {"TextBlock"}

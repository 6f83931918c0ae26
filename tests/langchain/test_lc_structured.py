"""with_structured_output against the local Segmind emulator (answers are scripted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.messages import AIMessage
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_segmind_gemini import ChatSegmindGemini
from segmind_gemini.testing import SegmindEmulator

Make = Callable[..., ChatSegmindGemini]


class City(BaseModel):
    """A city and its country."""

    name: str = Field(description="the city's name")
    country: str
    population: int | None = None


class CityDict(TypedDict):
    """A city and its country."""

    name: str
    country: str


CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "country": {"type": "string"}},
    "required": ["name", "country"],
}


def system_text(emu: SegmindEmulator, index: int = 0) -> str:
    parts = emu.requests[index].messages["system_instruction"]["parts"]
    # Segmind documents system_instruction.parts as a single object, not a list.
    assert isinstance(parts, dict) and list(parts) == ["text"], parts
    return parts["text"]


def test_json_schema_parses_a_fenced_answer_into_the_model(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text('Sure!\n```json\n{"name": "Oslo", "country": "Norway"}\n```')
    city = model.with_structured_output(City).invoke("Capital of Norway?")
    assert city == City(name="Oslo", country="Norway")
    text = system_text(emu)
    assert "Answer with ONLY a JSON value" in text
    assert '"country"' in text and '"title"' not in text
    assert "generationConfig" not in emu.requests[0].messages  # prompt mode: no JSON mode flags


def test_invalid_json_gets_one_repair_round_trip(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text('{"name": "Oslo"}')  # missing the required country
    emu.queue_text('{"name": "Oslo", "country": "Norway"}')
    city = model.with_structured_output(City).invoke("Capital of Norway?")
    assert city == City(name="Oslo", country="Norway")

    assert len(emu.requests) == 2
    repair = emu.requests[1].messages["contents"]
    assert [c["role"] for c in repair] == ["user", "model", "user"]
    assert repair[1]["parts"] == [{"text": '{"name": "Oslo"}'}]
    follow_up = repair[2]["parts"][0]["text"]
    assert follow_up.startswith("Your previous reply could not be used:")
    assert "country" in follow_up and '{"name": "Oslo"}' in follow_up


async def test_async_repair(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("I think it is Oslo, Norway.")
    emu.queue_text('{"name": "Oslo", "country": "Norway"}')
    city = await model.with_structured_output(City).ainvoke("Capital of Norway?")
    assert city == City(name="Oslo", country="Norway")
    assert "contains no JSON" in emu.requests[1].messages["contents"][-1]["parts"][0]["text"]


def test_a_second_bad_answer_raises_with_the_raw_text(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text("not json")
    emu.queue_text('{"name": 42}')
    with pytest.raises(OutputParserException) as info:
        model.with_structured_output(City).invoke("Capital of Norway?")
    assert info.value.llm_output == '{"name": 42}'
    assert "after one repair attempt" in str(info.value)
    assert len(emu.requests) == 2


def test_include_raw_returns_the_message_and_never_raises(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text('{"name": "Oslo", "country": "Norway"}')
    out = model.with_structured_output(City, include_raw=True).invoke("q")
    assert isinstance(out, dict)
    assert out["parsed"] == City(name="Oslo", country="Norway")
    assert out["parsing_error"] is None and isinstance(out["raw"], AIMessage)

    emu.queue_text("nope").queue_text("still nope")
    out = model.with_structured_output(City, include_raw=True).invoke("q")
    assert isinstance(out, dict)
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], OutputParserException)
    assert out["raw"].content == "still nope"


@pytest.mark.parametrize("schema", [CityDict, CITY_SCHEMA], ids=["typeddict", "json-schema"])
def test_dict_schemas_validate_and_repair(
    model: ChatSegmindGemini, emu: SegmindEmulator, schema: Any
) -> None:
    emu.queue_text('{"name": "Oslo", "country": 47}')
    emu.queue_text('{"name": "Oslo", "country": "Norway"}')
    out = model.with_structured_output(schema).invoke("q")
    assert out == {"name": "Oslo", "country": "Norway"}
    assert (
        "$.country: expected string, got integer"
        in (emu.requests[1].messages["contents"][-1]["parts"][0]["text"])
    )


def test_native_mode_also_sets_json_mime_type_and_response_schema(
    make_model: Make, emu: SegmindEmulator
) -> None:
    emu.queue_text('{"name": "Oslo", "country": "Norway"}')
    make_model(tool_calling="native").with_structured_output(City).invoke("q")
    config = emu.requests[0].messages["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"]["type"] == "OBJECT"
    assert set(config["responseSchema"]["properties"]) == {"name", "country", "population"}


def test_function_calling_method_forces_the_schema_tool(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_prompted_tool_call("City", {"name": "Oslo", "country": "Norway"})
    city = model.with_structured_output(City, method="function_calling").invoke("q")
    assert city == City(name="Oslo", country="Norway")
    assert 'MUST call the tool "City"' in system_text(emu)

    emu.queue_prompted_tool_call("CityDict", {"name": "Oslo", "country": "Norway"})
    assert model.with_structured_output(CityDict, method="function_calling").invoke("q") == {
        "name": "Oslo",
        "country": "Norway",
    }


def test_function_calling_without_a_call_is_a_parsing_error(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text("Oslo, Norway")
    with pytest.raises(OutputParserException, match="without calling the schema tool"):
        model.with_structured_output(City, method="function_calling").invoke("q")
    emu.queue_text("Oslo, Norway")
    out = model.with_structured_output(City, method="function_calling", include_raw=True).invoke(
        "q"
    )
    assert isinstance(out, dict) and out["parsed"] is None and out["parsing_error"] is not None


def test_json_mode_asks_for_json_only(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text('```\n{"anything": [1, 2]}\n```')
    assert model.with_structured_output(None, method="json_mode").invoke("q") == {
        "anything": [1, 2]
    }
    text = system_text(emu)
    assert "ONLY a valid JSON value" in text and "JSON Schema" not in text
    emu.queue_text('{"name": "Oslo", "country": "Norway"}')
    assert model.with_structured_output(City, method="json_mode").invoke("q") == City(
        name="Oslo", country="Norway"
    )


def test_a_withheld_answer_is_a_refusal_not_a_parsing_error(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_response(
        {
            "candidates": [{"content": {}, "finishReason": "SAFETY"}],
            "usageMetadata": {"promptTokenCount": 1, "totalTokenCount": 1},
        }
    )
    with pytest.raises(ModelRefusalError, match="finish_reason=SAFETY"):
        model.with_structured_output(City).invoke("q")
    assert len(emu.requests) == 1


@pytest.mark.parametrize("include_raw", [False, True])
async def test_a_blocked_prompt_raises_the_refusal_sync_and_async(
    model: ChatSegmindGemini, emu: SegmindEmulator, include_raw: bool
) -> None:
    # The first call raises, so there is no raw message to attach (was IndexError).
    structured = model.with_structured_output(City, include_raw=include_raw)
    emu.queue_response({"promptFeedback": {"blockReason": "SAFETY"}})
    with pytest.raises(ModelRefusalError, match="blocked"):
        structured.invoke("q")
    emu.queue_response({"promptFeedback": {"blockReason": "SAFETY"}})
    with pytest.raises(ModelRefusalError, match="blocked"):
        await structured.ainvoke("q")


def test_structured_output_batches(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    for i in range(3):
        emu.queue_text(json.dumps({"name": f"c{i}", "country": "x"}))
    out = model.with_structured_output(City).batch(["a", "b", "c"])
    assert sorted(c.name for c in out) == ["c0", "c1", "c2"]  # type: ignore[union-attr]


def test_tracing_metadata_names_the_method(model: ChatSegmindGemini) -> None:
    runnable = model.with_structured_output(City, strict=True)
    bound = runnable.func.__self__.llm  # type: ignore[attr-defined]
    assert bound.kwargs["ls_structured_output_format"]["kwargs"] == {
        "method": "json_schema",
        "strict": True,
    }


def test_bad_arguments(model: ChatSegmindGemini) -> None:
    with pytest.raises(ValueError, match="Unrecognized structured output method"):
        model.with_structured_output(City, method="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a schema"):
        model.with_structured_output(None)
    with pytest.raises(ValueError, match="unsupported arguments"):
        model.with_structured_output(City, tools=[])


class Node(BaseModel):
    """A tree node."""

    name: str
    children: list[Node] = []


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_a_recursive_model_is_described_whole_and_parsed(
    model: ChatSegmindGemini, emu: SegmindEmulator, method: str
) -> None:
    # langchain-core turns the cycle into {}: the model would be told nothing about
    # "children" and answer it with anything. The pydantic schema keeps its $defs.
    structured = model.with_structured_output(Node, method=method)
    tree = structured.invoke("a tree")
    assert isinstance(tree, Node)
    assert tree.children and isinstance(tree.children[0], Node)  # the emulator followed $ref
    prompt = system_text(emu)
    assert "$defs" in prompt and "(no arguments)" not in prompt


@pytest.mark.parametrize("mode", ["prompt", "native"])
def test_json_mode_with_a_schema_names_it_and_works_on_a_bare_emulator(
    make_model: Make, emu: SegmindEmulator, mode: str
) -> None:
    # Nothing scripted: the emulator answers type-correct JSON for the schema the
    # instruction names. Natively, JSON mode sets the MIME type but declares no schema.
    city = make_model(tool_calling=mode).with_structured_output(City, method="json_mode")
    assert isinstance(city.invoke("q"), City)
    assert "JSON Schema" in system_text(emu)
    config = emu.requests[-1].messages.get("generationConfig", {})
    assert "responseSchema" not in config and "responseJsonSchema" not in config
    assert (config.get("responseMimeType") == "application/json") == (mode == "native")

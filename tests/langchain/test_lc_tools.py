"""Tool calling in both modes, and an agent loop, against the local Segmind emulator.

Every model answer here is scripted on the emulator (a stand-in for Segmind's HTTP
API, not a model); the tests check the requests the adapter sent and the messages
the user got back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from langchain_segmind_gemini import ChatSegmindGemini
from segmind_gemini.testing import SegmindEmulator

Make = Callable[..., ChatSegmindGemini]


def system_text(messages: Mapping[str, Any]) -> str:
    """The system instruction's text, in Segmind's documented single-part form."""
    parts = messages["system_instruction"]["parts"]
    assert isinstance(parts, dict) and list(parts) == ["text"], parts
    return str(parts["text"])


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"12C and rain in {city}"


class Add(BaseModel):
    """Add two integers."""

    a: int = Field(description="first addend")
    b: int = Field(description="second addend")


def test_prompt_mode_round_trip(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    bound = model.bind_tools([get_weather])
    emu.queue_prompted_tool_call("get_weather", {"city": "Oslo"}, fenced=True)
    first = bound.invoke([HumanMessage("Weather in Oslo?")])

    assert first.content == ""
    assert len(first.tool_calls) == 1
    call = first.tool_calls[0]
    assert call["name"] == "get_weather" and call["args"] == {"city": "Oslo"}
    assert call["id"]
    sent = emu.requests[0].messages
    # Segmind drops `tools`, so the prompted protocol describes them in the system text.
    assert "tools" not in sent and "toolConfig" not in sent
    text = system_text(sent)
    assert "get_weather" in text and '"tool_calls"' in text

    result = get_weather.invoke(call)
    assert isinstance(result, ToolMessage)
    emu.queue_text("It is 12C and raining in Oslo.")
    final = bound.invoke([HumanMessage("Weather in Oslo?"), first, result])
    assert final.content == "It is 12C and raining in Oslo."
    assert final.tool_calls == []

    contents = emu.requests[1].messages["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    echoed = json.loads(contents[1]["parts"][0]["text"])
    assert echoed["tool_calls"][0]["id"] == call["id"]
    assert (
        f'<tool_result name="get_weather" call_id="{call["id"]}">'
        in (contents[2]["parts"][0]["text"])
    )
    assert "12C and rain in Oslo" in contents[2]["parts"][0]["text"]


def test_native_mode_round_trip_echoes_thought_signatures(
    make_model: Make, emu: SegmindEmulator
) -> None:
    bound = make_model(tool_calling="native").bind_tools([get_weather], tool_choice="any")
    emu.queue_function_call("get_weather", {"city": "Paris"}, thought_signature="c2lnLTE=")
    first = bound.invoke("Weather in Paris?")

    sent = emu.requests[0].messages
    assert sent["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Current weather for a city.",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {"city": {"type": "STRING"}},
                        "required": ["city"],
                    },
                }
            ]
        }
    ]
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert "system_instruction" not in sent
    call = first.tool_calls[0]
    assert call["args"] == {"city": "Paris"}
    assert first.additional_kwargs["thought_signatures"] == {call["id"]: "c2lnLTE="}

    emu.queue_text("Mild in Paris.")
    final = bound.invoke([HumanMessage("Weather in Paris?"), first, get_weather.invoke(call)])
    assert final.content == "Mild in Paris."
    contents = emu.requests[1].messages["contents"]
    assert contents[1]["parts"][0] == {
        # the id was made up locally (Gemini sent none), so it is not echoed to Gemini
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
        "thoughtSignature": "c2lnLTE=",
    }
    assert contents[2]["parts"][0]["functionResponse"]["name"] == "get_weather"


def test_tool_calling_mode_can_be_chosen_per_binding(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    model.bind_tools([get_weather], tool_calling="native").invoke("x")
    assert "tools" in emu.requests[0].messages


def test_parallel_calls_and_invalid_calls(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_prompted_tool_calls(
        [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Rome"}), ("teleport", {})]
    )
    msg = model.bind_tools([get_weather]).invoke("Oslo and Rome?")
    assert [c["args"]["city"] for c in msg.tool_calls] == ["Oslo", "Rome"]
    assert len({c["id"] for c in msg.tool_calls}) == 2
    assert len(msg.invalid_tool_calls) == 1
    bad = msg.invalid_tool_calls[0]
    assert bad["name"] == "teleport"
    assert bad["error"] is not None and "unknown tool 'teleport'" in bad["error"]


def test_native_unknown_function_is_an_invalid_call(make_model: Make, emu: SegmindEmulator) -> None:
    emu.queue_function_call("rm_rf", {"path": "/"})
    msg = make_model(tool_calling="native").bind_tools([get_weather]).invoke("x")
    assert msg.tool_calls == []
    assert msg.invalid_tool_calls[0]["name"] == "rm_rf"


def test_streamed_invalid_calls_keep_their_error(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_prompted_tool_calls([("get_weather", {"city": "Oslo"}), ("teleport", {})])
    (chunk,) = model.bind_tools([get_weather]).stream("x")
    assert [c["name"] for c in chunk.tool_calls] == ["get_weather"]
    assert chunk.invalid_tool_calls[0]["name"] == "teleport"


@pytest.mark.parametrize(
    ("choice", "native_config", "prompt_needle"),
    [
        ("auto", {"functionCallingConfig": {"mode": "AUTO"}}, "Call a tool when it helps"),
        ("required", {"functionCallingConfig": {"mode": "ANY"}}, "MUST call at least one"),
        (True, {"functionCallingConfig": {"mode": "ANY"}}, "MUST call at least one"),
        ("none", {"functionCallingConfig": {"mode": "NONE"}}, None),
        (
            "Add",
            {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["Add"]}},
            'MUST call the tool "Add"',
        ),
        (
            {"type": "function", "function": {"name": "Add"}},
            {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["Add"]}},
            'MUST call the tool "Add"',
        ),
    ],
)
def test_tool_choice_forms(
    make_model: Make,
    emu: SegmindEmulator,
    choice: object,
    native_config: dict[str, object],
    prompt_needle: str | None,
) -> None:
    make_model(tool_calling="native").bind_tools([Add, get_weather], tool_choice=choice).invoke("x")
    assert emu.requests[-1].messages["toolConfig"] == native_config
    make_model().bind_tools([Add, get_weather], tool_choice=choice).invoke("x")
    if prompt_needle is not None:
        assert prompt_needle in system_text(emu.requests[-1].messages)


def test_bad_tool_choice_fails_at_bind_time(model: ChatSegmindGemini) -> None:
    with pytest.raises(ModelInvalidRequestError, match="unknown tool 'nope'"):
        model.bind_tools([get_weather], tool_choice="nope")


def test_bind_tools_accepts_every_tool_form(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    openai_tool = {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look up a word.",
            "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
        },
    }
    emu.queue_prompted_tool_call("multiply", {"a": 6, "b": 7})
    bound = model.bind_tools(
        [get_weather, Add, multiply, openai_tool], parallel_tool_calls=True, strict=True
    )
    msg = bound.invoke("6 times 7?")
    assert msg.tool_calls[0]["name"] == "multiply" and msg.tool_calls[0]["args"] == {"a": 6, "b": 7}
    text = system_text(emu.requests[0].messages)
    for name in ("get_weather", "Add", "multiply", "lookup"):
        assert name in text


def test_agent_loop_calls_the_tool_then_answers(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    from langchain.agents import create_agent

    calls: list[str] = []

    @tool
    def lookup_capital(country: str) -> str:
        """The capital city of a country."""
        calls.append(country)
        return {"Norway": "Oslo"}.get(country, "unknown")

    agent = create_agent(model, tools=[lookup_capital], system_prompt="Use tools when useful.")
    emu.queue_prompted_tool_call("lookup_capital", {"country": "Norway"})
    emu.queue_text("The capital of Norway is Oslo.")
    state = agent.invoke({"messages": [HumanMessage("What is the capital of Norway?")]})

    assert calls == ["Norway"]
    messages = state["messages"]
    assert isinstance(messages[-1], AIMessage)
    assert messages[-1].content == "The capital of Norway is Oslo."
    assert isinstance(messages[-2], ToolMessage) and messages[-2].content == "Oslo"
    assert len(emu.requests) == 2
    second = emu.requests[1].messages
    # The agent's system prompt first, then the tool block, joined into the one part.
    assert system_text(second).startswith("Use tools when useful.\n\n# Tools")
    assert "Oslo" in second["contents"][-1]["parts"][0]["text"]


async def test_async_agent_loop_in_native_mode(make_model: Make, emu: SegmindEmulator) -> None:
    from langchain.agents import create_agent

    agent = create_agent(make_model(tool_calling="native"), tools=[get_weather])
    emu.queue_function_call("get_weather", {"city": "Bergen"})
    emu.queue_text("Bergen: 12C and rain.")
    state = await agent.ainvoke({"messages": [HumanMessage("Weather in Bergen?")]})
    assert state["messages"][-1].content == "Bergen: 12C and rain."
    response = emu.requests[1].messages["contents"][-1]["parts"][0]["functionResponse"]
    assert response["name"] == "get_weather"
    assert response["response"] == {"result": "12C and rain in Bergen"}


def test_a_tool_name_bound_twice_is_refused_when_called(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    bound = model.bind_tools([Add, Add.model_json_schema()])  # binding itself is lazy
    with pytest.raises(ModelInvalidRequestError, match="'Add' is defined more than once"):
        bound.invoke("x")
    assert emu.requests == []

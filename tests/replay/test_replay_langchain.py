"""A LangChain user's journeys with ChatSegmindGemini, replayed from cassettes.

Each test drives the public LangChain API (invoke, stream, batch, bind_tools,
with_structured_output, create_agent). Its exchanges come from
``tests/cassettes/replay/langchain/``; the shipped ones were recorded against the
package's emulator (their URIs say 127.0.0.1), whose answers the ``script`` calls
below decide, so they read "scripted answer: ...". The assertions hold for a live
recording too: they check the shape of a journey, not the wording of an answer.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from _replay_support import Script, inline_mime_types, minimal_pdf, sent_bodies
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from langchain_segmind_gemini import ChatSegmindGemini
from segmind_gemini.testing.samples import tiny_png

pytestmark = pytest.mark.vcr

MakeModel = Callable[..., ChatSegmindGemini]


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers and return the product."""
    return a * b


class City(BaseModel):
    """A city and the country it is in."""

    name: str = Field(description="the city's name")
    country: str = Field(description="the country the city is in")
    summary: str = Field(description="one sentence about the city")


def _answered(message: AIMessage) -> str:
    """The message's text, after checking it is a complete answer with real usage."""
    assert isinstance(message, AIMessage)
    assert message.text.strip()
    usage = message.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0
    assert usage["output_tokens"] > 0
    assert message.response_metadata["finish_reason"] == "STOP"
    return message.text


def test_text_question(make_chat_model: MakeModel, script: Script, vcr: Any) -> None:
    script.queue_text("scripted answer: Lima is the capital of Peru.")
    message = make_chat_model().invoke("What is the capital of Peru? Answer in one sentence.")
    assert "Lima" in _answered(message)
    assert message.response_metadata["model_name"] == "gemini-2.5-flash"
    [sent] = sent_bodies(vcr)
    assert sent["contents"] == [
        {
            "role": "user",
            "parts": [{"text": "What is the capital of Peru? Answer in one sentence."}],
        }
    ]
    assert "generationConfig" not in sent  # a default request is the documented shape


def test_image_question(make_chat_model: MakeModel, script: Script, vcr: Any) -> None:
    script.queue_text("scripted answer: red")
    png = base64.b64encode(tiny_png(32, 32, (220, 40, 40))).decode()
    message = make_chat_model().invoke(
        [
            HumanMessage(
                content=[
                    {"type": "text", "text": "What colour fills this image? Answer in one word."},
                    {"type": "image", "base64": png, "mime_type": "image/png"},
                ]
            )
        ]
    )
    assert "red" in _answered(message).lower()
    assert inline_mime_types(sent_bodies(vcr)[0]) == ["image/png"]


def test_pdf_question(make_chat_model: MakeModel, script: Script, vcr: Any) -> None:
    script.queue_text("scripted answer: the invoice total is 42 euros.")
    pdf = base64.b64encode(minimal_pdf("Invoice 7: the total is 42 euros.")).decode()
    message = make_chat_model().invoke(
        [
            HumanMessage(
                content=[
                    {"type": "text", "text": "What total does this invoice state?"},
                    {"type": "file", "base64": pdf, "mime_type": "application/pdf"},
                ]
            )
        ]
    )
    assert "42" in _answered(message)
    assert inline_mime_types(sent_bodies(vcr)[0]) == ["application/pdf"]


def test_multi_turn_chat(make_chat_model: MakeModel, script: Script, vcr: Any) -> None:
    script.queue_text("scripted answer: noted, Ada.")
    script.queue_text("scripted answer: your name is Ada.")
    model = make_chat_model()
    history: list[Any] = [
        SystemMessage("You are a terse assistant."),
        HumanMessage("My name is Ada. Please remember it."),
    ]
    first = model.invoke(history)
    _answered(first)
    history += [first, HumanMessage("What is my name?")]
    second = model.invoke(history)
    assert "Ada" in _answered(second)
    last = sent_bodies(vcr)[-1]
    assert [c["role"] for c in last["contents"]] == ["user", "model", "user"]
    assert last["contents"][1]["parts"][0]["text"] == first.text
    assert "terse" in last["system_instruction"]["parts"]["text"]


def test_stream(make_chat_model: MakeModel, script: Script) -> None:
    script.queue_text("scripted answer: rain on the roof, a slow grey afternoon, tea going cold")
    chunks = list(make_chat_model().stream("Write a haiku about rain."))
    assert chunks
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.text.strip()
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["total_tokens"] > 0


def test_batch(make_chat_model: MakeModel) -> None:
    # Nothing scripted: run concurrently, the emulator's answers describe each request.
    questions = ["Name one prime number.", "Name one noble gas.", "Name one planet."]
    answers = make_chat_model().batch(questions)
    assert len(answers) == len(questions)
    for answer in answers:
        _answered(answer)


async def test_async_batch(make_chat_model: MakeModel) -> None:
    model = make_chat_model()
    answers = await model.abatch(["Name one ocean.", "Name one continent."])
    assert len(answers) == 2
    for answer in answers:
        _answered(answer)
    await model.aclose()


def test_tool_round_trip(make_chat_model: MakeModel, script: Script, vcr: Any) -> None:
    script.queue_prompted_tool_call("multiply", {"a": 6, "b": 7})
    script.queue_text("scripted answer: 6 times 7 is 42.")
    model = make_chat_model().bind_tools([multiply])
    history: list[Any] = [HumanMessage("What is 6 times 7? Use the multiply tool.")]
    first = model.invoke(history)
    [call] = first.tool_calls
    assert call["name"] == "multiply"
    assert call["args"] == {"a": 6, "b": 7}
    result = multiply.invoke(call)
    assert isinstance(result, ToolMessage)
    assert result.content == "42"
    history += [first, result]
    final = model.invoke(history)
    assert not final.tool_calls
    assert "42" in _answered(final)
    # The result went back to the model under the call's id (numbered in cassettes).
    second = sent_bodies(vcr)[-1]
    assert [c["role"] for c in second["contents"]] == ["user", "model", "user"]
    assert "42" in second["contents"][2]["parts"][0]["text"]
    assert "call_1" in second["contents"][2]["parts"][0]["text"]


def test_structured_output(make_chat_model: MakeModel, script: Script) -> None:
    script.queue_text(
        '{"name": "Lima", "country": "Peru", '
        '"summary": "scripted answer: the emulator returns this JSON, not Gemini."}'
    )
    structured = make_chat_model().with_structured_output(City)
    city = structured.invoke("Describe Lima, the capital of Peru.")
    assert isinstance(city, City)
    assert city.name == "Lima"
    assert "Peru" in city.country
    assert city.summary.strip()


def test_agent(make_chat_model: MakeModel, script: Script) -> None:
    script.queue_prompted_tool_call("multiply", {"a": 12, "b": 12})
    script.queue_text("scripted answer: 12 times 12 is 144.")
    agent = create_agent(
        make_chat_model(),
        tools=[multiply],
        system_prompt="Use the multiply tool for every multiplication.",
    )
    state = agent.invoke({"messages": [HumanMessage("What is 12 times 12?")]})
    messages = state["messages"]
    calls = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    assert [c["name"] for c in calls] == ["multiply"]
    assert calls[0]["args"] == {"a": 12, "b": 12}
    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert [r.content for r in results] == ["144"]
    assert "144" in _answered(messages[-1])

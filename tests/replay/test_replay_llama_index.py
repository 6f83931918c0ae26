"""A LlamaIndex user's journeys with SegmindGemini, replayed from cassettes.

Completion, chat, images, PDFs, a tool round trip, structured output, a
``FunctionAgent`` run and a RAG query over a ``VectorStoreIndex``. Exchanges come from
``tests/cassettes/replay/llama_index/``; the shipped ones were recorded against the
package's emulator (URIs say 127.0.0.1), whose answers the ``script`` calls below
decide ("scripted answer: ..."). The assertions hold for a live recording too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _replay_support import Script, inline_mime_types, minimal_pdf, sent_bodies
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    DocumentBlock,
    ImageBlock,
    TextBlock,
)
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini.testing.samples import tiny_png

pytestmark = [
    pytest.mark.vcr,
    # workflows inspects agent objects, tripping pydantic deprecation warnings that are
    # not this package's.
    pytest.mark.filterwarnings(
        "ignore::pydantic.warnings.PydanticDeprecatedSince20",
        "ignore::pydantic.warnings.PydanticDeprecatedSince211",
        "ignore:is_running called from within a step:DeprecationWarning",
    ),
]

MakeLLM = Callable[..., SegmindGemini]


def multiply(a: int, b: int) -> int:
    """Multiply two integers and return the product."""
    return a * b


MULTIPLY = FunctionTool.from_defaults(fn=multiply)


class City(BaseModel):
    """A city and the country it is in."""

    name: str = Field(description="the city's name")
    country: str = Field(description="the country the city is in")
    summary: str = Field(description="one sentence about the city")


DOCUMENTS = [
    Document(text="Lima is the capital of Peru and sits on the Pacific coast.", id_="lima"),
    Document(text="Basalt is a fine-grained volcanic rock.", id_="basalt"),
    Document(text="The Segmind API takes Gemini requests at /v1/<model slug>.", id_="api"),
]


def _usage(raw: Any) -> dict[str, int]:
    usage = raw["usage"]
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0
    return dict(usage)


def _answered(response: ChatResponse) -> str:
    text = response.message.content or ""
    assert text.strip()
    _usage(response.raw)
    assert response.additional_kwargs["finish_reason"] == "STOP"
    return text


def test_text_question(make_llm: MakeLLM, script: Script, vcr: Any) -> None:
    script.queue_text("scripted answer: 2, 3 and 5.")
    response = make_llm().complete("Name three prime numbers.")
    assert response.text.strip()
    _usage(response.raw)
    [sent] = sent_bodies(vcr)
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "Name three prime numbers."}]}]


def test_image_question(make_llm: MakeLLM, script: Script, vcr: Any) -> None:
    script.queue_text("scripted answer: red")
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="What colour fills this image? Answer in one word."),
            ImageBlock(image=tiny_png(32, 32, (220, 40, 40)), image_mimetype="image/png"),
        ],
    )
    response = make_llm().chat([message])
    assert "red" in _answered(response).lower()
    assert inline_mime_types(sent_bodies(vcr)[0]) == ["image/png"]


def test_pdf_question(make_llm: MakeLLM, script: Script, vcr: Any) -> None:
    script.queue_text("scripted answer: the invoice total is 42 euros.")
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="What total does this invoice state?"),
            DocumentBlock(
                data=minimal_pdf("Invoice 7: the total is 42 euros."),
                document_mimetype="application/pdf",
            ),
        ],
    )
    response = make_llm().chat([message])
    assert "42" in _answered(response)
    assert inline_mime_types(sent_bodies(vcr)[0]) == ["application/pdf"]


def test_multi_turn_chat(make_llm: MakeLLM, script: Script, vcr: Any) -> None:
    script.queue_text("scripted answer: noted, Ada.")
    script.queue_text("scripted answer: your name is Ada.")
    llm = make_llm()
    history = [
        ChatMessage(role="system", content="You are a terse assistant."),
        ChatMessage(role="user", content="My name is Ada. Please remember it."),
    ]
    first = llm.chat(history)
    _answered(first)
    history += [first.message, ChatMessage(role="user", content="What is my name?")]
    second = llm.chat(history)
    assert "Ada" in _answered(second)
    last = sent_bodies(vcr)[-1]
    assert [c["role"] for c in last["contents"]] == ["user", "model", "user"]
    assert "terse" in last["system_instruction"]["parts"]["text"]


async def test_async_stream_chat(make_llm: MakeLLM, script: Script) -> None:
    script.queue_text("scripted answer: rain on the roof, a slow grey afternoon, tea going cold")
    llm = make_llm()
    stream = await llm.astream_chat([ChatMessage(role="user", content="A haiku about rain.")])
    chunks = [chunk async for chunk in stream]
    assert chunks
    assert (chunks[-1].message.content or "").strip()
    _usage(chunks[-1].raw)
    await llm.aclose()


def test_tool_round_trip(make_llm: MakeLLM, script: Script, vcr: Any) -> None:
    script.queue_prompted_tool_call("multiply", {"a": 6, "b": 7})
    script.queue_text("scripted answer: 6 times 7 is 42.")
    llm = make_llm()
    question = ChatMessage(role="user", content="What is 6 times 7? Use the multiply tool.")
    first = llm.chat_with_tools([MULTIPLY], chat_history=[question])
    [selection] = llm.get_tool_calls_from_response(first)
    assert selection.tool_name == "multiply"
    assert selection.tool_kwargs == {"a": 6, "b": 7}
    output = MULTIPLY.call(**selection.tool_kwargs)
    assert output.raw_output == 42
    history = [
        question,
        first.message,
        ChatMessage(
            role="tool",
            content=str(output),
            additional_kwargs={"tool_call_id": selection.tool_id, "name": selection.tool_name},
        ),
    ]
    final = llm.chat_with_tools([MULTIPLY], chat_history=history)
    assert llm.get_tool_calls_from_response(final, error_on_no_tool_call=False) == []
    assert "42" in _answered(final)
    second = sent_bodies(vcr)[-1]
    assert [c["role"] for c in second["contents"]] == ["user", "model", "user"]
    result_text = second["contents"][2]["parts"][0]["text"]
    assert "42" in result_text
    assert "call_1" in result_text


def test_structured_output(make_llm: MakeLLM, script: Script) -> None:
    script.queue_text(
        '{"name": "Lima", "country": "Peru", '
        '"summary": "scripted answer: the emulator returns this JSON, not Gemini."}'
    )
    city = make_llm().structured_predict(
        City,
        PromptTemplate("Describe {city}, the capital of {country}."),
        city="Lima",
        country="Peru",
    )
    assert isinstance(city, City)
    assert city.name == "Lima"
    assert "Peru" in city.country
    assert city.summary.strip()


async def test_function_agent(make_llm: MakeLLM, script: Script) -> None:
    script.queue_prompted_tool_call("multiply", {"a": 12, "b": 12})
    script.queue_text("scripted answer: 12 times 12 is 144.")
    llm = make_llm()
    agent = FunctionAgent(
        tools=[MULTIPLY],
        llm=llm,
        system_prompt="Use the multiply tool for every multiplication.",
    )
    result = await agent.run(user_msg="What is 12 times 12?")
    assert [call.tool_name for call in result.tool_calls] == ["multiply"]
    assert result.tool_calls[0].tool_kwargs == {"a": 12, "b": 12}
    assert result.tool_calls[0].tool_output.raw_output == 144
    assert "144" in str(result)
    await llm.aclose()


def test_rag_query(make_llm: MakeLLM, script: Script, vcr: Any) -> None:
    script.queue_text("scripted answer: Lima is the capital of Peru.")
    # MockEmbedding keeps retrieval offline (any embedding model works). It gives every
    # text the same vector, so ties are broken by node id: ids derived from the
    # documents' own keep the retrieved context, hence the prompt, the same every run.
    splitter = SentenceSplitter(id_func=lambda i, doc: f"{doc.id_}-chunk-{i}")
    index = VectorStoreIndex.from_documents(
        DOCUMENTS, embed_model=MockEmbedding(embed_dim=8), transformations=[splitter]
    )
    engine = index.as_query_engine(llm=make_llm(), similarity_top_k=2)
    response = engine.query("What is the capital of Peru?")
    assert "Lima" in str(response)
    assert len(response.source_nodes) == 2
    [sent] = sent_bodies(vcr)
    prompt = "\n".join(part["text"] for part in sent["contents"][-1]["parts"])
    assert "What is the capital of Peru?" in prompt
    retrieved = [node.node.get_content() for node in response.source_nodes]
    assert all(text in prompt for text in retrieved)  # the context went to the model

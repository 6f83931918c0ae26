"""SegmindGemini inside LlamaIndex's own machinery, against the local emulator.

Query and chat engines, tool calling (``chat_with_tools``, ``predict_and_call``),
``FunctionAgent``, ``ReActAgent``, ``AgentWorkflow`` and structured output. Every
model answer below is scripted on the emulator by the test; none came from Gemini.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent, ReActAgent
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, ToolCallBlock
from llama_index.core.base.response.schema import StreamingResponse
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini.planning.structured import StructuredOutputError
from segmind_gemini.testing import SegmindEmulator

# workflows inspects agent objects with inspect.getmembers, which trips pydantic's
# deprecation warnings on every agent built; that noise is not this package's.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
    "ignore::pydantic.warnings.PydanticDeprecatedSince211",
    "ignore:is_running called from within a step:DeprecationWarning",
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


ADD = FunctionTool.from_defaults(fn=add)
MULTIPLY = FunctionTool.from_defaults(fn=multiply)


class City(BaseModel):
    name: str
    country: str
    population_millions: float


def system_text(emu: SegmindEmulator, index: int) -> str:
    parts = emu.requests[index].messages["system_instruction"]["parts"]
    # Segmind documents system_instruction.parts as a single object, not a list.
    assert isinstance(parts, dict) and list(parts) == ["text"], parts
    return parts["text"]


def all_text(emu: SegmindEmulator, index: int) -> str:
    return json.dumps(emu.requests[index].messages)


# --------------------------------------------------------------------------- RAG


DOCS = [
    Document(text="The Segmind emulator listens on 127.0.0.1."),
    Document(text="Lima is the capital of Peru."),
    Document(text="Basalt is a volcanic rock."),
]


def test_vector_store_query_engine(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator, restore_settings: None
) -> None:
    llm = make_llm()
    Settings.llm = llm
    Settings.embed_model = MockEmbedding(embed_dim=8)
    index = VectorStoreIndex.from_documents(DOCS)
    emu.queue_text("scripted RAG answer")
    response = index.as_query_engine(similarity_top_k=2).query("What is the capital of Peru?")
    assert str(response) == "scripted RAG answer"
    assert len(response.source_nodes) == 2
    sent = all_text(emu, 0)
    assert "What is the capital of Peru?" in sent
    assert any(doc.text in sent for doc in DOCS)  # retrieved context went to the model


async def test_vector_store_query_engine_async_with_llm_passed_explicitly(
    allm: SegmindGemini, emu: SegmindEmulator
) -> None:
    index = VectorStoreIndex.from_documents(DOCS, embed_model=MockEmbedding(embed_dim=8))
    engine = index.as_query_engine(llm=allm)
    emu.queue_text("scripted async RAG answer")
    response = await engine.aquery("Where does the emulator listen?")
    assert str(response) == "scripted async RAG answer"


def test_streaming_query_engine(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    index = VectorStoreIndex.from_documents(DOCS, embed_model=MockEmbedding(embed_dim=8))
    engine = index.as_query_engine(llm=make_llm(), streaming=True)
    emu.queue_text("scripted streamed RAG answer")
    response = engine.query("Which rock is volcanic?")
    assert isinstance(response, StreamingResponse)
    assert "".join(response.response_gen) == "scripted streamed RAG answer"


def test_chat_engine_keeps_history(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    engine = SimpleChatEngine.from_defaults(llm=make_llm(), system_prompt="Be brief.")
    emu.queue_text("scripted first reply").queue_text("scripted second reply")
    assert str(engine.chat("Hello")) == "scripted first reply"
    assert str(engine.chat("And again?")) == "scripted second reply"
    second = emu.requests[1].messages
    assert [c["role"] for c in second["contents"]] == ["user", "model", "user"]
    assert second["contents"][1]["parts"] == [{"text": "scripted first reply"}]
    assert "Be brief." in system_text(emu, 1)


def test_condense_plus_context_chat_engine(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    index = VectorStoreIndex.from_documents(DOCS, embed_model=MockEmbedding(embed_dim=8))
    engine = index.as_chat_engine(chat_mode="condense_plus_context", llm=make_llm())
    emu.queue_text("scripted answer one")
    assert str(engine.chat("Tell me about Lima.")) == "scripted answer one"
    emu.queue_text("scripted condensed question").queue_text("scripted answer two")
    assert str(engine.chat("And its country?")) == "scripted answer two"


async def test_chat_engine_async_stream(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    engine = SimpleChatEngine.from_defaults(llm=allm)
    emu.queue_text("scripted streamed chat")
    response = await engine.astream_chat("Hi")
    tokens = [t async for t in response.async_response_gen()]
    assert "".join(tokens) == "scripted streamed chat"


# --------------------------------------------------------------------------- tools


def test_chat_with_tools_prompted(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_prompted_tool_call("add", {"a": 2, "b": 3})
    history = [ChatMessage(role="user", content="earlier")]
    response = llm.chat_with_tools([ADD, MULTIPLY], user_msg="2+3?", chat_history=history)
    assert len(history) == 1  # the caller's history is not extended
    [selection] = llm.get_tool_calls_from_response(response)
    assert (selection.tool_name, selection.tool_kwargs) == ("add", {"a": 2, "b": 3})
    assert selection.tool_id.startswith("call_")
    system = system_text(emu, 0)
    assert "## add" in system and "## multiply" in system
    assert "Call at most one tool" in system  # allow_parallel_tool_calls defaults to False
    legacy = response.message.additional_kwargs["tool_calls"]
    assert legacy[0]["function"]["name"] == "add"
    assert "tools" not in emu.requests[0].messages  # prompted: nothing native was sent


def test_tool_required_and_named_tool_choice(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_prompted_tool_call("add", {"a": 1, "b": 1})
    emu.queue_prompted_tool_call("multiply", {"a": 1, "b": 1})
    llm.chat_with_tools([ADD, MULTIPLY], user_msg="go", tool_required=True)
    llm.chat_with_tools([ADD, MULTIPLY], user_msg="go", tool_choice="multiply")
    assert "MUST call at least one tool" in system_text(emu, 0)
    assert 'MUST call the tool "multiply"' in system_text(emu, 1)


def test_parallel_calls_trimmed_unless_allowed(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    calls = [("add", {"a": 1, "b": 2}), ("multiply", {"a": 3, "b": 4})]
    emu.queue_prompted_tool_calls(calls).queue_prompted_tool_calls(calls)
    single = llm.chat_with_tools([ADD, MULTIPLY], user_msg="both")
    both = llm.chat_with_tools([ADD, MULTIPLY], user_msg="both", allow_parallel_tool_calls=True)
    assert [s.tool_name for s in llm.get_tool_calls_from_response(single)] == ["add"]
    assert [s.tool_name for s in llm.get_tool_calls_from_response(both)] == ["add", "multiply"]


def test_no_tool_call(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("scripted plain answer")
    response = llm.chat_with_tools([ADD], user_msg="hi")
    assert response.message.content == "scripted plain answer"
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="Expected at least one tool call"):
        llm.get_tool_calls_from_response(response)


def test_unknown_tool_is_passed_on_for_the_agent_to_report(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_prompted_tool_call("subtract", {"a": 1})
    response = llm.chat_with_tools([ADD], user_msg="go")
    [selection] = llm.get_tool_calls_from_response(response)
    assert selection.tool_name == "subtract"
    [invalid] = response.message.additional_kwargs["invalid_tool_calls"]
    assert "unknown tool" in invalid["error"]


def test_an_unknown_tool_with_absurdly_deep_arguments_stays_an_invalid_call(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    deep = "[" * 5000  # json.loads of this raised RecursionError out of chat_with_tools
    emu.queue_text(json.dumps({"tool_calls": [{"name": "subtract", "arguments": deep}]}))
    response = llm.chat_with_tools([ADD], user_msg="go")
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    [invalid] = response.message.additional_kwargs["invalid_tool_calls"]
    assert "unknown tool" in invalid["error"]


def test_predict_and_call(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_prompted_tool_call("multiply", {"a": 6, "b": 7}, fenced=True)
    response = llm.predict_and_call([ADD, MULTIPLY], user_msg="6 times 7?")
    assert response.response == "42"
    assert response.sources[0].tool_name == "multiply"


async def test_apredict_and_call(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_prompted_tool_call("add", {"a": 20, "b": 22})
    response = await allm.apredict_and_call([ADD], user_msg="20+22?")
    assert response.response == "42"


def test_native_tool_calling(make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator) -> None:
    llm = make_llm(tool_calling="native")
    emu.queue_function_call("add", {"a": 2, "b": 2}, id="fc-1")
    response = llm.chat_with_tools([ADD], user_msg="2+2?", tool_required=True)
    [selection] = llm.get_tool_calls_from_response(response)
    assert (selection.tool_id, selection.tool_name) == ("fc-1", "add")
    sent = emu.requests[0].messages
    assert sent["tools"][0]["functionDeclarations"][0]["name"] == "add"
    assert sent["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"


async def test_function_agent_calls_the_tool_then_answers(
    allm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_prompted_tool_call("add", {"a": 2, "b": 3})
    emu.queue_text("scripted final answer: 5")
    agent = FunctionAgent(tools=[ADD, MULTIPLY], llm=allm, system_prompt="Use tools for math.")
    result = await agent.run(user_msg="What is 2+3?")
    assert str(result) == "scripted final answer: 5"
    assert [c.tool_name for c in result.tool_calls] == ["add"]
    assert result.tool_calls[0].tool_output.content == "5"
    # Second request: the call went back as protocol JSON, the result by name and id.
    second = all_text(emu, 1)
    assert '\\"tool_calls\\"' in second
    assert '<tool_result name=\\"add\\"' in second
    assert "Use tools for math." in system_text(emu, 1)


async def test_function_agent_without_streaming_and_with_memory(
    allm: SegmindGemini, emu: SegmindEmulator
) -> None:
    from llama_index.core.memory import ChatMemoryBuffer

    agent = FunctionAgent(tools=[MULTIPLY], llm=allm, streaming=False)
    memory = ChatMemoryBuffer.from_defaults(llm=allm)
    emu.queue_prompted_tool_call("multiply", {"a": 3, "b": 3}).queue_text("scripted: 9")
    assert str(await agent.run(user_msg="3*3?", memory=memory)) == "scripted: 9"
    emu.queue_text("scripted: you asked about 3*3")
    assert str(await agent.run(user_msg="What did I ask?", memory=memory)) == (
        "scripted: you asked about 3*3"
    )
    roles = [c["role"] for c in emu.requests[2].messages["contents"]]
    assert roles == ["user", "model", "user", "model", "user"]


async def test_function_agent_recovers_from_an_unknown_tool(
    allm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_prompted_tool_call("subtract", {"a": 5, "b": 1})
    emu.queue_prompted_tool_call("add", {"a": 5, "b": -1})
    emu.queue_text("scripted: 4")
    agent = FunctionAgent(tools=[ADD], llm=allm)
    assert str(await agent.run(user_msg="5-1?")) == "scripted: 4"
    assert "Tool subtract not found" in all_text(emu, 1)


async def test_react_agent(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text(
        "Thought: The current language of the user is: English. I need to use a tool.\n"
        "Action: multiply\n"
        'Action Input: {"a": 4, "b": 5}'
    )
    emu.queue_text(
        "Thought: I can answer without using any more tools. I'll use the user's language "
        "to answer\nAnswer: scripted ReAct answer: 20"
    )
    agent = ReActAgent(tools=[ADD, MULTIPLY], llm=allm)
    result = await agent.run(user_msg="What is 4 times 5?")
    assert str(result) == "scripted ReAct answer: 20"
    assert "Observation: 20" in all_text(emu, 1)


async def test_agent_workflow_handoff(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    calculator = FunctionAgent(
        name="calculator",
        description="Does arithmetic.",
        tools=[ADD],
        llm=allm,
        system_prompt="You add numbers.",
    )
    greeter = FunctionAgent(
        name="greeter",
        description="Greets users and hands math to the calculator.",
        tools=[],
        llm=allm,
        can_handoff_to=["calculator"],
    )
    workflow = AgentWorkflow(agents=[greeter, calculator], root_agent="greeter")
    emu.queue_prompted_tool_call("handoff", {"to_agent": "calculator", "reason": "math"})
    emu.queue_prompted_tool_call("add", {"a": 1, "b": 1})
    emu.queue_text("scripted workflow answer: 2")
    result = await workflow.run(user_msg="Hi! What is 1+1?")
    assert str(result) == "scripted workflow answer: 2"
    assert "You add numbers." in system_text(emu, 1)


def test_token_counting_through_a_query_engine(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator, restore_settings: None
) -> None:
    counter = TokenCountingHandler()
    # The documented way: query engines hand Settings.callback_manager to the LLM.
    Settings.callback_manager = CallbackManager([counter])
    llm = make_llm()
    index = VectorStoreIndex.from_documents(DOCS, embed_model=MockEmbedding(embed_dim=8))
    emu.queue_text(
        "scripted",
        usage={"promptTokenCount": 321, "candidatesTokenCount": 9, "totalTokenCount": 330},
    )
    index.as_query_engine(llm=llm).query("q?")
    assert (counter.prompt_llm_token_count, counter.completion_llm_token_count) == (321, 9)


# --------------------------------------------------------------------------- structured


CITY_JSON = '{"name": "Lima", "country": "Peru", "population_millions": 10.1}'


def test_structured_predict(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text(f"Here it is:\n```json\n{CITY_JSON}\n```")
    city = llm.structured_predict(City, PromptTemplate("Capital of {country}?"), country="Peru")
    assert city == City(name="Lima", country="Peru", population_millions=10.1)
    system = system_text(emu, 0)
    assert "JSON Schema" in system and "population_millions" in system
    assert "tools" not in emu.requests[0].messages
    assert "tool_calls" not in system  # schema prompting, not a forced tool call


def test_structured_predict_repairs_invalid_json_once(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text('{"name": "Lima", "country": "Peru"}')  # missing a required field
    emu.queue_text(CITY_JSON)
    city = llm.structured_predict(City, PromptTemplate("Capital of Peru?"))
    assert city.population_millions == 10.1
    repair = emu.requests[1].messages["contents"]
    assert [c["role"] for c in repair] == ["user", "model", "user"]
    assert "population_millions" in repair[2]["parts"][0]["text"]
    assert "could not be used" in repair[2]["parts"][0]["text"]


def test_structured_predict_gives_up_after_one_repair(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text("not json at all").queue_text("still not json")
    with pytest.raises(StructuredOutputError) as info:
        llm.structured_predict(City, PromptTemplate("Capital of Peru?"))
    assert isinstance(info.value, ValueError)
    assert info.value.raw_text == "still not json"
    assert len(emu.requests) == 2


async def test_astructured_predict_with_repair(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("{broken").queue_text(CITY_JSON)
    city = await allm.astructured_predict(City, PromptTemplate("Capital of Peru?"))
    assert city.name == "Lima"


def test_stream_structured_predict(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text(CITY_JSON)
    results = list(llm.stream_structured_predict(City, PromptTemplate("Capital of Peru?")))
    assert [r.name for r in results] == ["Lima"]


async def test_astream_structured_predict(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text(CITY_JSON)
    stream = await allm.astream_structured_predict(City, PromptTemplate("Capital of Peru?"))
    assert [r.name async for r in stream] == ["Lima"]


def test_as_structured_llm(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("{bad json").queue_text(CITY_JSON)
    structured = llm.as_structured_llm(City)
    response = structured.chat([ChatMessage(role="user", content="Capital of Peru?")])
    assert response.raw == City(name="Lima", country="Peru", population_millions=10.1)
    assert json.loads(response.message.content or "")["name"] == "Lima"
    assert len(emu.requests) == 2  # one repair round trip


async def test_as_structured_llm_async(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text(CITY_JSON)
    response = await allm.as_structured_llm(City).achat(
        [ChatMessage(role="user", content="Capital of Peru?")]
    )
    assert response.raw.name == "Lima"


def test_structured_predict_with_chat_prompt_template(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text(CITY_JSON)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a geographer."), ("user", "Capital of {country}?")]
    )
    llm.structured_predict(City, prompt, country="Peru")
    system = system_text(emu, 0)
    assert system.startswith("You are a geographer.")
    assert emu.requests[0].messages["contents"][0]["parts"][0]["text"] == "Capital of Peru?"


# --------------------------------------------------------------------------- image URLs


class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.send_header("content-length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def image_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_image_url_fetched_through_the_guarded_loader(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator, image_server: str
) -> None:
    llm = make_llm(allow_private_urls=True)  # the test server is on loopback
    message = ChatMessage(role="user", blocks=[ImageBlock(url=f"{image_server}/cat.png")])
    reply = llm.chat([message]).message.content
    assert reply == "emulated reply: 1 image/png part of 56 B"


async def test_image_urls_fetched_concurrently_async(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator, image_server: str
) -> None:
    llm = make_llm(allow_private_urls=True)
    blocks = [ImageBlock(url=f"{image_server}/{i}.png") for i in range(3)]
    reply = (await llm.achat([ChatMessage(role="user", blocks=blocks)])).message.content
    assert reply == "emulated reply: " + ", ".join(["1 image/png part of 56 B"] * 3)
    await llm.aclose()


def test_tool_call_blocks_round_trip_through_history(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_prompted_tool_call("add", {"a": 1, "b": 2})
    first = llm.chat_with_tools([ADD], user_msg="1+2?")
    [call] = [b for b in first.message.blocks if isinstance(b, ToolCallBlock)]
    history = [
        ChatMessage(role="user", content="1+2?"),
        first.message,
        ChatMessage(
            role="tool", content="3", additional_kwargs={"tool_call_id": call.tool_call_id}
        ),
    ]
    emu.queue_text("scripted: 3")
    assert llm.chat_with_tools([ADD], chat_history=history).message.content == "scripted: 3"
    results = emu.requests[1].messages["contents"][2]["parts"][0]["text"]
    assert f'<tool_result name="add" call_id="{call.tool_call_id}">' in results


def test_function_program_mode_uses_a_prompted_tool_call(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    from llama_index.core.types import PydanticProgramMode

    llm = make_llm(pydantic_program_mode=PydanticProgramMode.FUNCTION)
    emu.queue_prompted_tool_call(
        "City", {"name": "Lima", "country": "Peru", "population_millions": 10.1}
    )
    city = llm.structured_predict(City, PromptTemplate("Capital of Peru?"))
    assert city.name == "Lima"
    assert "MUST call" in system_text(emu, 0)

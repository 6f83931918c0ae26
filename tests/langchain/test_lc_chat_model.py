"""ChatSegmindGemini against the local Segmind emulator.

The emulator is a stand-in for Segmind's HTTP API, not a model: each answer below is
scripted by the test (or is the emulator's own "emulated reply: ..." description),
and the assertions are about what the adapter sent and what the user gets back.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps, load
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.tools import tool

from langchain_segmind_gemini import ChatSegmindGemini, SegmindBadRequestError
from segmind_gemini.testing import SegmindEmulator

Make = Callable[..., ChatSegmindGemini]


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"12C and rain in {city}"


# --------------------------------------------------------------------------- invoke


def test_invoke_sends_the_documented_shape_and_returns_a_full_message(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text(
        "Bonjour", usage={"promptTokenCount": 7, "candidatesTokenCount": 2, "totalTokenCount": 9}
    )
    msg = model.invoke([SystemMessage("Translate to French."), HumanMessage("Hello")])

    sent = emu.requests[0]
    assert sent.path == "/v1/gemini-2.5-flash"
    assert sent.header("x-api-key") == emu.api_key
    # No generation settings were set, so none are sent: exactly Segmind's documented body.
    assert sent.json == {
        "messages": {
            "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
            "system_instruction": {"parts": {"text": "Translate to French."}},
        }
    }
    assert isinstance(msg, AIMessage)
    assert msg.content == "Bonjour"
    assert msg.id is not None and msg.id.startswith("emulated-")
    assert msg.usage_metadata == {
        "input_tokens": 7,
        "output_tokens": 2,
        "total_tokens": 9,
        "input_token_details": {"cache_read": 0},
        "output_token_details": {"reasoning": 0},
    }
    meta = msg.response_metadata
    assert meta["model_name"] == "gemini-2.5-flash"
    assert meta["model_provider"] == "segmind"
    assert meta["finish_reason"] == "STOP"
    assert meta["cost"] == pytest.approx(0.0012)
    assert meta["remaining_credits"] == pytest.approx(9.9988)
    assert meta["request_id"]
    assert meta["safety_ratings"]


def test_generation_settings_are_sent_only_when_set(make_model: Make, emu: SegmindEmulator) -> None:
    model = make_model(
        temperature=0.2,
        max_tokens=64,
        top_p=0.9,
        top_k=20,
        stop=["END"],
        thinking_budget=0,
        include_thoughts=False,
        safety_settings=[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}],
    )
    model.invoke("Hi")
    body = emu.requests[0].messages
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "maxOutputTokens": 64,
        "topP": 0.9,
        "topK": 20,
        "stopSequences": ["END"],
        "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": False},
    }
    assert body["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
    ]


def test_aliases_and_per_call_overrides(make_model: Make, emu: SegmindEmulator) -> None:
    model = make_model(model_name="gemini-2.5-flash", max_output_tokens=10, stop_sequences=["x"])
    assert model.model == "gemini-2.5-flash" and model.max_tokens == 10 and model.stop == ["x"]
    msg = model.invoke("Hi", model="gemini-2.5-pro", temperature=0.7, stop=["STOP!"])
    sent = emu.requests[0]
    assert sent.path == "/v1/gemini-2.5-pro"
    assert sent.messages["generationConfig"] == {
        "temperature": 0.7,
        "maxOutputTokens": 10,
        "stopSequences": ["STOP!"],
    }
    assert msg.response_metadata["model_name"] == "gemini-2.5-pro"
    bound = model.bind(top_k=3)
    bound.invoke("Hi")
    assert emu.requests[1].messages["generationConfig"]["topK"] == 3


def test_unknown_call_argument_is_sent_with_a_warning(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    # langchain-openai's convention: never dropped, never silent. Gemini (and so the
    # emulator) then refuses the misspelt field by name.
    with (
        pytest.warns(UserWarning, match="'temprature' is not a ChatSegmindGemini setting"),
        pytest.raises(SegmindBadRequestError, match='Unknown name "temprature"'),
    ):
        model.invoke("Hi", temprature=0.1)
    assert emu.requests[0].messages["temprature"] == 0.1


def test_default_answer_is_the_emulators_description(model: ChatSegmindGemini) -> None:
    # Unscripted, the emulator says what it received; it never pretends to be Gemini.
    assert model.invoke("Hi").content == "emulated reply: 1 text part"


async def test_ainvoke_is_async_and_matches_invoke(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text("async answer", delay=0.05)
    msg = await model.ainvoke("Hi")
    assert msg.content == "async answer"
    assert emu.requests[0].messages["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]


async def test_agenerate_does_not_use_a_thread_pool(
    model: ChatSegmindGemini, emu: SegmindEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_sync(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the async path called the sync client")

    monkeypatch.setattr(model.client, "generate_content", no_sync)
    emu.queue_text("a").queue_text("b")
    assert (await model.ainvoke("Hi")).content == "a"
    assert [m.content async for m in model.astream("Hi")] == ["b"]


async def test_sync_invoke_works_inside_a_running_event_loop(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text("from inside the loop")
    asyncio.get_running_loop()  # we are in one
    assert model.invoke("Hi").content == "from inside the loop"


def test_batch_and_abatch_reuse_one_client(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    client = model.client
    answers = model.batch(["one", "two", "three"])
    assert sorted(a.content for a in answers) == ["emulated reply: 1 text part"] * 3
    answers = asyncio.run(model.abatch([f"prompt {i}" for i in range(20)]))
    assert len(answers) == 20 and len(emu.requests) == 23
    # A second event loop on the same model object works too.
    assert asyncio.run(model.ainvoke("again")).content.startswith("emulated reply")
    assert model.client is client


def test_queue_api_mode(make_model: Make, emu: SegmindEmulator) -> None:
    emu.queue_text("queued answer")
    model = make_model(api_mode="queue")
    assert model.invoke("Hi").content == "queued answer"
    assert emu.requests[0].path == "/v2/gemini-2.5-flash"


# --------------------------------------------------------------------------- streaming


def test_stream_yields_the_whole_answer_as_one_last_chunk(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text("whole answer")
    chunks = list(model.stream("Hi"))
    assert len(chunks) == 1
    chunk = chunks[0]
    assert isinstance(chunk, AIMessageChunk)
    assert chunk.content == "whole answer"
    assert chunk.chunk_position == "last"
    assert chunk.usage_metadata is not None and chunk.usage_metadata["total_tokens"] > 0
    assert chunk.response_metadata["finish_reason"] == "STOP"


async def test_astream_yields_one_last_chunk(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text("async whole answer")
    chunks = [c async for c in model.astream("Hi")]
    assert [c.content for c in chunks] == ["async whole answer"]
    assert chunks[0].chunk_position == "last"


def test_streamed_tool_calls_aggregate(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_prompted_tool_call("get_weather", {"city": "Oslo"})
    chunks = list(model.bind_tools([get_weather]).stream("Weather in Oslo?"))
    assert len(chunks) == 1
    assert chunks[0].tool_call_chunks[0]["name"] == "get_weather"
    assert json.loads(chunks[0].tool_call_chunks[0]["args"] or "") == {"city": "Oslo"}
    full = chunks[0] + AIMessageChunk(content="")
    assert full.tool_calls[0]["args"] == {"city": "Oslo"}


def test_streaming_true_invoke_goes_through_the_single_chunk(
    make_model: Make, emu: SegmindEmulator
) -> None:
    emu.queue_text("streamed")
    msg = make_model(streaming=True).invoke("Hi")
    assert msg.content == "streamed"
    assert msg.usage_metadata is not None


# --------------------------------------------------------------------------- answers


def test_thoughts_become_reasoning(make_model: Make, emu: SegmindEmulator) -> None:
    emu.queue_text(
        "Three.",
        thoughts="s-t-r-a-w-b-e-r-r-y has three r's",
        usage={
            "promptTokenCount": 5,
            "candidatesTokenCount": 1,
            "thoughtsTokenCount": 9,
            "cachedContentTokenCount": 2,
            "toolUsePromptTokenCount": 3,
            "totalTokenCount": 18,
        },
    )
    msg = make_model(include_thoughts=True).invoke("How many r's in strawberry?")
    assert msg.content == "Three."
    assert msg.additional_kwargs["reasoning_content"] == "s-t-r-a-w-b-e-r-r-y has three r's"
    assert [b["type"] for b in msg.content_blocks] == ["reasoning", "text"]
    assert msg.usage_metadata == {
        "input_tokens": 8,
        "output_tokens": 10,
        "total_tokens": 18,
        "input_token_details": {"cache_read": 2},
        "output_token_details": {"reasoning": 9},
    }


def test_output_version_v1_stores_reasoning_blocks_in_content(
    make_model: Make, emu: SegmindEmulator
) -> None:
    emu.queue_text("Three.", thoughts="counting")
    msg = make_model(output_version="v1").invoke("q")
    assert msg.content == [
        {"type": "reasoning", "reasoning": "counting"},
        {"type": "text", "text": "Three."},
    ]
    emu.queue_text("Three.", thoughts="counting")
    chunks = list(make_model(output_version="v1").stream("q"))
    assert [b["type"] for b in chunks[0].content_blocks] == ["reasoning", "text"]


@pytest.mark.parametrize("reason", ["SAFETY", "MAX_TOKENS", "RECITATION"])
def test_unfinished_answers_are_normal_messages_with_their_reason(
    model: ChatSegmindGemini, emu: SegmindEmulator, reason: str
) -> None:
    emu.queue_response(
        {
            "candidates": [
                {
                    "content": {"role": "model"},
                    "finishReason": reason,
                    "finishMessage": f"stopped: {reason.lower()}",
                }
            ],
            "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3},
        }
    )
    msg = model.invoke("Hi")
    assert msg.content == ""
    assert msg.response_metadata["finish_reason"] == reason
    assert msg.response_metadata["finish_message"] == f"stopped: {reason.lower()}"


def test_blocked_prompt_raises_both_error_kinds(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    from langchain_core.exceptions import ModelRefusalError

    from segmind_gemini import ContentBlockedError

    emu.queue_fault("blocked", reason="PROHIBITED_CONTENT")
    with pytest.raises(ModelRefusalError) as info:
        model.invoke("something bad")
    assert isinstance(info.value, ContentBlockedError)
    assert info.value.block_reason == "PROHIBITED_CONTENT"


def test_openai_shaped_body_is_read_too(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_response(
        {
            "id": "chatcmpl-1",
            "model": "gemini",
            "choices": [
                {"message": {"role": "assistant", "content": "hi there"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5},
        }
    )
    msg = model.invoke("Hi")
    assert msg.content == "hi there" and msg.id == "chatcmpl-1"
    assert msg.usage_metadata is not None and msg.usage_metadata["total_tokens"] == 5


# --------------------------------------------------------------------------- media


@pytest.fixture
def image_server() -> Iterator[str]:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.send_header("content-length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cat.png"
    server.shutdown()
    server.server_close()


def _image_message(url: str) -> HumanMessage:
    return HumanMessage(
        [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": url}},
        ]
    )


def test_image_url_is_fetched_and_sent_inline(
    make_model: Make, emu: SegmindEmulator, image_server: str
) -> None:
    msg = make_model(allow_private_urls=True).invoke([_image_message(image_server)])
    parts = emu.requests[0].messages["contents"][0]["parts"]
    assert parts[0] == {"text": "What is this?"}
    assert parts[1]["inlineData"]["mimeType"] == "image/png"
    assert base64.b64decode(parts[1]["inlineData"]["data"]).startswith(b"\x89PNG")
    assert msg.content == "emulated reply: 1 text part, 1 image/png part of 40 B"


async def test_image_url_is_fetched_asynchronously_on_the_async_path(
    make_model: Make,
    emu: SegmindEmulator,
    image_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import langchain_segmind_gemini.chat_models as cm

    def blocking(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the async path used the blocking loader")

    monkeypatch.setattr(cm, "part_from_url", blocking)
    await make_model(allow_private_urls=True).ainvoke([_image_message(image_server)])
    assert emu.requests[0].messages["contents"][0]["parts"][1]["inlineData"]["mimeType"] == (
        "image/png"
    )


def test_private_image_urls_are_refused_by_default(
    model: ChatSegmindGemini, emu: SegmindEmulator, image_server: str
) -> None:
    from langchain_core.exceptions import ModelInvalidRequestError

    from segmind_gemini import MediaError

    with pytest.raises(ModelInvalidRequestError) as info:
        model.invoke([_image_message(image_server)])
    assert isinstance(info.value, MediaError)
    assert "message 0 (human), content block 1 (type 'image_url')" in str(info.value)
    assert "loopback" in str(info.value)
    assert emu.requests == []


def test_unsupported_block_raises_before_sending(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    from langchain_core.exceptions import ModelInvalidRequestError

    with pytest.raises(ModelInvalidRequestError, match="unsupported content block type 'hologram'"):
        model.invoke([HumanMessage([{"type": "hologram"}])])
    assert emu.requests == []


# --------------------------------------------------------------------------- secrets


def test_the_key_never_shows(make_model: Make) -> None:
    secret = "sk-super-secret-value-123"
    model = make_model(api_key=secret)
    model.client  # noqa: B018 - build the client too
    shown = [
        repr(model),
        str(model),
        json.dumps(model.model_dump(), default=str),
        model.model_dump_json(),
        json.dumps(dumpd(model)),
        dumps(model),
        repr(model.client),
        repr(model.__dict__),
    ]
    for text in shown:
        assert secret not in text
    assert dumpd(model)["kwargs"]["api_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["SEGMIND_API_KEY"],
    }
    assert model.lc_secrets == {"api_key": "SEGMIND_API_KEY"}


# langchain_core.load.load is marked beta; the warning says nothing about this package.
@pytest.mark.filterwarnings("ignore:The function `load` is in beta")
def test_serialization_round_trip_reads_the_key_from_the_environment(
    make_model: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_model(temperature=0.3, tool_calling="native")
    monkeypatch.setenv("SEGMIND_API_KEY", "from-env")
    loaded = load(
        dumpd(model),
        valid_namespaces=["langchain_segmind_gemini"],
        secrets_from_env=True,
        allowed_objects=[ChatSegmindGemini],
    )
    assert isinstance(loaded, ChatSegmindGemini)
    assert loaded.temperature == 0.3 and loaded.tool_calling == "native"
    assert loaded.api_key is not None and loaded.api_key.get_secret_value() == "from-env"


def test_key_and_base_url_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, emu: SegmindEmulator
) -> None:
    monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    model = ChatSegmindGemini(model="gemini-2.5-flash")
    assert model.invoke("Hi").content.startswith("emulated reply")
    assert emu.requests[0].header("x-api-key") == emu.api_key


# --------------------------------------------------------------------------- metadata


def test_identity_profile_and_tracing_params(make_model: Make) -> None:
    model = make_model(temperature=0.1, max_tokens=50, stop=["\n\n"])
    assert model._llm_type == "segmind-gemini"
    assert model._identifying_params["model"] == "gemini-2.5-flash"
    assert model._identifying_params["temperature"] == 0.1
    assert model._get_ls_params() == {
        "ls_provider": "segmind",
        "ls_model_name": "gemini-2.5-flash",
        "ls_model_type": "chat",
        "ls_temperature": 0.1,
        "ls_max_tokens": 50,
        "ls_stop": ["\n\n"],
    }
    assert model._get_ls_params(model="gemini-3-pro")["ls_model_name"] == "gemini-3-pro"
    profile = model.profile
    assert profile is not None
    assert profile["max_input_tokens"] == 1_048_576
    assert profile["max_output_tokens"] == 65_536
    assert profile["image_inputs"] and profile["pdf_inputs"] and profile["tool_calling"]
    assert profile["reasoning_output"] is True
    assert profile["structured_output"] is True  # with_structured_output works
    legacy = make_model(model="gemini-1.5-pro").profile
    assert legacy is not None and legacy["status"] == "deprecated"
    unknown = make_model(model="gemini-9-ultra").profile
    assert unknown is not None and "status" not in unknown


def test_copies_and_pickles_build_their_own_client(
    make_model: Make, emu: SegmindEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy
    import pickle

    model = make_model(segmind_api_key=emu.api_key)
    model.invoke("Hi")
    pickled = pickle.dumps(model)
    # The key stays out of pickles; the unpickled model reads $SEGMIND_API_KEY.
    assert emu.api_key.encode() not in pickled
    assert emu.api_key.encode() not in pickle.dumps(model.model_dump())
    monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
    for clone in (copy.deepcopy(model), pickle.loads(pickled)):
        assert clone.client is not model.client
        assert clone.invoke("Hi").content.startswith("emulated reply")
        clone.close()
    same = model.model_copy(update={"temperature": 0.5})
    assert same.client is model.client  # nothing about the connection changed
    other = model.model_copy(update={"timeout": 5.0})
    assert other.client is not model.client and other.client.timeout == 5.0
    assert model.client.timeout == 120.0
    model.max_retries = 1
    assert model.client.max_retries == 1


def test_stream_reports_the_chunk_to_callbacks_once(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    class Tokens(BaseCallbackHandler):
        def __init__(self) -> None:
            self.tokens: list[str] = []

        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            self.tokens.append(token)

    handler = Tokens()
    emu.queue_text("one piece")
    list(model.stream("Hi", config={"callbacks": [handler]}))
    assert handler.tokens == ["one piece"]


def test_create_agent_response_format_uses_the_schema_instruction(
    make_model: Callable[..., ChatSegmindGemini], emu: SegmindEmulator
) -> None:
    # profile["structured_output"] is True, so create_agent binds OpenAI's response_format
    # (its ProviderStrategy); it must become the schema instruction, not a stray field.
    from langchain.agents import create_agent
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        country: str

    emu.queue_text('{"name": "Oslo", "country": "Norway"}')
    agent = create_agent(make_model(), tools=[], response_format=City)
    state = agent.invoke({"messages": [("human", "The capital of Norway?")]})
    assert state["structured_response"] == City(name="Oslo", country="Norway")
    sent = emu.requests[-1].messages
    assert "response_format" not in sent
    assert '"required":["name","country"]' in sent["system_instruction"]["parts"]["text"]
    with pytest.raises(ValueError, match="response_format must be"):
        make_model().invoke("hi", response_format={"type": "text"})

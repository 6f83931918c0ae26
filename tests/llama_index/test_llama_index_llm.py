"""SegmindGemini against the local emulator: fields, the eight entry points, errors.

Answers here are scripted on the emulator (or its "emulated reply: ..." default);
none of them came from Gemini.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.llms.function_calling import FunctionCallingLLM

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ContentBlockedError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidContentTypeError,
    InvalidRequestError,
    MediaError,
    ModelRetiredError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseParseError,
    SegmindError,
    UnprocessableEntityError,
)
from segmind_gemini.testing import SegmindEmulator

SECRET = "sk-test-not-a-real-key-7f3a"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


# --------------------------------------------------------------------------- fields


def test_is_a_function_calling_llm_with_defaults(emu: SegmindEmulator) -> None:
    llm = SegmindGemini(api_key=emu.api_key, base_url=emu.base_url)
    assert isinstance(llm, FunctionCallingLLM)
    assert llm.model == "gemini-2.5-flash"
    assert llm.tool_calling == "prompt"
    assert llm.api_mode == "sync"
    assert llm.temperature is None and llm.max_tokens is None
    assert SegmindGemini.class_name() == "SegmindGemini"


def test_metadata_comes_from_the_registry(make_llm: Callable[..., SegmindGemini]) -> None:
    meta = make_llm(model="gemini-2.5-flash").metadata
    assert (meta.context_window, meta.num_output) == (1_048_576, 65_536)
    assert meta.is_chat_model and meta.is_function_calling_model
    assert meta.model_name == "gemini-2.5-flash"
    legacy = make_llm(model="gemini-1.5-pro").metadata
    assert (legacy.context_window, legacy.num_output) == (2_097_152, 8_192)
    custom = make_llm(model="gemini-9-experimental", max_tokens=100, context_window=5000).metadata
    assert (custom.context_window, custom.num_output) == (5000, 100)


def test_api_key_from_environment(emu: SegmindEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
    llm = SegmindGemini(base_url=emu.base_url)
    assert llm.complete("hi").text.startswith("emulated reply")
    llm.close()


def test_missing_key_fails_at_the_first_call_not_at_construction(
    emu: SegmindEmulator,
) -> None:
    llm = SegmindGemini(base_url=emu.base_url)  # config code may build it before the key
    with pytest.raises(AuthenticationError, match="SEGMIND_API_KEY") as info:
        llm.complete("hi")
    assert info.value.status_code is None and "HTTP 401" not in str(info.value)
    assert "nothing was sent" in str(info.value)
    assert emu.requests == []


def test_api_key_never_shown(emu: SegmindEmulator) -> None:
    llm = SegmindGemini(api_key=SECRET, base_url=emu.base_url, system_prompt="sys")
    for shown in (
        repr(llm),
        str(llm),
        str(llm.model_dump()),
        str(llm.to_dict()),
        llm.to_json(),
        llm.model_dump_json(),
        str(llm.to_payload()),
        repr(llm.client),
        str(vars(llm)),
    ):
        assert SECRET not in shown
    assert llm.api_key is not None and llm.api_key.get_secret_value() == SECRET


def test_pickle_leaves_the_key_out(emu: SegmindEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    llm = SegmindGemini(api_key=SECRET, base_url=emu.base_url, temperature=0.3)
    data = pickle.dumps(llm)
    assert SECRET.encode() not in data
    monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
    clone = pickle.loads(data)
    assert clone.temperature == 0.3
    assert clone.complete("hi").text.startswith("emulated reply")
    clone.close()


def test_deepcopy_gets_its_own_client(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    clone = copy.deepcopy(llm)
    assert clone.client is not llm.client
    assert clone.complete("hi").text.startswith("emulated reply")
    clone.close()


def test_connection_settings_are_frozen(llm: SegmindGemini) -> None:
    with pytest.raises(ValueError, match="frozen"):
        llm.base_url = "https://elsewhere.example/v1"
    llm.temperature = 0.5  # generation settings may change between calls
    assert llm.temperature == 0.5


def test_invalid_tool_calling_mode(emu: SegmindEmulator) -> None:
    with pytest.raises(ValueError, match="tool_calling"):
        SegmindGemini(api_key=emu.api_key, base_url=emu.base_url, tool_calling="magic")


def test_one_client_reused(llm: SegmindGemini) -> None:
    client = llm.client
    llm.complete("a")
    llm.chat(user("b"))
    assert llm.client is client


# --------------------------------------------------------------------------- requests


def test_default_request_is_the_documented_shape(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    llm.complete("Hello")
    assert emu.requests[0].json == {
        "messages": {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}
    }
    assert emu.requests[0].path == "/v1/gemini-2.5-flash"


def test_generation_settings_sent_only_when_set_and_overridable(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    llm = make_llm(temperature=0.2, max_tokens=64, top_p=0.9, top_k=20, stop=["END"])
    llm.chat(user("x"), temperature=0.0, seed=7)
    config = emu.requests[0].messages["generationConfig"]
    assert config == {
        "temperature": 0.0,
        "maxOutputTokens": 64,
        "topP": 0.9,
        "topK": 20,
        "stopSequences": ["END"],
        "seed": 7,
    }


def test_system_prompt_is_sent_once(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    llm = make_llm(system_prompt="You are terse.")
    llm.complete("a")
    llm.chat(user("b"))
    llm.chat([ChatMessage(role="system", content="You are terse."), *user("c")])
    llm.chat([ChatMessage(role="system", content="Agent rules."), *user("d")])
    systems = [r.messages["system_instruction"]["parts"] for r in emu.requests]
    assert systems[0] == systems[1] == systems[2] == {"text": "You are terse."}
    assert systems[3] == {"text": "You are terse.\n\nAgent rules."}


def test_image_bytes_reach_the_server(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    message = ChatMessage(role="user", blocks=[TextBlock(text="What?"), ImageBlock(image=PNG)])
    response = llm.chat([message])
    parts = emu.requests[0].messages["contents"][0]["parts"]
    assert base64.b64decode(parts[1]["inlineData"]["data"]) == PNG
    assert response.message.content == "emulated reply: 1 text part, 1 image/png part of 56 B"


def test_private_image_url_is_refused_unless_allowed(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    url = f"{emu.origin}/no-such-image.png"
    message = ChatMessage(role="user", blocks=[ImageBlock(url=url)])
    with pytest.raises(MediaError, match=r"messages\[0\]\.blocks\[0\].*loopback"):
        make_llm().chat([message])
    assert emu.requests == []  # refused before anything was sent


async def test_private_image_url_is_refused_async_naming_the_block(
    allm: SegmindGemini, emu: SegmindEmulator
) -> None:
    url = f"{emu.origin}/no-such-image.png"
    message = ChatMessage(role="user", blocks=[TextBlock(text="see"), ImageBlock(url=url)])
    with pytest.raises(MediaError, match=r"messages\[1\]\.blocks\[1\] \(ImageBlock\).*loopback"):
        await allm.achat([*user("first"), message])
    assert emu.requests == []


def test_unsupported_media_raises_before_sending(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    gif = b"GIF89a" + b"\x00" * 20
    with pytest.raises(MediaError, match="image/gif"):
        llm.chat([ChatMessage(role="user", blocks=[ImageBlock(image=gif)])])
    assert emu.requests == []


def test_only_system_messages_is_a_clear_error(llm: SegmindGemini) -> None:
    with pytest.raises(InvalidRequestError, match="nothing to send"):
        llm.chat([ChatMessage(role="system", content="rules only")])


def test_queue_api_mode(make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator) -> None:
    emu.queue_text("scripted queued answer")
    llm = make_llm(api_mode="queue")
    llm.client.poll_interval = 0.01
    assert llm.complete("x").text == "scripted queued answer"
    assert emu.requests[0].path == "/v2/gemini-2.5-flash"


# --------------------------------------------------------------------------- responses


def test_chat_response_carries_usage_cost_and_finish_reason(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text(
        "scripted answer",
        usage={
            "promptTokenCount": 11,
            "candidatesTokenCount": 3,
            "thoughtsTokenCount": 5,
            "totalTokenCount": 19,
        },
    )
    response = llm.chat(user("q"))
    assert response.message.role == "assistant"
    assert response.message.content == "scripted answer"
    assert response.raw["usage_metadata"] == {
        "prompt_token_count": 11,
        "candidates_token_count": 3,
        "thoughts_token_count": 5,
        "total_token_count": 19,
    }
    assert response.raw["usage"] == {
        "prompt_tokens": 11,
        "completion_tokens": 8,
        "total_tokens": 19,
    }
    assert response.raw["candidates"][0]["content"]["parts"][0]["text"] == "scripted answer"
    kwargs = response.additional_kwargs
    assert kwargs["finish_reason"] == "STOP"
    assert kwargs["cost"] == pytest.approx(emu.cost_per_call)
    assert kwargs["request_id"]
    assert kwargs["safety_ratings"]
    assert (kwargs["prompt_tokens"], kwargs["completion_tokens"]) == (11, 8)


def test_thoughts_become_a_thinking_block(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("4", thoughts="2+2 is 4")
    response = llm.chat(user("2+2?"))
    thinking, text = response.message.blocks
    assert isinstance(thinking, ThinkingBlock) and thinking.content == "2+2 is 4"
    assert isinstance(text, TextBlock) and text.text == "4"
    assert response.message.content == "4"


def test_native_function_call_without_tools_still_surfaces(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_function_call("add", {"a": 1, "b": 2}, thought_signature="sig-x")
    response = llm.chat(user("q"))
    [call] = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
    assert (call.tool_name, call.tool_kwargs) == ("add", {"a": 1, "b": 2})
    assert response.message.additional_kwargs["thought_signatures"] == {call.tool_call_id: "sig-x"}


def test_token_counting_handler_counts_real_tokens(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    counter = TokenCountingHandler()
    llm = make_llm(callback_manager=CallbackManager([counter]))
    usage = {"promptTokenCount": 123, "candidatesTokenCount": 45, "totalTokenCount": 168}
    emu.queue_text("scripted one", usage=usage)
    emu.queue_text("scripted two", usage=usage)
    llm.chat(user("q"))
    llm.complete("q")
    assert counter.prompt_llm_token_count == 246
    assert counter.completion_llm_token_count == 90
    assert counter.total_llm_token_count == 336


# --------------------------------------------------------------------------- entry points


def test_chat(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("scripted chat answer")
    assert llm.chat(user("hi")).message.content == "scripted chat answer"


def test_complete(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("scripted completion")
    response = llm.complete("hi")
    assert response.text == "scripted completion"
    assert response.raw["usage_metadata"]["prompt_token_count"] > 0


def test_stream_chat_yields_one_chunk_with_delta(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("scripted stream")
    chunks = list(llm.stream_chat(user("hi")))
    assert len(chunks) == 1
    assert chunks[0].delta == "scripted stream"
    assert chunks[0].message.content == "scripted stream"


def test_stream_complete_yields_one_chunk_with_delta(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text("scripted stream")
    chunks = list(llm.stream_complete("hi"))
    assert [(c.text, c.delta) for c in chunks] == [("scripted stream", "scripted stream")]


def test_stream_is_lazy(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    stream = llm.stream_chat(user("hi"))
    assert emu.requests == []
    next(iter(stream))
    assert len(emu.requests) == 1


async def test_achat(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("scripted async chat")
    assert (await allm.achat(user("hi"))).message.content == "scripted async chat"


async def test_acomplete(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("scripted async completion")
    assert (await allm.acomplete("hi")).text == "scripted async completion"


async def test_astream_chat(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("scripted async stream")
    chunks = [c async for c in await allm.astream_chat(user("hi"))]
    assert [(c.delta, c.message.content) for c in chunks] == [
        ("scripted async stream", "scripted async stream")
    ]


async def test_astream_complete(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("scripted async stream")
    chunks = [c async for c in await allm.astream_complete("hi")]
    assert [(c.text, c.delta) for c in chunks] == [
        ("scripted async stream", "scripted async stream")
    ]


async def test_async_calls_run_concurrently(allm: SegmindGemini, emu: SegmindEmulator) -> None:
    for i in range(5):
        emu.queue_text(f"scripted {i}", delay=0.3)
    loop = asyncio.get_running_loop()
    start = loop.time()
    results = await asyncio.gather(*(allm.acomplete(f"q{i}") for i in range(5)))
    assert loop.time() - start < 1.0  # five 0.3 s answers, overlapped
    assert sorted(r.text for r in results) == [f"scripted {i}" for i in range(5)]
    assert emu.max_in_flight == 5


def test_sync_calls_work_inside_a_running_event_loop(
    llm: SegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_text("scripted one").queue_text("scripted two").queue_text("scripted three")

    async def notebook_cell() -> list[str]:
        # As in Jupyter or a FastAPI handler: a loop is running and sync code calls the LLM.
        asyncio.get_running_loop()
        return [
            llm.complete("a").text,
            llm.chat(user("b")).message.content or "",
            next(iter(llm.stream_chat(user("c")))).delta or "",
        ]

    assert asyncio.run(notebook_cell()) == ["scripted one", "scripted two", "scripted three"]


def test_async_works_across_event_loops(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text("scripted first loop").queue_text("scripted second loop")

    async def call() -> str:
        text = (await llm.acomplete("x")).text
        await llm.aclose()
        return text

    assert asyncio.run(call()) == "scripted first loop"
    assert asyncio.run(call()) == "scripted second loop"


def test_callbacks_fire_for_every_entry_point(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    counter = TokenCountingHandler()
    llm = make_llm(callback_manager=CallbackManager([counter]))
    llm.chat(user("a"))
    llm.complete("b")
    list(llm.stream_chat(user("c")))
    list(llm.stream_complete("d"))

    async def rest() -> None:
        await llm.achat(user("e"))
        await llm.acomplete("f")
        [c async for c in await llm.astream_chat(user("g"))]
        [c async for c in await llm.astream_complete("h")]
        await llm.aclose()

    asyncio.run(rest())
    assert len(counter.llm_token_counts) == 8


# --------------------------------------------------------------------------- errors

ERRORS: list[tuple[Callable[[SegmindEmulator], Any], type[SegmindError]]] = [
    (lambda e: e.queue_error(400, "bad field"), BadRequestError),
    (lambda e: e.queue_error(401, "Unauthorized"), AuthenticationError),
    (lambda e: e.queue_error(403, "forbidden"), PermissionDeniedError),
    (lambda e: e.queue_error(404, "no such model"), NotFoundError),
    (lambda e: e.queue_error(406, "Insufficient credits"), InsufficientCreditsError),
    (lambda e: e.queue_error(406, "Invalid content type"), InvalidContentTypeError),
    (lambda e: e.queue_error(410, "model retired"), ModelRetiredError),
    (lambda e: e.queue_error(422, "validation failed"), UnprocessableEntityError),
    (lambda e: e.queue_fault("rate_limit"), RateLimitError),
    (lambda e: e.queue_error(500, "internal"), InternalServerError),
    (lambda e: e.queue_fault("html_502"), InternalServerError),
    (lambda e: e.queue_fault("reset"), APIConnectionError),
    (lambda e: e.queue_fault("truncated"), APIConnectionError),
    (lambda e: e.queue_fault("blocked", reason="SAFETY"), ContentBlockedError),
    (lambda e: e.queue_response({"unexpected": True}), ResponseParseError),
]


@pytest.mark.parametrize(("script", "error"), ERRORS)
def test_core_errors_propagate_unchanged(
    make_llm: Callable[..., SegmindGemini],
    emu: SegmindEmulator,
    script: Callable[[SegmindEmulator], Any],
    error: type[SegmindError],
) -> None:
    script(emu)
    # A 429 waits its turn; with no waiting allowed it surfaces at once.
    llm = make_llm(max_rate_limit_wait=0)
    with pytest.raises(error):
        llm.chat(user("q"))


def test_a_429_waits_for_the_reset_then_answers(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    emu.queue_fault("rate_limit", reset_after=0.3).queue_text("after the reset")
    llm = make_llm(requests_per_minute=50)  # max_retries=0: a turn is not a retry
    assert llm.client.requests_per_minute == 50
    assert llm.complete("q").text == "after the reset"
    assert llm.client.rate_limit_status().rate_limited == 1


@pytest.mark.parametrize(("script", "error"), ERRORS[:3])
async def test_core_errors_propagate_unchanged_async(
    allm: SegmindGemini,
    emu: SegmindEmulator,
    script: Callable[[SegmindEmulator], Any],
    error: type[SegmindError],
) -> None:
    script(emu)
    with pytest.raises(error):
        await allm.achat(user("q"))


def test_timeout_raises_api_timeout(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    from segmind_gemini import APITimeoutError

    emu.queue_text("too late", delay=1.0)
    with pytest.raises(APITimeoutError):
        make_llm().complete("q", timeout=0.2)


def test_retries_recover_from_a_fault(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    emu.queue_fault("reset").queue_text("scripted after retry")
    assert make_llm(max_retries=1).complete("q").text == "scripted after retry"
    assert len(emu.requests) == 2


def test_wrong_key_is_an_authentication_error(make_llm: Callable[..., SegmindGemini]) -> None:
    with pytest.raises(AuthenticationError):
        make_llm(api_key="wrong-key").complete("q")

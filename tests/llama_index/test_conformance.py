"""LlamaIndex conformance: what llama-index-core expects of any LLM, against the emulator.

LlamaIndex ships no standard suite like langchain-tests, so this is ours: metadata, chat
and complete in all four forms (sync, async, stream, async stream), structured_predict
and its stream/async forms, as_structured_llm, predict_and_call, the tool-calling
helpers, the callback manager's LLM events, the instrumentation events, and
TokenCountingHandler. Like the LangChain run, it checks plumbing, not a model: unscripted
answers are the emulator's (type-correct for what was asked), and where a test needs a
particular answer it scripts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    LLMMetadata,
)
from llama_index.core.callbacks import CallbackManager, CBEventType, TokenCountingHandler
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionInProgressEvent,
    LLMCompletionStartEvent,
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictInProgressEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini.testing import SegmindEmulator

MODEL = "gemini-2.5-flash"
HI = [ChatMessage(role="user", content="Hi")]
DESCRIBED = "emulated reply: 1 text part"


class City(BaseModel):
    name: str
    population_millions: float


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


ADD = FunctionTool.from_defaults(fn=add)


# -- metadata -----------------------------------------------------------------------


def test_metadata_describes_a_function_calling_chat_model(llm: SegmindGemini) -> None:
    meta = llm.metadata
    assert isinstance(meta, LLMMetadata)
    assert meta.model_name == MODEL
    assert meta.is_chat_model and meta.is_function_calling_model
    assert meta.context_window > 100_000
    assert meta.num_output > 0
    assert SegmindGemini.class_name() == "SegmindGemini"


# -- chat and complete, four forms each ---------------------------------------------


def _run(value: Any) -> Any:
    return asyncio.run(value) if asyncio.iscoroutine(value) else value


async def _drain(gen: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in gen]


def _chat(llm: SegmindGemini, form: str) -> list[ChatResponse]:
    if form == "sync":
        return [llm.chat(HI)]
    if form == "stream":
        return list(llm.stream_chat(HI))

    async def go() -> list[ChatResponse]:
        try:
            if form == "async":
                return [await llm.achat(HI)]
            return await _drain(await llm.astream_chat(HI))
        finally:
            await llm.aclose()

    return asyncio.run(go())


def _complete(llm: SegmindGemini, form: str) -> list[CompletionResponse]:
    if form == "sync":
        return [llm.complete("Hi")]
    if form == "stream":
        return list(llm.stream_complete("Hi"))

    async def go() -> list[CompletionResponse]:
        try:
            if form == "async":
                return [await llm.acomplete("Hi")]
            return await _drain(await llm.astream_complete("Hi"))
        finally:
            await llm.aclose()

    return asyncio.run(go())


FORMS = ["sync", "async", "stream", "astream"]


@pytest.mark.parametrize("form", FORMS)
def test_chat_in_every_form(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator, form: str
) -> None:
    responses = _chat(make_llm(), form)
    last = responses[-1]
    assert isinstance(last, ChatResponse)
    assert last.message.role == "assistant"
    assert last.message.content == DESCRIBED
    if form.endswith("stream"):
        assert "".join(r.delta or "" for r in responses) == DESCRIBED
    assert last.raw is not None
    sent = emu.requests[-1].messages
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]


@pytest.mark.parametrize("form", FORMS)
def test_complete_in_every_form(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator, form: str
) -> None:
    responses = _complete(make_llm(), form)
    last = responses[-1]
    assert isinstance(last, CompletionResponse)
    assert last.text == DESCRIBED
    if form.endswith("stream"):
        assert "".join(r.delta or "" for r in responses) == DESCRIBED
    assert emu.requests[-1].messages["contents"][0]["parts"] == [{"text": "Hi"}]


# -- structured output --------------------------------------------------------------

PROMPT = PromptTemplate("Describe {city}.")


def test_structured_predict_sync_and_async(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    # Unscripted, the emulator answers a value made from the schema it was sent.
    city = llm.structured_predict(City, PROMPT, city="Lima")
    assert city == City(name="emulated name", population_millions=0.0)
    emu.queue_text('{"name": "Lima", "population_millions": 10.1}')

    async def go() -> City:
        try:
            return await llm.astructured_predict(City, PROMPT, city="Lima")
        finally:
            await llm.aclose()

    assert asyncio.run(go()) == City(name="Lima", population_millions=10.1)
    assert "Lima" in emu.requests[-1].body.decode()


def test_stream_structured_predict_sync_and_async(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_text('{"name": "Lima", "population_millions": 10.1}')
    parts = list(llm.stream_structured_predict(City, PROMPT, city="Lima"))
    assert parts and isinstance(parts[-1], City)
    assert parts[-1].name == "Lima"

    async def go() -> list[Any]:
        try:
            return await _drain(await llm.astream_structured_predict(City, PROMPT, city="Lima"))
        finally:
            await llm.aclose()

    last = asyncio.run(go())[-1]
    assert isinstance(last, City)


def test_as_structured_llm_chat_and_complete(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    structured = llm.as_structured_llm(City)
    emu.queue_text('{"name": "Lima", "population_millions": 10.1}')
    answer = structured.chat([ChatMessage(role="user", content="Lima?")])
    assert answer.raw == City(name="Lima", population_millions=10.1)
    assert City.model_validate_json(answer.message.content or "") == answer.raw
    completed = structured.complete("Lima?")
    assert isinstance(completed.raw, City)


# -- tools --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["prompt", "native"])
def test_chat_with_tools_forced_gives_a_call_valid_for_the_schema(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator, mode: str
) -> None:
    llm = make_llm(tool_calling=mode)
    response = llm.chat_with_tools([ADD], user_msg="Add 2 and 3", tool_required=True)
    assert ("tools" in emu.requests[-1].messages) == (mode == "native")
    calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=True)
    assert len(calls) == 1
    assert isinstance(calls[0], ToolSelection)
    assert calls[0].tool_name == "add"
    assert set(calls[0].tool_kwargs) == {"a", "b"}
    assert all(isinstance(v, int) for v in calls[0].tool_kwargs.values())
    assert calls[0].tool_id


def test_get_tool_calls_from_a_plain_answer(llm: SegmindGemini) -> None:
    response = llm.chat_with_tools([ADD], user_msg="Hi")
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError):
        llm.get_tool_calls_from_response(response, error_on_no_tool_call=True)


def test_predict_and_call_runs_the_scripted_call(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    # Against the emulator the default tool mode is the prompted protocol.
    emu.queue_prompted_tool_call("add", {"a": 2, "b": 3})
    result = llm.predict_and_call([ADD], user_msg="Add 2 and 3")
    assert result.response == "5"
    assert result.sources[0].tool_name == "add"
    assert result.sources[0].raw_input == {"args": (), "kwargs": {"a": 2, "b": 3}}
    assert len(emu.requests) == 1 and emu.pending == 0


def test_apredict_and_call(llm: SegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_prompted_tool_call("add", {"a": 4, "b": 5})

    async def go() -> Any:
        try:
            return await llm.apredict_and_call([ADD], user_msg="Add 4 and 5")
        finally:
            await llm.aclose()

    assert asyncio.run(go()).response == "9"


# -- callbacks, instrumentation, token counting -------------------------------------


class _Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        super().__init__([], [])
        self.events: list[tuple[str, CBEventType]] = []

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        self.events.append(("start", event_type))
        return event_id

    def on_event_end(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        **kwargs: Any,
    ) -> None:
        self.events.append(("end", event_type))

    def start_trace(self, trace_id: str | None = None) -> None:
        return None

    def end_trace(
        self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None
    ) -> None:
        return None


@pytest.mark.parametrize("form", FORMS)
def test_callback_manager_sees_one_llm_event_per_call(
    make_llm: Callable[..., SegmindGemini], form: str
) -> None:
    recorder = _Recorder()
    llm = make_llm(callback_manager=CallbackManager([recorder]))
    _chat(llm, form)
    _complete(llm, form)
    assert recorder.events == [("start", CBEventType.LLM), ("end", CBEventType.LLM)] * 2


class _Events(BaseEventHandler):
    seen: list[BaseEvent] = []

    @classmethod
    def class_name(cls) -> str:
        return "ConformanceEvents"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.seen.append(event)


@pytest.fixture
def events() -> Iterator[list[BaseEvent]]:
    dispatcher = get_dispatcher()
    handler = _Events(seen=[])
    dispatcher.add_event_handler(handler)
    try:
        yield handler.seen
    finally:
        dispatcher.event_handlers.remove(handler)


def _kinds(events: list[BaseEvent]) -> list[type[BaseEvent]]:
    return [type(e) for e in events]


@pytest.mark.parametrize("form", FORMS)
def test_instrumentation_events_for_chat_and_complete(
    make_llm: Callable[..., SegmindGemini], events: list[BaseEvent], form: str
) -> None:
    llm = make_llm()
    _chat(llm, form)
    chat = [t for t in _kinds(events) if t.__name__.startswith("LLMChat")]
    assert chat[0] is LLMChatStartEvent and chat[-1] is LLMChatEndEvent
    assert (LLMChatInProgressEvent in chat) == form.endswith("stream")
    end = next(e for e in events if isinstance(e, LLMChatEndEvent))
    assert end.response is not None and end.response.message.content == DESCRIBED
    events.clear()
    _complete(llm, form)
    done = [t for t in _kinds(events) if t.__name__.startswith("LLMCompletion")]
    assert done[0] is LLMCompletionStartEvent and done[-1] is LLMCompletionEndEvent
    assert (LLMCompletionInProgressEvent in done) == form.endswith("stream")


def test_instrumentation_events_for_structured_predict(
    llm: SegmindGemini, events: list[BaseEvent]
) -> None:
    llm.structured_predict(City, PROMPT, city="Lima")
    kinds = _kinds(events)
    assert kinds.index(LLMStructuredPredictStartEvent) < kinds.index(LLMStructuredPredictEndEvent)
    end = next(e for e in events if isinstance(e, LLMStructuredPredictEndEvent))
    assert isinstance(end.output, City)


def test_stream_structured_predict_emits_in_progress_events(
    llm: SegmindGemini, emu: SegmindEmulator, events: list[BaseEvent]
) -> None:
    emu.queue_text('{"name": "Lima", "population_millions": 10.1}')
    parts = list(llm.stream_structured_predict(City, PROMPT, city="Lima"))
    progress = [e for e in events if isinstance(e, LLMStructuredPredictInProgressEvent)]
    assert len(progress) == len(parts) >= 1


@pytest.mark.parametrize("form", FORMS)
def test_token_counting_handler_reads_the_usage_gemini_reported(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator, form: str
) -> None:
    counter = TokenCountingHandler(tokenizer=lambda text: text.split())
    llm = make_llm(callback_manager=CallbackManager([counter]))
    usage = {"promptTokenCount": 321, "candidatesTokenCount": 9, "totalTokenCount": 330}
    emu.queue_text("scripted answer", usage=usage)
    _chat(llm, form)
    assert (counter.prompt_llm_token_count, counter.completion_llm_token_count) == (321, 9)
    assert counter.total_llm_token_count == 330

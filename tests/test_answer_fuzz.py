"""Odd answers through both adapters, sync and async: only the library's errors leave.

The emulator (the package's local stand-in for Segmind's HTTP API, over a real
socket) answers each call with a Hypothesis-made body close to a real Gemini
answer: lone surrogates, misshapen logprobs, code-execution parts in either
spelling, tool calls with odd arguments, usage and safety metadata of the wrong
type. Every adapter path a user reaches is called on it:

* LangChain: ``invoke``, ``stream``, ``ainvoke``, ``astream``, bound tools (prompt
  and native) sync and async;
* LlamaIndex: ``chat``, ``achat``, ``achat_with_tools``, ``astream_chat``,
  ``astructured_predict``.

The property: each call returns, or raises a :class:`segmind_gemini.SegmindError`
(the LangChain adapter's errors are LangChain's too); what comes back can be
encoded as UTF-8. Derandomized and bounded: seconds.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmind_gemini import SegmindError
from segmind_gemini.governor import forget_rate_limits
from segmind_gemini.testing import SegmindEmulator

pytestmark = pytest.mark.timeout(180)

FUZZ = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ODD = st.sampled_from(["", "\ud800", "a\udfffb", "\x00", "𝔘🎉", "{bad", '{"tool_calls": 3}'])
TEXT = st.one_of(ODD, ODD, st.text(max_size=12))
SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT, st.just(1e300)
)
ANY = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)


def _or_any(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right shape (so the answer is read and rendered), sometimes anything."""
    return st.one_of(strategy, strategy, strategy, strategy, ANY)


SURROGATES = st.sampled_from(["\ud800", "a\udfffb", "\udc00z"])
LOGPROB = st.fixed_dictionaries(
    {"token": st.one_of(SURROGATES, TEXT)}, optional={"logProbability": _or_any(st.floats())}
)
TOP = st.fixed_dictionaries({"candidates": _or_any(st.lists(LOGPROB, max_size=2))})
LOGPROBS = st.fixed_dictionaries(
    {"chosenCandidates": _or_any(st.lists(LOGPROB, min_size=1, max_size=2))},
    optional={
        # A dict where a list belongs is what raised KeyError in token_logprobs.
        "topCandidates": st.one_of(
            st.lists(TOP, max_size=2), st.dictionaries(st.text(max_size=2), TOP, max_size=2), ANY
        ),
    },
)


def _keyed(names: list[str], value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``{name: value}`` for one of ``names`` (a kind in either spelling)."""
    return st.tuples(st.sampled_from(names), value).map(lambda kv: {kv[0]: kv[1]})


PART = st.one_of(
    st.fixed_dictionaries({"text": _or_any(TEXT)}, optional={"thought": ANY}),
    _keyed(
        ["functionCall", "function_call"],
        _or_any(
            st.fixed_dictionaries(
                {"name": st.sampled_from(["lookup", "nope", "\ud800"])},
                optional={"args": _or_any(st.dictionaries(TEXT, ANY, max_size=2))},
            )
        ),
    ),
    _keyed(
        ["executableCode", "executable_code"],
        _or_any(st.fixed_dictionaries({}, optional={"code": ANY, "language": ANY})),
    ),
    _keyed(
        ["codeExecutionResult", "code_execution_result"],
        _or_any(st.fixed_dictionaries({}, optional={"outcome": ANY, "output": ANY})),
    ),
    _keyed(
        ["inlineData", "inline_data"],
        _or_any(st.fixed_dictionaries({"mimeType": ANY, "data": ANY})),
    ),
)
BODY = st.fixed_dictionaries(
    {
        "candidates": st.lists(
            st.fixed_dictionaries(
                {
                    "content": st.fixed_dictionaries(
                        {"parts": st.lists(_or_any(PART), max_size=3)}
                    ),
                    # null is absent; logprobs are where the surrogate and KeyError bugs were.
                    "logprobsResult": st.one_of(LOGPROBS, LOGPROBS, ANY, st.none()),
                },
                optional={
                    "finishReason": _or_any(st.sampled_from(["STOP", "SAFETY", "MAX_TOKENS"])),
                    "safetyRatings": ANY,
                    "groundingMetadata": ANY,
                },
            ),
            min_size=1,
            max_size=2,
        )
    },
    optional={
        "usageMetadata": _or_any(
            st.dictionaries(
                st.sampled_from(["promptTokenCount", "candidatesTokenCount", "totalTokenCount"]),
                _or_any(st.one_of(st.integers(0, 99), st.floats(allow_nan=True))),
            )
        ),
        "modelVersion": ANY,
    },
)


def _check(outcome: Any) -> None:
    """A returned value must survive UTF-8 encoding; an error must be the library's."""
    if isinstance(outcome, BaseException):
        assert isinstance(outcome, SegmindError), f"{type(outcome).__name__}: {outcome!r}"
        assert str(outcome).strip()
    else:
        repr(outcome).encode("utf-8")


async def _outcome(call: Any) -> Any:
    try:
        return await call
    except Exception as exc:
        return exc


async def _collect(stream: Any) -> list[Any]:
    return [chunk async for chunk in stream]


def _sync_outcome(call: Any) -> Any:
    try:
        return call()
    except Exception as exc:
        return exc


@pytest.fixture(scope="module")
def emulator() -> Any:
    with SegmindEmulator() as emu:
        yield emu


def _queue(emulator: SegmindEmulator, body: dict[str, Any], times: int) -> None:
    emulator.reset()
    forget_rate_limits()
    raw = json.dumps(body)  # ensure_ascii: lone surrogates travel as \\ud800 escapes
    for _ in range(times):
        emulator.queue_response(raw)


@FUZZ
@given(body=BODY)
def test_langchain_sync_and_async_paths_on_any_answer(
    emulator: SegmindEmulator, body: dict[str, Any]
) -> None:
    pytest.importorskip("langchain_core")
    from langchain_segmind_gemini import ChatSegmindGemini

    def lookup(query: str) -> str:
        """Look something up."""
        return query

    _queue(emulator, body, 8)
    options = {"api_key": emulator.api_key, "base_url": emulator.base_url, "max_retries": 0}
    model = ChatSegmindGemini(**options)
    native = model.bind_tools([lookup], tool_calling="native")
    prompted = model.bind_tools([lookup])
    try:
        _check(_sync_outcome(lambda: model.invoke("hi")))
        _check(_sync_outcome(lambda: list(model.stream("hi"))))
        _check(_sync_outcome(lambda: prompted.invoke("hi")))

        async def run() -> None:
            _check(await _outcome(model.ainvoke("hi")))
            _check(await _outcome(_collect(model.astream("hi"))))
            _check(await _outcome(prompted.ainvoke("hi")))
            _check(await _outcome(native.ainvoke("hi")))
            _check(await _outcome(_collect(native.astream("hi"))))
            await model.aclose()

        asyncio.run(run())
    finally:
        model.close()


@FUZZ
@given(body=BODY)
def test_llama_index_sync_and_async_paths_on_any_answer(
    emulator: SegmindEmulator, body: dict[str, Any]
) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.prompts import PromptTemplate
    from llama_index.core.tools import FunctionTool
    from pydantic import BaseModel

    from llama_index_segmind_gemini import SegmindGemini

    class City(BaseModel):
        name: str

    def lookup(query: str) -> str:
        """Look something up."""
        return query

    tool = FunctionTool.from_defaults(fn=lookup)
    _queue(emulator, body, 10)
    llm = SegmindGemini(api_key=emulator.api_key, base_url=emulator.base_url, max_retries=0)
    messages = [ChatMessage(role="user", content="hi")]
    try:
        _check(_sync_outcome(lambda: llm.chat(messages)))
        _check(_sync_outcome(lambda: llm.chat_with_tools([tool], user_msg="hi")))

        async def run() -> None:
            _check(await _outcome(llm.achat(messages)))
            _check(await _outcome(llm.achat_with_tools([tool], user_msg="hi")))
            stream = await llm.astream_chat(messages)
            _check(await _outcome(_collect(stream)))
            _check(await _outcome(llm.astructured_predict(City, PromptTemplate("a city"))))
            llm.tool_calling = "native"
            _check(await _outcome(llm.achat_with_tools([tool], user_msg="hi")))
            llm.tool_calling = "prompt"
            await llm.aclose()

        asyncio.run(run())
    finally:
        llm.close()

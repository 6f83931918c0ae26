"""Issue 9 regressions for ChatSegmindGemini: malformed blocks, lone surrogates, pickles, closing."""

from __future__ import annotations

import asyncio
import pickle
import re
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_segmind_gemini import ChatSegmindGemini
from segmind_gemini import InvalidRequestError
from segmind_gemini.testing import SegmindEmulator

Make = Callable[..., ChatSegmindGemini]
CALL = AIMessage("", tool_calls=[{"name": "lookup", "args": {}, "id": "c1"}])

MALFORMED: list[tuple[list[BaseMessage], str]] = [
    (
        [HumanMessage(content=[{"type": "image", "base64": "aGk=", "mime_type": 5}])],
        "'mime_type' must be a string",
    ),
    (
        [
            HumanMessage(
                content=[{"type": "image", "url": "https://x.test/a.png", "mime_type": ["a"]}]
            )
        ],
        "'mime_type' must be a string",
    ),
    ([HumanMessage(content=[{"type": ["image"]}])], "'type' must be a string"),
    (
        [HumanMessage(content=[{"type": "image_url", "image_url": {"url": 5}}])],
        "'url' must be a string",
    ),
    (
        [HumanMessage(content=[{"type": "file", "file": {"file_data": 7}}])],
        "'file_data' must be a string",
    ),
    (
        [
            HumanMessage(
                content=[{"type": "input_audio", "input_audio": {"data": "aGk=", "format": 3}}]
            )
        ],
        "'format' must be a string",
    ),
    (
        [
            HumanMessage("q"),
            CALL,
            ToolMessage(content=[{"rows": [{(1, 2): 3}]}], tool_call_id="c1"),
        ],
        "cannot be .*keys must be str",
    ),
]


@pytest.mark.parametrize(("messages", "words"), MALFORMED)
def test_malformed_blocks_name_message_block_and_what_is_accepted(
    model: ChatSegmindGemini, emu: SegmindEmulator, messages: list[BaseMessage], words: str
) -> None:
    index = len(messages) - 1
    with pytest.raises(
        ModelInvalidRequestError, match=rf"message {index} \(\w+\), content block 0"
    ) as info:
        model.invoke(messages)
    assert isinstance(info.value, InvalidRequestError)
    assert re.search(words, str(info.value))
    assert "accepted" in str(info.value) or "use string keys" in str(info.value)
    assert emu.requests == []


SURROGATES: list[tuple[list[BaseMessage], str]] = [
    ([HumanMessage("bad \ud800")], r"message 0 \(human\), content"),
    (
        [HumanMessage(content=["ok", {"type": "text", "text": "\udfff"}])],
        r"message 0 \(human\), content block 1",
    ),
    ([SystemMessage("\ud800"), HumanMessage("x")], r"message 0 \(system\)"),
    (
        [
            HumanMessage("x"),
            AIMessage("", tool_calls=[{"name": "f", "args": {"q": "\ud800"}, "id": "c"}]),
        ],
        r"message 1 \(ai\), tool_calls",
    ),
    (
        [HumanMessage("q"), CALL, ToolMessage("out \udc00", tool_call_id="c1")],
        r"message 2 \(tool\)",
    ),
    (
        [HumanMessage("q"), CALL, ToolMessage(content=[{"k\ud800": 1}], tool_call_id="c1")],
        r"message 2 \(tool\), content block 0",
    ),
]


@pytest.mark.parametrize(("messages", "where"), SURROGATES)
async def test_lone_surrogates_are_refused_before_sending(
    model: ChatSegmindGemini, emu: SegmindEmulator, messages: list[BaseMessage], where: str
) -> None:
    with pytest.raises(ModelInvalidRequestError, match=where) as info:
        model.invoke(messages)
    assert "lone surrogate" in str(info.value)
    with pytest.raises(ModelInvalidRequestError, match=where):
        await model.ainvoke(messages)
    assert emu.requests == []


def test_pickles_and_dumps_never_hold_the_key(
    make_model: Make, emu: SegmindEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-test-NOT-A-REAL-KEY-pickle"
    model = make_model(api_key=key)
    dumps: list[Any] = [
        pickle.dumps(model),
        pickle.dumps(model.model_dump()),
        model.model_dump_json(),
        repr(model),
        pickle.dumps(model.bind(temperature=0.1)),
    ]
    for dumped in dumps:
        assert key.encode() not in (dumped if isinstance(dumped, bytes) else dumped.encode())
    monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
    clone = pickle.loads(dumps[0])
    assert clone.api_key is not None and clone.api_key.get_secret_value() == emu.api_key
    assert clone.invoke("Hi").content
    clone.close()
    monkeypatch.delenv("SEGMIND_API_KEY")
    assert pickle.loads(dumps[0]).api_key is None


async def test_calls_after_close_and_aclose_reconnect(make_model: Make) -> None:
    model = make_model()
    assert (await model.ainvoke("Hi")).content
    await model.aclose()
    assert (await model.ainvoke("Hi")).content
    await model.aclose()
    assert (await asyncio.to_thread(model.invoke, "Hi")).content
    model.close()
    assert (await model.ainvoke("Hi")).content
    assert (await asyncio.to_thread(model.invoke, "Hi")).content
    await model.aclose()


@pytest.mark.parametrize("stop", [5, {"a": 1}])
def test_a_bad_stop_is_the_packages_error_not_a_type_error(
    model: ChatSegmindGemini, emu: SegmindEmulator, stop: Any
) -> None:
    # The trace metadata (_get_ls_params) ran list(stop) first: TypeError escaped.
    with pytest.raises(InvalidRequestError, match="stop_sequences"):
        model.invoke("hi", stop=stop)
    assert emu.requests == []


def test_a_string_stop_is_one_sequence_in_the_trace_metadata(model: ChatSegmindGemini) -> None:
    assert model._get_ls_params(stop="END")["ls_stop"] == ["END"]  # not ["E", "N", "D"]

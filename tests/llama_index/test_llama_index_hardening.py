"""Issue 9 regressions for SegmindGemini: reconnecting after close, lone surrogates."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from llama_index.core.base.llms.types import TextBlock
from llama_index.core.llms import ChatMessage

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini import InvalidRequestError
from segmind_gemini.testing import SegmindEmulator

Make = Callable[..., SegmindGemini]
HI = [ChatMessage(role="user", content="Hi")]


def test_chat_after_close_reconnects(make_llm: Make, emu: SegmindEmulator) -> None:
    llm = make_llm()
    assert llm.chat(HI).message.content
    llm.close()
    assert llm.chat(HI).message.content
    with llm:
        assert llm.complete("Hi").text
    assert llm.chat(HI).message.content
    assert len(emu.requests) == 4


async def test_sync_and_async_calls_after_aclose_reconnect(make_llm: Make) -> None:
    llm = make_llm()
    assert (await llm.achat(HI)).message.content
    await llm.aclose()
    assert (await llm.achat(HI)).message.content
    await llm.aclose()
    # The sync path after aclose (in a thread: it blocks).
    assert (await asyncio.to_thread(llm.chat, HI)).message.content
    async with llm:
        assert (await llm.acomplete("Hi")).text
    assert (await asyncio.to_thread(llm.complete, "Hi")).text
    llm.close()


@pytest.mark.parametrize(
    ("messages", "where"),
    [
        (
            [ChatMessage(role="user", content="bad \ud800")],
            r"messages\[0\]\.blocks\[0\] \(TextBlock\)",
        ),
        (
            [ChatMessage(role="user", blocks=[TextBlock(text="ok"), TextBlock(text="\udfff")])],
            r"messages\[0\]\.blocks\[1\]",
        ),
        (
            [ChatMessage(role="system", content="\ud800"), ChatMessage(role="user", content="x")],
            r"messages\[0\]\.blocks\[0\]",
        ),
        (
            [
                ChatMessage(role="user", content="q"),
                ChatMessage(role="assistant", content="a"),
                ChatMessage(
                    role="tool", content="out \udc00", additional_kwargs={"tool_call_id": "c"}
                ),
            ],
            r"messages\[2\]\.blocks\[0\]",
        ),
        (
            [
                ChatMessage(role="user", content="q"),
                ChatMessage(
                    role="assistant",
                    content="",
                    additional_kwargs={
                        "tool_calls": [
                            {"id": "c", "function": {"name": "f", "arguments": '{"a": "\\ud800"}'}}
                        ]
                    },
                ),
            ],
            r"messages\[1\] tool calls",
        ),
    ],
)
async def test_lone_surrogates_are_refused_before_sending(
    llm: SegmindGemini, emu: SegmindEmulator, messages: list[ChatMessage], where: str
) -> None:
    with pytest.raises(InvalidRequestError, match=where) as info:
        llm.chat(messages)
    assert "lone surrogate" in str(info.value)
    with pytest.raises(InvalidRequestError, match=where):
        await llm.achat(messages)
    assert emu.requests == []

"""SegmindGemini keeps its constructor's settings layer between calls
(``segmind_gemini.planning.state``, shared with ChatSegmindGemini): every way of
changing a field must still reach the next request, on every entry point."""

from __future__ import annotations

import asyncio
import copy
import enum
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini.errors import BadRequestError, InvalidRequestError
from segmind_gemini.testing import SegmindEmulator

Make = Callable[..., SegmindGemini]
HI = [ChatMessage(role="user", content="Hi")]


def _config(emu: SegmindEmulator, index: int = -1) -> Any:
    return emu.requests[index].messages.get("generationConfig")


async def _drain(gen: Any) -> None:
    async for _ in await gen:
        pass


# One way to call per entry point: each must see a change made since the last call.
CALLS: dict[str, Callable[[SegmindGemini], Any]] = {
    "complete": lambda llm: llm.complete("Hi"),
    "chat": lambda llm: llm.chat(HI),
    "stream_complete": lambda llm: list(llm.stream_complete("Hi")),
    "stream_chat": lambda llm: list(llm.stream_chat(HI)),
    "acomplete": lambda llm: asyncio.run(llm.acomplete("Hi")),
    "achat": lambda llm: asyncio.run(llm.achat(HI)),
    "astream_complete": lambda llm: asyncio.run(_drain(llm.astream_complete("Hi"))),
    "astream_chat": lambda llm: asyncio.run(_drain(llm.astream_chat(HI))),
}


@pytest.mark.parametrize("entry", list(CALLS))
def test_assignment_and_in_place_changes_reach_the_next_call(
    make_llm: Make, emu: SegmindEmulator, entry: str
) -> None:
    call = CALLS[entry]
    llm = make_llm(temperature=0.1, generation_config={"topK": 3}, stop=["END"])
    call(llm)
    llm.temperature = 0.9
    call(llm)
    llm.generation_config["topK"] = 5  # type: ignore[index]
    llm.stop.append("FIN")  # type: ignore[union-attr]
    call(llm)
    llm.additional_kwargs["modelArmorConfig"] = {"promptTemplateName": "a"}
    call(llm)
    llm.additional_kwargs["modelArmorConfig"]["promptTemplateName"] = "b"  # nested, in place
    llm.generation_config = None
    call(llm)
    assert [_config(emu, i) for i in range(5)] == [
        {"temperature": 0.1, "topK": 3, "stopSequences": ["END"]},
        {"temperature": 0.9, "topK": 3, "stopSequences": ["END"]},
        {"temperature": 0.9, "topK": 5, "stopSequences": ["END", "FIN"]},
        {"temperature": 0.9, "topK": 5, "stopSequences": ["END", "FIN"]},
        {"temperature": 0.9, "stopSequences": ["END", "FIN"]},
    ]
    assert [r.messages.get("modelArmorConfig") for r in emu.requests] == [
        None,
        None,
        None,
        {"promptTemplateName": "a"},
        {"promptTemplateName": "b"},
    ]


def test_an_equal_value_of_another_type_is_a_change(make_llm: Make, emu: SegmindEmulator) -> None:
    # 1 == True in Python, but not on the wire: the contents are compared exactly.
    llm = make_llm(generation_config={"candidateCount": 1})
    llm.complete("Hi")
    llm.generation_config["candidateCount"] = True  # type: ignore[index]
    with pytest.raises(BadRequestError):  # Gemini (and the emulator) refuse a bool
        llm.complete("Hi")
    assert type(_config(emu)["candidateCount"]) is bool


def test_a_bad_value_assigned_later_is_refused_on_every_call(
    make_llm: Make, emu: SegmindEmulator
) -> None:
    llm = make_llm()
    llm.complete("Hi")
    llm.temperature = 5.0  # assignment is not validated by pydantic here
    for _ in range(2):
        with pytest.raises(InvalidRequestError, match="temperature must be a finite"):
            llm.complete("Hi")
    llm.temperature = 0.2
    llm.complete("Hi")
    assert len(emu.requests) == 2  # nothing sent for the refused calls
    assert _config(emu) == {"temperature": 0.2}


def test_copies_send_their_own_settings(make_llm: Make, emu: SegmindEmulator) -> None:
    llm = make_llm(temperature=0.1)
    llm.complete("Hi")
    other = llm.model_copy(update={"temperature": 0.5})
    deep = copy.deepcopy(llm)
    deep.temperature = 0.7
    for _ in range(2):
        llm.complete("Hi")
        other.complete("Hi")
        deep.complete("Hi")
    assert [_config(emu, i)["temperature"] for i in range(1, 7)] == [0.1, 0.5, 0.7] * 2
    deep.close()


def test_a_pickled_llm_starts_with_an_empty_cache(
    make_llm: Make, emu: SegmindEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = make_llm(temperature=0.1)
    llm.complete("Hi")
    monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)  # an unpickled LLM reads the env
    clone = pickle.loads(pickle.dumps(llm))
    clone.temperature = 0.3
    clone.complete("Hi")
    llm.complete("Hi")
    assert [_config(emu, i)["temperature"] for i in range(3)] == [0.1, 0.3, 0.1]
    clone.close()


class _Threshold(str, enum.Enum):
    ONLY_HIGH = "BLOCK_ONLY_HIGH"
    NONE = "BLOCK_NONE"


def test_contents_that_cannot_be_fingerprinted_are_rebuilt_each_call(
    make_llm: Make, emu: SegmindEmulator
) -> None:
    # Enum members cannot be marshalled: nothing is kept, and an in-place change
    # still takes effect.
    llm = make_llm(safety_settings={"HARM_CATEGORY_HARASSMENT": _Threshold.ONLY_HIGH})
    llm.complete("Hi")
    llm.safety_settings["HARM_CATEGORY_HARASSMENT"] = _Threshold.NONE  # type: ignore[index]
    llm.complete("Hi")
    sent = [r.messages["safetySettings"][0]["threshold"] for r in emu.requests]
    assert sent == ["BLOCK_ONLY_HIGH", "BLOCK_NONE"]

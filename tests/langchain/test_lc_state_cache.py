"""ChatSegmindGemini keeps what it derives from its fields between calls
(``segmind_gemini.planning.state``): every way of changing a field must still
reach the next request, exactly as if nothing were kept."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from langchain_segmind_gemini import (
    ChatSegmindGemini,
    SegmindBadRequestError,
    SegmindInvalidRequestError,
)
from segmind_gemini import SegmindError
from segmind_gemini.testing import SegmindEmulator

Make = Callable[..., ChatSegmindGemini]


def _config(emu: SegmindEmulator, index: int = -1) -> Any:
    return emu.requests[index].messages.get("generationConfig")


def test_assigning_a_field_reaches_the_next_call(make_model: Make, emu: SegmindEmulator) -> None:
    model = make_model(temperature=0.1)
    model.invoke("Hi")
    model.temperature = 0.9
    model.invoke("Hi")
    model.max_tokens = 7
    model.invoke("Hi")
    assert [_config(emu, i) for i in range(3)] == [
        {"temperature": 0.1},
        {"temperature": 0.9},
        {"temperature": 0.9, "maxOutputTokens": 7},
    ]
    assert model._identifying_params["max_output_tokens"] == 7


def test_in_place_changes_of_container_fields_reach_the_next_call(
    make_model: Make, emu: SegmindEmulator
) -> None:
    model = make_model(generation_config={"topK": 3}, stop=["END"], labels={"team": "a"})
    model.invoke("Hi")
    assert _config(emu) == {"topK": 3, "stopSequences": ["END"]}
    assert model._identifying_params["labels"] == {"team": "a"}
    model.generation_config["topK"] = 5  # type: ignore[index]
    model.stop.append("FIN")  # type: ignore[union-attr]
    model.labels["team"] = "b"  # type: ignore[index]
    model.invoke("Hi")
    assert _config(emu) == {"topK": 5, "stopSequences": ["END", "FIN"]}
    assert emu.requests[-1].messages["labels"] == {"team": "b"}
    assert model._identifying_params["labels"] == {"team": "b"}
    # Nested too, and an emptied container.
    model.generation_config["thinkingConfig"] = {"thinkingBudget": 0}  # type: ignore[index]
    model.invoke("Hi")
    model.generation_config["thinkingConfig"]["thinkingBudget"] = 64  # type: ignore[index]
    model.stop.clear()  # type: ignore[union-attr]
    model.invoke("Hi")
    assert _config(emu) == {"topK": 5, "thinkingConfig": {"thinkingBudget": 64}}


def test_an_equal_value_of_another_type_is_a_change(make_model: Make, emu: SegmindEmulator) -> None:
    # 1 == True == 1.0 in Python, but not on the wire: the contents are compared exactly.
    model = make_model(generation_config={"candidateCount": 1})
    model.invoke("Hi")
    model.generation_config["candidateCount"] = True  # type: ignore[index]
    with pytest.raises(SegmindBadRequestError):  # Gemini (and the emulator) refuse a bool
        model.invoke("Hi")
    assert _config(emu) == {"candidateCount": True}
    assert type(_config(emu)["candidateCount"]) is bool
    # A named field too: True is refused where 1 was taken.
    model.generation_config = None
    model.top_k = 1
    model.invoke("Hi")
    model.top_k = True  # type: ignore[assignment]
    with pytest.raises(SegmindInvalidRequestError, match="top_k must be an integer"):
        model.invoke("Hi")


def test_in_place_change_of_model_kwargs_and_headers(
    make_model: Make, emu: SegmindEmulator
) -> None:
    model = make_model(model_kwargs={}, additional_headers={"x-team": "a"})
    model.invoke("Hi")
    first_client = model.client
    model.additional_headers["x-team"] = "b"  # type: ignore[index]
    model.model_kwargs["cachedContent"] = "cachedContents/abc"
    model.invoke("Hi")
    assert emu.requests[0].header("x-team") == "a"
    assert emu.requests[1].header("x-team") == "b"
    assert model.client is not first_client  # built again with the new headers
    assert emu.requests[1].messages["cachedContent"] == "cachedContents/abc"
    assert "cachedContent" not in emu.requests[0].messages


def test_a_copy_with_other_settings_and_its_original_each_send_their_own(
    make_model: Make, emu: SegmindEmulator
) -> None:
    model = make_model(temperature=0.1)
    copy = model.model_copy(update={"temperature": 0.5})
    for _ in range(2):
        model.invoke("Hi")
        copy.invoke("Hi")
    assert [_config(emu, i)["temperature"] for i in range(4)] == [0.1, 0.5, 0.1, 0.5]
    copy.close()


def test_a_bad_value_assigned_later_is_refused_on_every_call(make_model: Make) -> None:
    model = make_model()
    model.invoke("Hi")
    model.temperature = 5.0  # assignment is not validated by pydantic here
    for _ in range(2):
        with pytest.raises(SegmindInvalidRequestError, match="temperature must be a finite"):
            model.invoke("Hi")
    model.temperature = 0.2
    model.invoke("Hi")


class _Threshold(str, enum.Enum):
    ONLY_HIGH = "BLOCK_ONLY_HIGH"
    NONE = "BLOCK_NONE"


def test_contents_that_cannot_be_fingerprinted_are_rebuilt_each_call(
    make_model: Make, emu: SegmindEmulator
) -> None:
    # Enum members (the google-genai SDK's spelling) cannot be marshalled: nothing is
    # kept, and an in-place change still takes effect.
    model = make_model(safety_settings={"HARM_CATEGORY_HARASSMENT": _Threshold.ONLY_HIGH})
    model.invoke("Hi")
    model.safety_settings["HARM_CATEGORY_HARASSMENT"] = _Threshold.NONE  # type: ignore[index]
    model.invoke("Hi")
    sent = [r.messages["safetySettings"][0]["threshold"] for r in emu.requests]
    assert sent == ["BLOCK_ONLY_HIGH", "BLOCK_NONE"]


def test_a_new_key_or_timeout_reaches_the_next_call(make_model: Make, emu: SegmindEmulator) -> None:
    model = make_model(api_key="wrong-key-1234")
    with pytest.raises(SegmindError, match="401"):
        model.invoke("Hi")
    model.api_key = SecretStr(emu.api_key)
    model.invoke("Hi")
    assert [r.header("x-api-key") for r in emu.requests] == ["wrong-key-1234", emu.api_key]
    model.timeout = 7.0
    assert model.client.timeout == 7.0


def test_async_and_stream_calls_see_changes_too(make_model: Make, emu: SegmindEmulator) -> None:
    model = make_model(generation_config={"topK": 3})
    asyncio.run(model.ainvoke("Hi"))
    model.generation_config["topK"] = 4  # type: ignore[index]
    asyncio.run(model.ainvoke("Hi"))
    model.generation_config["topK"] = 5  # type: ignore[index]
    list(model.stream("Hi"))
    assert [_config(emu, i)["topK"] for i in range(3)] == [3, 4, 5]

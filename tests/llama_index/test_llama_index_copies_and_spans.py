"""Review 4 reproductions for SegmindGemini (both pre-date the speed work)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, SecretStr

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini import SegmindError
from segmind_gemini.testing import SegmindEmulator

SECRET = "sk-review4-secret-0123456789"
_SEEN: list[str] = []


class _Recorder(BaseSpanHandler[Any]):
    def new_span(self, id_: str, bound_args: inspect.BoundArguments, *a: Any, **k: Any) -> None:
        _SEEN.append(f"{id_.split('-')[0]} {bound_args.arguments!r}")

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture
def spans() -> Iterator[list[str]]:
    root = get_dispatcher()
    _SEEN.clear()
    saved = list(root.span_handlers)
    root.add_span_handler(_Recorder())
    yield _SEEN
    root.span_handlers = saved


class _City(BaseModel):
    name: str


@pytest.mark.parametrize("entry", ["chat_with_tools", "predict_and_call", "structured_predict"])
def test_a_per_call_credential_reaches_no_span(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator, spans: list[str], entry: str
) -> None:
    llm = make_llm()
    calls: dict[str, Callable[[], Any]] = {
        "chat_with_tools": lambda: llm.chat_with_tools([], user_msg="Hi", api_key=SECRET),
        "predict_and_call": lambda: llm.predict_and_call([], user_msg="Hi", api_key=SECRET),
        "structured_predict": lambda: llm.structured_predict(
            _City, PromptTemplate("Hi"), llm_kwargs={"api_key": SECRET}
        ),
    }
    with pytest.raises(SegmindError):
        calls[entry]()
    assert not emu.requests
    assert [s for s in spans if SECRET in s] == []


def test_a_copy_with_another_key_and_headers_sends_its_own(
    make_llm: Callable[..., SegmindGemini], emu: SegmindEmulator
) -> None:
    llm = make_llm(additional_headers={"x-team": "a"})
    llm.complete("Hi")
    other = llm.model_copy(
        update={"api_key": SecretStr("other-key-12345"), "additional_headers": {"x-team": "b"}}
    )
    with pytest.raises(SegmindError):  # the emulator refuses a key it does not know
        other.complete("Hi")
    assert emu.requests[-1].header("x-team") == "b"

"""LlamaIndex's instrumentation spans see every entry point's call as it was made
(the adapter stores each entry point's signature once, and binds its wrappers to
the instance, for speed: neither may change what a span handler receives)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from llama_index.core.llms import ChatMessage

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini.testing import SegmindEmulator

HI = [ChatMessage(role="user", content="Hi")]


_SEEN: list[tuple[str, inspect.BoundArguments, Any]] = []


class _Recorder(BaseSpanHandler[Any]):
    """Keeps what each new span was given (in ``_SEEN``)."""

    def new_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any = None,
        parent_span_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        _SEEN.append((id_, bound_args, instance))

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture
def spans() -> Iterator[list[tuple[str, inspect.BoundArguments, Any]]]:
    root = get_dispatcher()
    _SEEN.clear()
    saved = list(root.span_handlers)
    root.add_span_handler(_Recorder())
    yield _SEEN
    root.span_handlers = saved


def _ours(
    spans: list[tuple[str, inspect.BoundArguments, Any]], llm: SegmindGemini
) -> list[tuple[str, inspect.BoundArguments]]:
    return [(id_.split("-")[0], bound) for id_, bound, instance in spans if instance is llm]


def test_spans_get_the_instance_and_the_arguments_as_called(
    make_llm: Callable[..., SegmindGemini],
    emu: SegmindEmulator,
    spans: list[tuple[str, inspect.BoundArguments, Any]],
) -> None:
    llm = make_llm()
    llm.complete("Hi", temperature=0.3)
    llm.chat(HI, top_k=2)
    list(llm.stream_complete("Hi"))
    asyncio.run(llm.achat(HI))
    seen = _ours(spans, llm)
    assert [name for name, _ in seen] == [
        "SegmindGemini.complete",
        "SegmindGemini.chat",
        "SegmindGemini.stream_complete",
        "SegmindGemini.achat",
    ]
    complete, chat, stream, achat = (bound for _, bound in seen)
    assert complete.arguments == {"args": ("Hi",), "kwargs": {"temperature": 0.3}}
    assert chat.arguments == {"messages": HI, "kwargs": {"top_k": 2}}
    assert stream.arguments == {"args": ("Hi",)}
    assert achat.arguments == {"messages": HI}
    assert len(emu.requests) == 4


def test_the_stored_signatures_are_the_functions_own() -> None:
    for name in ("complete", "chat", "astream_chat", "acomplete"):
        inner = SegmindGemini.__dict__[name].__wrapped__.__wrapped__
        stored = vars(inner)["__signature__"]
        assert stored == inspect.signature(inner, follow_wrapped=False)
        del inner.__signature__  # what inspect works out without it
        try:
            assert inspect.signature(inner) == stored
        finally:
            inner.__signature__ = stored

"""Review 4: StateCache.get() pairs the fingerprint taken *before* build() with what
build() read later. A field another thread changes while a build runs (and changes back,
e.g. a temporary override) leaves the other value cached under the current fingerprint:
every later call sends it, although the field no longer holds it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from langchain_segmind_gemini import ChatSegmindGemini
from segmind_gemini.testing import SegmindEmulator


def test_a_value_read_by_a_concurrent_build_is_not_kept_under_another_fingerprint(
    make_model: Callable[..., ChatSegmindGemini],
    emu: SegmindEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = make_model(temperature=0.1)
    started, changed, read, restored = (threading.Event() for _ in range(4))
    original = ChatSegmindGemini._constructor_settings

    def observed(self: ChatSegmindGemini) -> dict[str, Any]:
        if started.is_set():
            return original(self)
        started.set()  # the first build, fingerprinted with temperature=0.1
        changed.wait(5)
        values = original(self)  # reads what the other thread set meanwhile
        read.set()
        restored.wait(5)
        return values

    monkeypatch.setattr(ChatSegmindGemini, "_constructor_settings", observed)
    caller = threading.Thread(target=model.invoke, args=("Hi",))
    caller.start()
    started.wait(5)
    model.temperature = 0.9  # another thread overrides the field for a moment...
    changed.set()
    read.wait(5)
    model.temperature = 0.1  # ...and puts it back
    restored.set()
    caller.join(5)
    for _ in range(2):
        model.invoke("Hi")
        assert model.temperature == 0.1
        sent: Any = emu.requests[-1].messages
        assert sent["generationConfig"] == {"temperature": 0.1}


def test_configurable_fields_work(
    make_model: Callable[..., ChatSegmindGemini], emu: SegmindEmulator
) -> None:
    # LangChain rebuilds the model from every field in __dict__, the framework's
    # custom_get_token_ids=None included, which the constructor's screen refuses as a
    # credential (pre-existing: not from the speed work).
    from langchain_core.runnables import ConfigurableField

    model = make_model(temperature=0.1)
    configurable = model.configurable_fields(temperature=ConfigurableField(id="t"))
    configurable.invoke("Hi", config={"configurable": {"t": 0.3}})
    sent: Any = emu.requests[-1].messages
    assert sent["generationConfig"] == {"temperature": 0.3}

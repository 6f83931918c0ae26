"""Fixtures for the LlamaIndex adapter tests.

One emulator (the package's local stand-in for Segmind's HTTP API, not a model)
serves the whole module and is reset between tests; every answer a test relies
on is scripted by that test, and with nothing scripted the emulator replies
"emulated reply: ..." describing what it received.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from llama_index.core import Settings

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini.testing import SegmindEmulator


@pytest.fixture
def make_llm(emu: SegmindEmulator) -> Iterator[Callable[..., SegmindGemini]]:
    """Build ``SegmindGemini`` instances that talk to the emulator; closed after the test."""
    made: list[SegmindGemini] = []

    def make(**kwargs: Any) -> SegmindGemini:
        options: dict[str, Any] = {
            "api_key": emu.api_key,
            "base_url": emu.base_url,
            "model": "gemini-2.5-flash",
            "max_retries": 0,
        }
        options.update(kwargs)
        llm = SegmindGemini(**options)
        made.append(llm)
        return llm

    yield make
    for llm in made:
        llm.close()


@pytest.fixture
def llm(make_llm: Callable[..., SegmindGemini]) -> SegmindGemini:
    return make_llm()


@pytest.fixture
async def allm(make_llm: Callable[..., SegmindGemini]) -> AsyncIterator[SegmindGemini]:
    """An LLM for async tests; its aiohttp session is closed on the test's own loop."""
    llm = make_llm()
    yield llm
    await llm.aclose()


@pytest.fixture
def restore_settings() -> Iterator[None]:
    """Put LlamaIndex's global ``Settings`` back as they were."""
    saved = {name: getattr(Settings, f"_{name}") for name in ("llm", "embed_model")}
    saved_cb = Settings._callback_manager
    yield
    for name, value in saved.items():
        setattr(Settings, f"_{name}", value)
    Settings._callback_manager = saved_cb


@pytest.fixture(autouse=True)
def _no_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests pass the emulator's key explicitly; a real key must never be used.
    monkeypatch.delenv("SEGMIND_API_KEY", raising=False)
    monkeypatch.delenv("SEGMIND_BASE_URL", raising=False)

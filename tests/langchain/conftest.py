"""Fixtures for the LangChain adapter tests.

Emulator-backed tests talk to ``segmind_gemini.testing.SegmindEmulator``, a local
stand-in for Segmind's HTTP API (not a model): every answer a test relies on is
scripted by that test, and with nothing scripted the emulator replies
"emulated reply: ..." describing what it received.

Cassette tests (pytest-recording) replay ``tests/cassettes/`` exchanges recorded
against the live API: live when ``SEGMIND_API_KEY`` is set, replay-only otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _lc_cassettes import CASSETTES, cassette_config

from langchain_segmind_gemini import ChatSegmindGemini
from segmind_gemini.testing import SegmindEmulator


@pytest.fixture(autouse=True)
def _no_ambient_settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit and emulator tests never see a developer's real key or base URL."""
    if request.node.get_closest_marker("vcr") is None:
        monkeypatch.delenv("SEGMIND_API_KEY", raising=False)
        monkeypatch.delenv("SEGMIND_BASE_URL", raising=False)


@pytest.fixture
def make_model(emu: SegmindEmulator) -> Iterator[Callable[..., ChatSegmindGemini]]:
    """Build ``ChatSegmindGemini`` objects pointed at the emulator; closed afterwards."""
    made: list[ChatSegmindGemini] = []

    def make(**kwargs: Any) -> ChatSegmindGemini:
        options: dict[str, Any] = {
            "model": "gemini-2.5-flash",
            "api_key": emu.api_key,
            "base_url": emu.base_url,
            "max_retries": 0,
        }
        options.update(kwargs)
        model = ChatSegmindGemini(**options)
        made.append(model)
        return model

    yield make
    for model in made:
        model.close()


@pytest.fixture
def model(make_model: Callable[..., ChatSegmindGemini]) -> ChatSegmindGemini:
    return make_model()


# --------------------------------------------------------------------------- cassettes


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return cassette_config(request.config.getoption("--record-mode", default=None))

"""The VCR configuration the integration suite uses, checked end to end offline.

Exchanges are recorded against the local emulator into a temporary directory (the
cassette's URI says 127.0.0.1: it never claims to be Segmind or Gemini), then
replayed with the emulator out of the picture, a different host and another key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import vcr
from _lc_cassettes import cassette_config, recorded_body
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.tools import tool

from langchain_segmind_gemini import ChatSegmindGemini
from segmind_gemini.testing import SegmindEmulator


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"12C in {city}"


def _conversation(model: ChatSegmindGemini) -> list[str]:
    """A tool round trip (the second request echoes a generated call id), sync and async."""
    bound = model.bind_tools([get_weather])
    history: list[BaseMessage] = [HumanMessage("Weather in Oslo?")]
    first = bound.invoke(history)
    history += [first, get_weather.invoke(first.tool_calls[0])]
    second = bound.invoke(history)
    third = asyncio.run(model.ainvoke("And in async land?"))
    return [str(first.tool_calls[0]["args"]), str(second.content), str(third.content)]


def _recorder(path: Path, mode: str) -> Any:
    config = cassette_config("set")  # an explicit record mode is given below
    return vcr.VCR().use_cassette(str(path), record_mode=mode, **config)


def test_record_then_replay_without_server_key_or_host(
    tmp_path: Path, emu: SegmindEmulator, make_model: Callable[..., ChatSegmindGemini]
) -> None:
    cassette = tmp_path / "round_trip.yaml"
    emu.queue_prompted_tool_call("get_weather", {"city": "Oslo"})
    emu.queue_text("It is 12C in Oslo.")
    emu.queue_text("Async answer.")
    with _recorder(cassette, "once"):
        recorded = _conversation(make_model())
    assert recorded == ["{'city': 'Oslo'}", "It is 12C in Oslo.", "Async answer."]

    text = cassette.read_text()
    assert emu.api_key not in text
    assert "PLACEHOLDER" in text
    assert "http://127.0.0.1:" in text  # where it was really recorded
    with _recorder(cassette, "none") as tape:
        requests = list(tape.requests)
    second = recorded_body(requests[1])["messages"]
    assert '"id": "call_1"' in second["contents"][1]["parts"][0]["text"]

    # Replay: nothing listens on port 9, the key differs, new call ids are generated.
    replay_model = ChatSegmindGemini(
        model="gemini-2.5-flash",
        api_key="another-key",
        base_url="http://127.0.0.1:9/v1",
        max_retries=0,
    )
    with _recorder(cassette, "none") as tape:
        replayed = _conversation(replay_model)
        assert tape.all_played
    assert replayed == recorded

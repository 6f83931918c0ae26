"""`tool_calling="auto"`: native only where a saved `check` report measured it working.

Reports live in the per-test cache directory (tests/conftest.py), never the user's.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.reports import latest_probe_status, save_report, user_cache_dir
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.tools.calling import check_mode, resolve_mode

SLUG = "gemini-2.5-flash"


def _save(base_url: str, status: str, *, minutes_ago: int = 0, slug: str = SLUG) -> None:
    when = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    save_report(
        {
            "base_url": base_url,
            "checked_at": when.isoformat(timespec="seconds"),
            "package_version": "0.1.0",
            "models": {slug: {"native_tools": {"status": status, "evidence": "test"}}},
            "cost": 0.0,
        }
    )


def test_auto_follows_the_newest_report_for_that_slug_and_base_url() -> None:
    live, local = "https://api.segmind.com/v1", "http://127.0.0.1:9/v1"
    assert resolve_mode("auto", SLUG, live) == "prompt"  # nothing measured yet
    _save(live, "supported", minutes_ago=10)
    _save(live, "ignored", minutes_ago=5, slug="gemini-3-pro")
    assert resolve_mode("auto", SLUG, live) == "native"
    assert resolve_mode("auto", "gemini-3-pro", live) == "prompt"
    assert resolve_mode("auto", SLUG, local) == "prompt"  # another gateway decides nothing
    _save(live, "ignored", minutes_ago=1)
    assert latest_probe_status(SLUG, "native_tools", live) == "ignored"
    assert resolve_mode("auto", SLUG, live) == "prompt"
    assert resolve_mode("native", SLUG, live) == "native"  # explicit modes are kept
    (user_cache_dir() / "reports" / "check-99999999.json").write_text("{not json")
    assert resolve_mode("auto", SLUG, live) == "prompt"  # a damaged file decides nothing
    with pytest.raises(InvalidRequestError, match="'prompt', 'native' or 'auto'"):
        resolve_mode("magic", SLUG, live)
    with pytest.raises(InvalidRequestError, match="resolve 'auto' with resolve_mode"):
        check_mode("auto")


def test_cache_dir_is_platformdirs_user_cache_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv("SEGMIND_GEMINI_CACHE_DIR")
    assert str(user_cache_dir()) == platformdirs.user_cache_dir("segmind-gemini")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", "/tmp/xdg-cache-test")
        assert str(user_cache_dir()) == platformdirs.user_cache_dir("segmind-gemini")
    assert os.environ.get("SEGMIND_GEMINI_CACHE_DIR") is None


def _sent_tools(emu: SegmindEmulator) -> bool:
    messages: dict[str, Any] = emu.requests[-1].messages
    return "tools" in messages


def test_langchain_auto(emu: SegmindEmulator) -> None:
    from langchain_core.tools import tool

    from langchain_segmind_gemini import ChatSegmindGemini

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return "sunny"

    model = ChatSegmindGemini(
        model=SLUG, api_key=emu.api_key, base_url=emu.base_url, tool_calling="auto"
    )
    model.bind_tools([get_weather]).invoke("Weather in Oslo?")
    assert not _sent_tools(emu)  # no report: the prompted protocol
    _save(emu.base_url, "supported")
    model.bind_tools([get_weather]).invoke("Weather in Oslo?")
    assert _sent_tools(emu)
    model.bind_tools([get_weather]).invoke("Weather in Oslo?", model="gemini-2.5-pro")
    assert not _sent_tools(emu)  # the per-call slug was never measured
    model.close()


def test_llama_index_auto(emu: SegmindEmulator) -> None:
    from llama_index.core.tools import FunctionTool

    from llama_index_segmind_gemini import SegmindGemini

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    tool = FunctionTool.from_defaults(fn=add)
    llm = SegmindGemini(model=SLUG, api_key=emu.api_key, base_url=emu.base_url, tool_calling="auto")
    llm.chat_with_tools([tool], user_msg="2+2?")
    assert not _sent_tools(emu)
    _save(emu.base_url, "supported")
    llm.chat_with_tools([tool], user_msg="2+2?")
    assert _sent_tools(emu)
    llm.close()

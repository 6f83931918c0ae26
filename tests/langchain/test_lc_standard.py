"""langchain-tests standard suites for ChatSegmindGemini.

* ``ChatModelUnitTests`` run offline, in full.
* ``ChatModelIntegrationTests`` talk to Segmind through VCR (pytest-recording):
  with ``SEGMIND_API_KEY`` set they run live (recording new cassettes into
  ``tests/cassettes/``); without a key they replay a test's cassette when it exists
  and otherwise skip, saying why. Record with::

      SEGMIND_API_KEY=... pytest tests/langchain/test_lc_standard.py --record-mode=once -m vcr

  Cassettes keep no key: ``x-api-key`` and ``authorization`` are filtered before
  anything is written, and requests match on method, path and body (not host).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_segmind_gemini import ChatSegmindGemini

# The module, not the function of the same name that `langchain_core.load` exports.
load_module = importlib.import_module("langchain_core.load.load")

# Model used by the standard suites: current, cheap, and a thinking model.
MODEL = "gemini-2.5-flash"


class TestChatSegmindGeminiUnit(ChatModelUnitTests):
    @pytest.fixture(autouse=True)
    def _trusted_like_a_partner_package(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Let ``load(..., allowed_objects="all")`` admit this class during a test.

        ``test_serdes`` round-trips the model with ``allowed_objects="all"``, which
        langchain-core 1.x resolves to its own list of LangChain-maintained
        integrations; a third-party class can never be on it. Adding this class to
        that list for the test lets the standard check run unchanged.
        """
        allowed = load_module._get_default_allowed_class_paths("all")
        monkeypatch.setitem(
            load_module._default_class_paths_cache,
            "all",
            {*allowed, tuple(ChatSegmindGemini.lc_id())},
        )

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatSegmindGemini

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": MODEL}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"SEGMIND_API_KEY": "key-from-env"},
            {"model": MODEL},
            {"api_key": "key-from-env", "model": MODEL},
        )

    @property
    def model_override_value(self) -> str:
        return "gemini-2.5-pro"

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_video_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True


def _cassette_or_skip(cassette_dir: str, name: str) -> None:
    if os.environ.get("SEGMIND_API_KEY"):
        return
    path = Path(cassette_dir) / f"{name}.yaml"
    if not path.exists():
        pytest.skip(
            f"live Segmind test: SEGMIND_API_KEY is not set and there is no recorded cassette "
            f"{path.name} in tests/cassettes/ to replay (record one with SEGMIND_API_KEY=... "
            "pytest --record-mode=once -m vcr)"
        )


@pytest.mark.vcr
class TestChatSegmindGeminiIntegration(ChatModelIntegrationTests):
    @pytest.fixture(autouse=True)
    def _live_or_recorded(self, vcr_cassette_dir: str, default_cassette_name: str) -> None:
        _cassette_or_skip(vcr_cassette_dir, default_cassette_name)

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatSegmindGemini

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Replays match on method, path and body, so the key is never needed then.
        return {"model": MODEL, "api_key": os.environ.get("SEGMIND_API_KEY") or "replay-only"}

    @property
    def enable_vcr_tests(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "gemini-2.5-flash-lite"

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        # The image is fetched by this library after a DNS check against private
        # addresses; a replay without network cannot resolve the host.
        return False

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

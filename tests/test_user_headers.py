"""A user's header that differs from the client's own only in case (``User-Agent``)
replaces it: sent beside it (as the sync path did before review 4), a strict server
refuses the duplicate."""

from __future__ import annotations

from segmind_gemini import SegmindGeminiClient
from segmind_gemini.testing import SegmindEmulator

REQUEST = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def test_a_custom_user_agent_in_another_case_replaces_the_default() -> None:
    with SegmindEmulator() as emu:
        client = SegmindGeminiClient(
            emu.api_key,
            base_url=emu.base_url,
            max_retries=0,
            default_headers={"User-Agent": "mine/2"},
        )
        try:
            client.generate_content(REQUEST)
        finally:
            client.close()
        assert emu.requests[-1].header("user-agent") == "mine/2"

"""Review 4: a user's header that differs from the client's own only in case
(``User-Agent``) is sent beside it on the sync path, and a strict server refuses the
duplicate; the async path (aiohttp's case-insensitive headers) sends one. Pre-existing:
httpx kept both before the default headers were removed too."""

from __future__ import annotations

import pytest

from segmind_gemini import SegmindGeminiClient
from segmind_gemini.testing import SegmindEmulator

REQUEST = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


@pytest.mark.xfail(strict=True, reason="review 4: default_headers merged case-sensitively")
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

"""The framework-free core client from cassettes, and the replay suite's own guarantees.

* ``SegmindGeminiClient`` sync and async calls replay like the adapters' do.
* In replay the network is really off, and a request that no cassette holds fails
  loudly instead of reaching a server.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
import pytest_socket
from _replay_support import MODEL, Script, Target
from vcr.errors import CannotOverwriteExistingCassetteException

from segmind_gemini import SegmindGeminiClient

pytestmark = pytest.mark.vcr

QUESTION = {"contents": [{"role": "user", "parts": [{"text": "Name one prime number."}]}]}


def _client(connection: dict[str, Any]) -> SegmindGeminiClient:
    return SegmindGeminiClient(
        connection["api_key"],
        model=MODEL,
        base_url=connection["base_url"],
        max_retries=connection["max_retries"],
    )


async def test_core_client_sync_and_async(connection: dict[str, Any], script: Script) -> None:
    script.queue_text("scripted answer: 7").queue_text("scripted answer: 11")
    client = _client(connection)
    results = [client.generate_content(QUESTION)]
    results.append(
        await client.agenerate_content(
            {"contents": [{"role": "user", "parts": [{"text": "Name another prime number."}]}]}
        )
    )
    await client.aclose()
    for result in results:
        assert result.text.strip()
        assert result.finish_reason == "STOP"
        assert result.usage.input_tokens > 0
        assert result.usage.output_tokens > 0
        assert result.headers.request_id  # Segmind's x-request-id, kept in the cassette


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_network_is_disabled_in_replay(target: Target) -> None:
    if target.recording:
        pytest.skip("recording needs the network; this checks replay only")
    with pytest.raises(pytest_socket.SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(pytest_socket.SocketBlockedError):
        socket.create_connection(("api.segmind.com", 443), timeout=1)


@pytest.mark.default_cassette("no_such_cassette")
def test_unrecorded_request_fails_loudly(connection: dict[str, Any], target: Target) -> None:
    if target.recording:
        pytest.skip("while recording, an unrecorded request is recorded; this checks replay")
    with _client(connection) as client, pytest.raises(CannotOverwriteExistingCassetteException):
        client.generate_content(QUESTION)

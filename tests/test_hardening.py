"""Odd answers, echoed keys, corrupt encodings and closed clients: the core over real HTTP.

Regression tests for issue 9. Every answer is scripted on the emulator (a stand-in
for Segmind's HTTP service, not a model); the client must turn each one into the
library's own error, or a result, and never show the key.
"""

from __future__ import annotations

import asyncio
import json
import pickle
from typing import Any

import pytest

from segmind_gemini import (
    APIConnectionError,
    BadRequestError,
    ContentBlockedError,
    InternalServerError,
    InvalidRequestError,
    RateLimitError,
    ResponseParseError,
    RetryPolicy,
    SegmindError,
    SegmindGeminiClient,
)
from segmind_gemini.client.retries import server_retry_hint
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.wire.encoding import encode_json_body
from segmind_gemini.wire.response import parse_response

KEY = "sk-test-NOT-A-REAL-KEY-0123456789"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
FAST = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.02, max_server_wait=1.0)
ANSWER = {"candidates": [{"content": {"role": "model", "parts": [{"text": "fine"}]}}]}


@pytest.fixture(scope="module")
def emulator() -> Any:
    with SegmindEmulator(api_key=KEY) as emu:
        yield emu


@pytest.fixture
def emu(emulator: SegmindEmulator) -> Any:
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture
def client(emu: SegmindEmulator) -> Any:
    with SegmindGeminiClient(KEY, base_url=emu.base_url, retry_policy=FAST) as c:
        yield c


def _leaks(exc: BaseException) -> list[str]:
    """Every place an error could show the key, that does."""
    places = {
        "str": str(exc),
        "repr": repr(exc),
        "args": repr(exc.args),
        "vars": repr(vars(exc)),
        "pickle": pickle.dumps(exc).decode("latin-1"),
    }
    # Any 12-character piece of the key counts: a cut must not leave half of it.
    pieces = {KEY[i : i + 12] for i in range(len(KEY) - 11)}
    return [name for name, text in places.items() if any(p in text for p in pieces)]


# --- item 1: odd answers end in the library's own errors -------------------------------------

ODD_200 = [
    # (raw body, expected error, words the message must hold)
    (b'{"candidates": {"0": {}}}', ResponseParseError, "candidates: expected a list"),
    (b'{"choices": [{"message": ["hi"]}]}', ResponseParseError, "choices[0].message"),
    (b'{"candidates": [5]}', ResponseParseError, "candidates[0]: expected an object"),
    (
        b'{"candidates": [{"content": {"parts": "hi"}}]}',
        ResponseParseError,
        "candidates[0].content.parts: expected a list",
    ),
    (b'{"choices": []}', ResponseParseError, "no choices"),
    (b"[1, 2]", ResponseParseError, "Expected a JSON object"),
    (b'{"unexpected": true}', ResponseParseError, "neither 'candidates'"),
    (b"[" * 100_000, ResponseParseError, "nested deeper than 100 levels"),
    (b"[" * 150 + b"]" * 150, ResponseParseError, "nested deeper than 100 levels"),
    (b'{"promptFeedback": {"safetyRatings": 0.5}}', ContentBlockedError, "blockReason"),
]


@pytest.mark.parametrize(("body", "error", "words"), ODD_200)
def test_odd_200_bodies_raise_library_errors_with_status_and_body(
    client: SegmindGeminiClient, emu: SegmindEmulator, body: bytes, error: type, words: str
) -> None:
    emu.queue_response(body)
    with pytest.raises(error) as info:
        client.generate_content(HELLO)
    assert info.value.status_code == 200
    assert words in str(info.value)
    if error is ResponseParseError:
        assert "the body begins" in str(info.value)
        assert len(str(info.value)) < 1000  # a cut of the body, not all of it
    assert len(emu.requests) == 1  # a readable-but-wrong answer is not sent again (billed)


async def test_odd_200_bodies_async(client: SegmindGeminiClient, emu: SegmindEmulator) -> None:
    for body, error, words in ODD_200:
        emu.queue_response(body)
        with pytest.raises(error, match=words.replace("[", r"\[")):
            await client.agenerate_content(HELLO)


def test_wrong_typed_optional_fields_are_ignored(
    client: SegmindGeminiClient, emu: SegmindEmulator
) -> None:
    emu.queue_response(
        b'{"candidates": [{"content": {"parts": [{"text": "ok", "thought": 1}]}, "finishReason": 7, '
        b'"safetyRatings": [0.5, {"category": "X"}], "avgLogprobs": "x"}], '
        b'"usageMetadata": {"promptTokenCount": 1e400, "candidatesTokenCount": true, '
        b'"totalTokenCount": 9.0}, "modelVersion": ["v"]}'
    )
    result = client.generate_content(HELLO)
    assert result.text == "ok"
    assert result.finish_reason is None
    assert result.safety_ratings == [{"category": "X"}]
    assert result.avg_logprobs is None
    # Counts that were sent but unreadable are unknown, not zero (they read 0 here).
    assert result.usage.unknown == {"prompt_tokens", "candidates_tokens"}
    assert result.usage.total_tokens == 9
    assert result.model_version is None
    # A tool call whose arguments are not an object is unreadable content, not {}: see
    # tests/test_odd_answers.py.


def test_lone_surrogates_in_answers_become_replacement_characters() -> None:
    result = parse_response(
        json.loads('{"candidates": [{"content": {"parts": [{"text": "a\\ud800b"}]}}]}')
    )
    assert result.text == "a\ufffdb"
    result.text.encode("utf-8")


@pytest.mark.parametrize("status", [400, 429, 500, 503])
@pytest.mark.parametrize(
    "body",
    [
        b'{"error": {"details": 5}}',
        b'{"error": {"details": [5, "x", {"retryDelay": ["1s"]}]}}',
        b'{"error": [1, 2]}',
        b"[" * 100_000,
        b"\xff\xfe not utf-8",
    ],
)
def test_odd_error_bodies_keep_their_status(emu: SegmindEmulator, status: int, body: bytes) -> None:
    expected = {400: BadRequestError, 429: RateLimitError, 500: InternalServerError}
    emu.queue_response(body, status=status)
    with (
        SegmindGeminiClient(
            KEY, base_url=emu.base_url, max_retries=0, max_rate_limit_wait=0
        ) as client,
        pytest.raises(expected.get(status, InternalServerError)) as info,
    ):
        client.generate_content(HELLO)
    assert info.value.status_code == status
    assert len(str(info.value)) < 1000


def test_server_retry_hint_reads_only_well_formed_details() -> None:
    for body in ({"error": {"details": 5}}, {"error": {"details": {"a": 1}}}, {"error": 3}, []):
        assert server_retry_hint({}, body) is None
    good = {"error": {"details": [7, {"retryDelay": "2.5s"}]}}
    assert server_retry_hint({}, good) == 2.5


# --- item 4: a corrupt gzip answer is retried on both paths ----------------------------------

GZIP_LIE = {"content-encoding": "gzip", "content-type": "application/json"}


def test_corrupt_gzip_body_is_retried_then_wrapped_sync(
    client: SegmindGeminiClient, emu: SegmindEmulator
) -> None:
    emu.queue_response(b"this is not gzip", headers=GZIP_LIE).queue_text("recovered")
    assert client.generate_content(HELLO).text == "recovered"
    assert len(emu.requests) == 2
    emu.queue_response(b"this is not gzip", headers=GZIP_LIE)
    with (
        SegmindGeminiClient(KEY, base_url=emu.base_url, max_retries=0) as once,
        pytest.raises(APIConnectionError, match=r"could not be decoded|cut short"),
    ):
        once.generate_content(HELLO)


async def test_corrupt_gzip_body_is_retried_then_wrapped_async(
    client: SegmindGeminiClient, emu: SegmindEmulator
) -> None:
    emu.queue_response(b"this is not gzip", headers=GZIP_LIE).queue_text("recovered")
    assert (await client.agenerate_content(HELLO)).text == "recovered"
    emu.queue_response(b"this is not gzip", headers=GZIP_LIE)
    async with SegmindGeminiClient(KEY, base_url=emu.base_url, max_retries=0) as once:
        with pytest.raises(APIConnectionError):
            await once.agenerate_content(HELLO)


# --- item 6: keys echoed in any answer never reach an error ---------------------------------

ECHOES = [
    ({"promptFeedback": {"blockReason": "OTHER", "blockReasonMessage": f"key {KEY}"}}, 200),
    ({"echo": {"headers": {"x-api-key": KEY}}}, 200),
    ({"candidates": {"request": f"x-api-key: {KEY}"}}, 200),
    # The key placed where a 200-character excerpt would cut it in half.
    ({"pad": "p" * 150, "key": KEY}, 200),
    ({"error": f"bad key {KEY}"}, 401),
    ({"error": {"message": f"quota for {KEY}", "details": [{"k": KEY}]}}, 429),
]


@pytest.mark.parametrize(("body", "status"), ECHOES)
def test_echoed_key_is_masked_in_every_error(
    emu: SegmindEmulator, body: dict[str, Any], status: int
) -> None:
    emu.queue_response(body, status=status)
    with (
        SegmindGeminiClient(
            KEY, base_url=emu.base_url, max_retries=0, max_rate_limit_wait=0
        ) as client,
        pytest.raises(SegmindError) as info,
    ):
        client.generate_content(HELLO)
    assert _leaks(info.value) == []
    assert "**********" in repr(info.value.body)


def test_key_spelled_with_json_escapes_is_masked_too(emu: SegmindEmulator) -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in KEY)
    emu.queue_response('{"echo": "' + escaped + '"}')
    with (
        SegmindGeminiClient(
            KEY, base_url=emu.base_url, max_retries=0, max_rate_limit_wait=0
        ) as client,
        pytest.raises(ResponseParseError) as info,
    ):
        client.generate_content(HELLO)
    assert _leaks(info.value) == []


def test_echoed_key_masked_in_queued_output(emu: SegmindEmulator) -> None:
    emu.queue_response({"promptFeedback": {"blockReason": "OTHER", "blockReasonMessage": KEY}})
    with (
        SegmindGeminiClient(
            KEY, base_url=emu.base_url, api_mode="queue", poll_interval=0.01
        ) as client,
        pytest.raises(ContentBlockedError) as info,
    ):
        client.generate_content(HELLO)
    assert _leaks(info.value) == []


# --- item 3: a closed client reconnects ------------------------------------------------------


def test_sync_client_reconnects_after_close(emu: SegmindEmulator) -> None:
    client = SegmindGeminiClient(KEY, base_url=emu.base_url)
    assert client.generate_content(HELLO).text
    client.close()
    assert client.generate_content(HELLO).text
    with client:
        pass
    assert client.generate_content(HELLO).text
    client.close()


async def test_both_paths_reconnect_after_aclose_and_close(emu: SegmindEmulator) -> None:
    client = SegmindGeminiClient(KEY, base_url=emu.base_url)
    assert (await client.agenerate_content(HELLO)).text
    await client.aclose()
    assert (await client.agenerate_content(HELLO)).text
    await client.aclose()
    # The sync path after aclose (run in a thread: it blocks).
    assert (await asyncio.to_thread(client.generate_content, HELLO)).text
    client.close()
    assert (await client.agenerate_content(HELLO)).text
    await client.aclose()


# --- item 7: lone surrogates are refused before sending --------------------------------------


def test_lone_surrogate_in_request_is_refused_before_sending(
    client: SegmindGeminiClient, emu: SegmindEmulator
) -> None:
    request = {
        "contents": [
            {"role": "user", "parts": [{"text": "fine"}]},
            {"role": "model", "parts": [{"text": "ok"}, {"text": "bad \ud800 text"}]},
        ]
    }
    with pytest.raises(InvalidRequestError, match=r"contents\[1\]\.parts\[1\]\.text") as info:
        client.generate_content(request)
    assert "surrogate" in str(info.value)
    assert emu.requests == []
    with pytest.raises(InvalidRequestError, match="system_instruction"):
        encode_json_body({"contents": [], "system_instruction": {"parts": {"text": "\udfff"}}})

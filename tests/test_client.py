"""SegmindGeminiClient over real loopback HTTP against the emulator.

The emulator is a stand-in for Segmind's HTTP service, not a model: these tests
check what the client sends, how it retries and what it raises, never what
Gemini would answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from segmind_gemini import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContentBlockedError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidContentTypeError,
    InvalidRequestError,
    ModelRetiredError,
    NotFoundError,
    PermissionDeniedError,
    QueueJobFailedError,
    RateLimitError,
    RetryPolicy,
    SegmindError,
    SegmindGeminiClient,
    UnprocessableEntityError,
)
from segmind_gemini.testing import SegmindEmulator

HELLO = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
FAST = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.05, max_server_wait=2.0)


@pytest.fixture
def client(segmind_emulator: SegmindEmulator) -> Any:
    c = SegmindGeminiClient(
        segmind_emulator.api_key,
        model="gemini-2.5-flash",
        base_url=segmind_emulator.base_url,
        retry_policy=FAST,
        poll_interval=0.01,
        max_poll_interval=0.05,
    )
    yield c
    c.close()


def test_request_path_headers_and_exact_body(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_text("scripted answer")
    result = client.generate_content(HELLO)
    assert result.text == "scripted answer"
    (req,) = segmind_emulator.requests
    assert req.method == "POST" and req.path == "/v1/gemini-2.5-flash"
    assert req.header("x-api-key") == segmind_emulator.api_key
    assert req.header("content-type") == "application/json"
    assert req.header("accept") == "application/json"
    assert req.header("user-agent", "").startswith("segmind-gemini/")
    assert req.header("accept-encoding") == "gzip, deflate, zstd"  # httpx's default stays
    # a default request is exactly the documented shape: no generationConfig
    assert req.json == {"messages": HELLO}


def test_extra_headers_replace_the_defaults(segmind_emulator: SegmindEmulator) -> None:
    headers = {"user-agent": "mine/1", "accept-encoding": "identity", "x-team": "a"}
    with SegmindGeminiClient(
        segmind_emulator.api_key, base_url=segmind_emulator.base_url, default_headers=headers
    ) as client:
        client.generate_content(HELLO)
    (req,) = segmind_emulator.requests
    assert {k: req.header(k) for k in headers} == headers


def test_segmind_headers_and_usage_surface(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_text(
        "x",
        usage={
            "promptTokenCount": 7,
            "candidatesTokenCount": 2,
            "thoughtsTokenCount": 5,
            "totalTokenCount": 14,
        },
    )
    result = client.generate_content(HELLO)
    assert result.headers.request_id
    assert result.headers.cost == pytest.approx(segmind_emulator.cost_per_call)
    assert result.headers.remaining_credits is not None
    assert result.headers.generation_time is not None
    assert (result.usage.input_tokens, result.usage.output_tokens) == (7, 7)


def test_model_override_per_call(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    client.generate_content(HELLO, model="gemini-3-pro")
    assert segmind_emulator.requests[-1].path == "/v1/gemini-3-pro"


def test_invalid_request_is_refused_before_sending(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    with pytest.raises(InvalidRequestError, match=r"contents\[0\].parts is empty"):
        client.generate_content({"contents": [{"role": "user", "parts": []}]})
    assert segmind_emulator.requests == []


ERRORS = [
    (400, "Invalid request body", BadRequestError, "Invalid request body"),
    (403, "Forbidden for this key", PermissionDeniedError, "Forbidden"),
    (404, "Model not found", NotFoundError, "gemini-2.5-flash"),
    (406, "Insufficient credits", InsufficientCreditsError, "credits"),
    (406, "Invalid content type", InvalidContentTypeError, "content type"),
    (410, "This model has been retired", ModelRetiredError, "gemini-2.5-pro"),
    (422, "Validation failed: temperature", UnprocessableEntityError, "temperature"),
]


@pytest.mark.parametrize(("status", "message", "cls", "fragment"), ERRORS)
def test_each_status_maps_to_its_error_and_is_not_retried(
    client: SegmindGeminiClient,
    segmind_emulator: SegmindEmulator,
    status: int,
    message: str,
    cls: type[SegmindError],
    fragment: str,
) -> None:
    segmind_emulator.queue_error(status, message)
    with pytest.raises(cls) as info:
        client.generate_content(HELLO)
    err = info.value
    assert err.status_code == status
    assert message in err.message and fragment in str(err)
    assert err.request_id  # the emulator stamps x-request-id on errors too
    assert len(segmind_emulator.requests) == 1  # never retried


def test_retired_model_lists_current_slugs(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_error(410, "Gone")
    with pytest.raises(ModelRetiredError) as info:
        client.generate_content(HELLO)
    assert "gemini-2.5-flash" in info.value.current_models


def test_wrong_key_is_401_with_no_key_in_the_error(segmind_emulator: SegmindEmulator) -> None:
    with (
        SegmindGeminiClient(
            "sk-wrong-secret-999", base_url=segmind_emulator.base_url, retry_policy=FAST
        ) as c,
        pytest.raises(AuthenticationError) as info,
    ):
        c.generate_content(HELLO)
    assert info.value.status_code == 401
    assert "x-api-key" in info.value.message  # the server's own words
    for text in (str(info.value), repr(info.value), str(info.value.body)):
        assert "sk-wrong-secret-999" not in text
    assert len(segmind_emulator.requests) == 1


def test_500_is_retried_then_raised(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    for _ in range(3):
        segmind_emulator.queue_error(500, "Internal error")
    with pytest.raises(InternalServerError, match="bad parameter"):
        client.generate_content(HELLO)
    assert len(segmind_emulator.requests) == 3  # 1 + max_retries


@pytest.mark.parametrize("fault", ["reset", "truncated", "html_502"])
def test_transient_faults_are_retried_to_success(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator, fault: str
) -> None:
    segmind_emulator.queue_fault(fault).queue_text("after the fault")
    assert client.generate_content(HELLO).text == "after the fault"
    assert len(segmind_emulator.requests) == 2


def test_html_502_message_is_the_page_text_not_markup(segmind_emulator: SegmindEmulator) -> None:
    segmind_emulator.queue_fault("html_502")
    with (
        SegmindGeminiClient(
            segmind_emulator.api_key, base_url=segmind_emulator.base_url, max_retries=0
        ) as c,
        pytest.raises(InternalServerError) as info,
    ):
        c.generate_content(HELLO)
    assert info.value.status_code == 502
    assert "<" not in info.value.message and info.value.message


def test_connection_errors_after_retries(segmind_emulator: SegmindEmulator) -> None:
    for _ in range(3):
        segmind_emulator.queue_fault("reset")
    with (
        SegmindGeminiClient(
            segmind_emulator.api_key, base_url=segmind_emulator.base_url, retry_policy=FAST
        ) as c,
        pytest.raises(APIConnectionError),
    ):
        c.generate_content(HELLO)
    assert len(segmind_emulator.requests) == 3


def test_rate_limit_reset_header_is_honoured(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_fault("rate_limit", reset_after=0.4).queue_text("ok")
    start = time.monotonic()
    assert client.generate_content(HELLO).text == "ok"
    waited = time.monotonic() - start
    assert len(segmind_emulator.requests) == 2
    assert waited >= 0.3  # the header's reset time (second resolution allows some slack)


def test_retry_after_header_is_honoured(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_error(503, "busy", headers={"Retry-After": "0.3"}).queue_text("ok")
    start = time.monotonic()
    assert client.generate_content(HELLO).text == "ok"
    assert time.monotonic() - start >= 0.3


def test_google_retry_info_is_honoured(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_google_error(429, "Quota exceeded", "RESOURCE_EXHAUSTED", "0.3s")
    segmind_emulator.queue_text("ok")
    start = time.monotonic()
    assert client.generate_content(HELLO).text == "ok"
    assert time.monotonic() - start >= 0.3


def test_a_hint_beyond_max_rate_limit_wait_raises_at_once_with_retry_after(
    segmind_emulator: SegmindEmulator,
) -> None:
    segmind_emulator.queue_google_error(429, "Quota exceeded", "RESOURCE_EXHAUSTED", "34.4s")
    start = time.monotonic()
    with (
        SegmindGeminiClient(
            segmind_emulator.api_key, base_url=segmind_emulator.base_url, max_rate_limit_wait=10
        ) as client,
        pytest.raises(RateLimitError) as info,
    ):
        client.generate_content(HELLO)
    assert time.monotonic() - start < 1.0
    assert info.value.retry_after == pytest.approx(34.4)
    assert "Quota exceeded" in str(info.value)
    assert len(segmind_emulator.requests) == 1


def test_429s_wait_their_turn_without_using_retries(segmind_emulator: SegmindEmulator) -> None:
    for _ in range(3):
        segmind_emulator.queue_fault("rate_limit", reset_after=0.0)
    segmind_emulator.queue_text("ok")
    policy = RetryPolicy(max_retries=0)
    with SegmindGeminiClient(
        segmind_emulator.api_key, base_url=segmind_emulator.base_url, retry_policy=policy
    ) as client:
        assert client.generate_content(HELLO).text == "ok"
        assert client.rate_limit_status().rate_limited == 3
    assert len(segmind_emulator.requests) == 4


def test_no_wait_allowed_raises_the_servers_429_with_retry_after(
    segmind_emulator: SegmindEmulator,
) -> None:
    segmind_emulator.queue_error(429, "Too many requests")  # no hint at all
    with (
        SegmindGeminiClient(
            segmind_emulator.api_key, base_url=segmind_emulator.base_url, max_rate_limit_wait=0
        ) as client,
        pytest.raises(RateLimitError) as info,
    ):
        client.generate_content(HELLO)
    assert "Too many requests" in str(info.value)
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 1
    assert len(segmind_emulator.requests) == 1


def test_blocked_prompt_raises_content_blocked(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_fault("blocked", reason="PROHIBITED_CONTENT")
    with pytest.raises(ContentBlockedError) as info:
        client.generate_content(HELLO)
    assert info.value.block_reason == "PROHIBITED_CONTENT"


def test_timeout_raises_api_timeout_error(segmind_emulator: SegmindEmulator) -> None:
    segmind_emulator.queue_fault("slow", delay=1.0)
    with SegmindGeminiClient(
        segmind_emulator.api_key, base_url=segmind_emulator.base_url, timeout=0.3, max_retries=0
    ) as c:
        start = time.monotonic()
        with pytest.raises(APITimeoutError):
            c.generate_content(HELLO)
        assert time.monotonic() - start < 0.9


async def test_async_timeout(segmind_emulator: SegmindEmulator) -> None:
    segmind_emulator.queue_fault("slow", delay=1.0)
    c = SegmindGeminiClient(
        segmind_emulator.api_key, base_url=segmind_emulator.base_url, timeout=0.3, max_retries=0
    )
    with pytest.raises(APITimeoutError):
        await c.agenerate_content(HELLO)
    await c.aclose()


async def test_async_retries_and_errors(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_fault("truncated").queue_text("async ok")
    assert (await client.agenerate_content(HELLO)).text == "async ok"
    segmind_emulator.queue_error(401, "Unauthorized")
    with pytest.raises(AuthenticationError):
        await client.agenerate_content(HELLO)
    await client.aclose()


def test_successive_asyncio_runs_on_one_client(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    for i in range(3):
        segmind_emulator.queue_text(f"run {i}")
        assert asyncio.run(client.agenerate_content(HELLO)).text == f"run {i}"


async def test_concurrent_async_calls_overlap(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    for i in range(50):
        segmind_emulator.queue_text(f"a{i}", delay=0.2)
    start = time.monotonic()
    results = await asyncio.gather(*(client.agenerate_content(HELLO) for _ in range(50)))
    elapsed = time.monotonic() - start
    assert sorted(r.text for r in results) == sorted(f"a{i}" for i in range(50))
    assert segmind_emulator.max_in_flight >= 40
    assert elapsed < 2.0  # serialised, 50 x 0.2 s would take 10 s
    await client.aclose()


def test_queue_mode_submits_polls_and_parses(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_text("queued answer")
    result = client.generate_content(HELLO, api_mode="queue")
    assert result.text == "queued answer"
    paths = [r.path for r in segmind_emulator.requests]
    assert paths[0] == "/v2/gemini-2.5-flash"
    assert paths[-1].startswith("/v2/requests/") and not paths[-1].endswith("/status")
    polls = [p for p in paths if p.endswith("/status")]
    assert len(polls) == segmind_emulator.queue_polls + 1
    assert all(r.header("x-api-key") == segmind_emulator.api_key for r in segmind_emulator.requests)


async def test_queue_mode_async(segmind_emulator: SegmindEmulator) -> None:
    segmind_emulator.queue_text("queued async")
    c = SegmindGeminiClient(
        segmind_emulator.api_key,
        base_url=segmind_emulator.base_url,
        api_mode="queue",
        poll_interval=0.01,
    )
    assert (await c.agenerate_content(HELLO)).text == "queued async"
    await c.aclose()


def test_queue_failed_job_raises_with_server_message(
    client: SegmindGeminiClient, segmind_emulator: SegmindEmulator
) -> None:
    segmind_emulator.queue_error(422, "Invalid value for temperature")
    with pytest.raises(QueueJobFailedError, match="Invalid value for temperature") as info:
        client.generate_content(HELLO, api_mode="queue")
    assert info.value.status_code == 422


def test_queue_mode_honours_the_overall_timeout(segmind_emulator: SegmindEmulator) -> None:
    segmind_emulator.queue_text("late", delay=5.0)
    with SegmindGeminiClient(
        segmind_emulator.api_key,
        base_url=segmind_emulator.base_url,
        api_mode="queue",
        timeout=0.5,
        poll_interval=0.05,
    ) as c:
        start = time.monotonic()
        with pytest.raises(APITimeoutError, match="did not finish"):
            c.generate_content(HELLO)
        assert time.monotonic() - start < 1.5


def test_polling_backs_off(segmind_emulator: SegmindEmulator) -> None:
    segmind_emulator.queue_text("slow job", delay=1.0)
    with SegmindGeminiClient(
        segmind_emulator.api_key,
        base_url=segmind_emulator.base_url,
        api_mode="queue",
        poll_interval=0.02,
        max_poll_interval=0.5,
    ) as c:
        assert c.generate_content(HELLO).text == "slow job"
    polls = [r for r in segmind_emulator.requests if r.path.endswith("/status")]
    # A fixed 20 ms poll would make ~50 calls in one second; backing off makes far fewer.
    assert 3 <= len(polls) <= 15


def test_debug_log_has_one_line_per_attempt_and_no_secrets(
    segmind_emulator: SegmindEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    segmind_emulator.queue_fault("rate_limit", reset_after=0.0).queue_text("ok")
    caplog.set_level(logging.DEBUG, logger="segmind_gemini")
    image = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgoAAAANSUhEUgAAAAE="}}
    request = {"contents": [{"role": "user", "parts": [{"text": "hi"}, image]}]}
    with SegmindGeminiClient(
        segmind_emulator.api_key, base_url=segmind_emulator.base_url, retry_policy=FAST
    ) as c:
        c.generate_content(request)
    records = [r for r in caplog.records if r.name == "segmind_gemini"]
    lines = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert len(lines) == 2
    assert "429" in lines[0] and "rate limited, waiting for a turn" in lines[0]
    assert "retry" not in lines[0]  # a 429 uses no retry
    assert "200" in lines[1]
    # The rate governor says when calls start and stop waiting, at INFO.
    info = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert len(info) == 2
    assert "wait their turn" in info[0] and "no call waiting" in info[1]
    for line in lines + info:
        assert segmind_emulator.api_key not in line
        assert "iVBORw0KGgo" not in line


def test_seeded_fault_soak_recovers_every_call() -> None:
    with SegmindEmulator(fault_rate=0.25, seed=11) as emu:
        policy = RetryPolicy(
            max_retries=8, initial_backoff=0.005, max_backoff=0.02, max_server_wait=2.0
        )
        with SegmindGeminiClient(emu.api_key, base_url=emu.base_url, retry_policy=policy) as c:
            texts = [c.generate_content(HELLO).text for _ in range(20)]
        assert all(t.startswith("emulated reply") for t in texts)
        assert len(emu.requests) > 20  # some calls needed retries


def test_async_proxy_comes_from_the_environment_once_per_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from segmind_gemini.client.transport import AsyncTransport, Timeouts

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    transport = AsyncTransport(Timeouts(total=5, connect=1), max_connections=4)
    assert transport._proxy_for("https://api.segmind.com/v1/x") == "http://proxy.internal:3128"
    assert transport._proxy_for("http://127.0.0.1:9/v1/x") is None
    monkeypatch.delenv("HTTPS_PROXY")
    # read once per host: a client keeps the proxy it started with
    assert transport._proxy_for("https://api.segmind.com/v1/y") == "http://proxy.internal:3128"

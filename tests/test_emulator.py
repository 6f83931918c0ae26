"""The Segmind emulator over real loopback HTTP: auth, validation, scripting, faults, v2."""

from __future__ import annotations

import asyncio
import base64
import importlib.metadata
import json
import math
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import httpx
import pytest

from segmind_gemini.testing import Fault, SegmindEmulator

pytest_plugins = ["pytester"]

SLUG = "gemini-2.5-flash"
PNG_2_1_KB = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(2142)).decode()  # 2150 bytes


def gemini(*parts: dict[str, Any], role: str = "user", **extra: Any) -> dict[str, Any]:
    return {"messages": {"contents": [{"role": role, "parts": list(parts)}], **extra}}


TEXT_AND_IMAGE = gemini(
    {"text": "What is in this picture?"},
    {"inlineData": {"mimeType": "image/png", "data": PNG_2_1_KB}},
)


@pytest.fixture
def emu() -> Iterator[SegmindEmulator]:
    with SegmindEmulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: SegmindEmulator) -> Iterator[httpx.Client]:
    # No keep-alive: a faulted connection must not leak into the next call.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(headers={"x-api-key": emu.api_key}, limits=limits, timeout=5) as c:
        yield c


def post(client: httpx.Client, emu: SegmindEmulator, body: Any = TEXT_AND_IMAGE) -> httpx.Response:
    return client.post(f"{emu.base_url}/{SLUG}", json=body)


def answer_text(response: httpx.Response) -> str:
    parts = response.json()["candidates"][0]["content"]["parts"]
    return "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))


# -- auth and content type ----------------------------------------------------------


@pytest.mark.parametrize("style", ["x-api-key", "bearer"])
def test_auth_accepts_either_header(emu: SegmindEmulator, style: str) -> None:
    headers = (
        {"x-api-key": emu.api_key}
        if style == "x-api-key"
        else {"Authorization": f"Bearer {emu.api_key}"}
    )
    response = httpx.post(f"{emu.base_url}/{SLUG}", json=TEXT_AND_IMAGE, headers=headers)
    assert response.status_code == 200
    assert answer_text(response).startswith("emulated reply:")


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": "wrong"}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}],
    ids=["missing", "wrong-x-api-key", "wrong-bearer", "basic-scheme"],
)
def test_auth_refuses_bad_or_missing_key(emu: SegmindEmulator, headers: dict[str, str]) -> None:
    emu.queue_text("scripted")
    response = httpx.post(f"{emu.base_url}/{SLUG}", json=TEXT_AND_IMAGE, headers=headers)
    assert response.status_code == 401
    message = response.json()["error"]
    assert "x-api-key" in message
    assert "Authorization: Bearer" in message
    assert response.headers["x-cost"] == "0"
    assert emu.pending == 1, "a refused request must not consume a scripted reply"


def test_v2_routes_check_the_key_too(emu: SegmindEmulator) -> None:
    assert httpx.post(f"{emu.origin}/v2/{SLUG}", json=TEXT_AND_IMAGE).status_code == 401
    assert httpx.get(f"{emu.origin}/v2/requests/abc/status").status_code == 401


def test_non_json_content_type_is_406(emu: SegmindEmulator, client: httpx.Client) -> None:
    response = client.post(
        f"{emu.base_url}/{SLUG}",
        content=json.dumps(TEXT_AND_IMAGE),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 406
    assert response.json() == {"error": "Invalid content type"}
    assert response.headers["x-cost"] == "0"


def test_other_methods_get_an_html_405(emu: SegmindEmulator, client: httpx.Client) -> None:
    for method, url in [
        ("GET", f"{emu.base_url}/{SLUG}"),
        ("PUT", f"{emu.origin}/v2/{SLUG}"),
        ("POST", f"{emu.origin}/v2/requests/abc/status"),
    ]:
        response = client.request(method, url)
        assert response.status_code == 405, (method, url)
        assert response.headers["content-type"].startswith("text/html")
        assert "405" in response.text


# -- validation ---------------------------------------------------------------------


def _content(role: str, *parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": role, "parts": list(parts)}


HI = {"text": "hi"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"contents": []}, '"messages"'),
        ({"messages": {}}, "messages.contents must be a non-empty list"),
        ({"messages": {"contents": []}}, "messages.contents must be a non-empty list"),
        (
            {"messages": {"contents": [_content("user", HI), _content("system", HI)]}},
            "messages.contents[1].role is 'system'",
        ),
        (
            {"messages": {"contents": [_content("user", HI), {"role": "model"}]}},
            "messages.contents[1].parts is missing",
        ),
        (
            {
                "messages": {
                    "contents": [_content("user", HI), _content("model", HI), _content("user")]
                }
            },
            "messages.contents[2].parts is empty",
        ),
        (gemini(HI, {"image": "x"}), "messages.contents[0].parts[1] has none of text, inlineData"),
        (
            gemini({"inlineData": {"mimeType": "image/png", "data": "not base64!"}}),
            "messages.contents[0].parts[0].inlineData.data is not valid base64",
        ),
        (
            gemini(HI, {"inline_data": {"mime_type": "image/gif", "data": "R0lGOA=="}}),
            "messages.contents[0].parts[1].inlineData.mimeType 'image/gif' is not supported",
        ),
        (
            gemini(HI, system_instruction={"parts": []}),
            "messages.system_instruction.parts is empty",
        ),
    ],
    ids=[
        "no-messages",
        "no-contents",
        "empty-contents",
        "bad-role",
        "parts-missing",
        "parts-empty",
        "unknown-part",
        "bad-base64",
        "unsupported-mime",
        "empty-system-parts",
    ],
)
def test_validation_names_problem_and_place(
    emu: SegmindEmulator, client: httpx.Client, body: dict[str, Any], expected: str
) -> None:
    emu.queue_text("scripted")
    response = post(client, emu, body)
    assert response.status_code == 400
    assert expected in response.json()["error"]
    assert emu.pending == 1, "an invalid request must not consume a scripted reply"


def test_body_that_is_not_json_is_400(emu: SegmindEmulator, client: httpx.Client) -> None:
    response = client.post(
        f"{emu.base_url}/{SLUG}", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_snake_case_and_camel_case_are_both_accepted(
    emu: SegmindEmulator, client: httpx.Client
) -> None:
    snake = gemini(
        HI,
        {
            "inline_data": {
                "mime_type": "application/pdf",
                "data": base64.b64encode(b"%PDF").decode(),
            }
        },
        system_instruction={"parts": {"text": "Be brief."}},
        generation_config={"temperature": 0.1},
    )
    camel = gemini(HI, systemInstruction={"parts": [{"text": "Be"}, {"text": " brief."}]})
    assert answer_text(post(client, emu, snake)) == (
        "emulated reply: 1 text part, 1 application/pdf part of 4 B; system instruction of 9 chars"
    )
    assert answer_text(post(client, emu, camel)) == (
        "emulated reply: 1 text part; system instruction of 9 chars"
    )


def test_request_over_20_mb_is_refused(emu: SegmindEmulator, client: httpx.Client) -> None:
    big = "A" * (21 * 1024 * 1024)
    response = post(client, emu, gemini({"inlineData": {"mimeType": "image/png", "data": big}}))
    assert response.status_code == 400
    assert "20 MB" in response.json()["error"]


# -- default answer and headers ------------------------------------------------------


def test_default_answer_describes_text_and_image(
    emu: SegmindEmulator, client: httpx.Client
) -> None:
    first, second = post(client, emu), post(client, emu)
    body = first.json()
    assert answer_text(first) == "emulated reply: 1 text part, 1 image/png part of 2.1 KB"
    assert body["candidates"][0]["finishReason"] == "STOP"
    assert body["modelVersion"] == SLUG
    prompt = math.ceil(len("What is in this picture?") / 4) + 258
    usage = body["usageMetadata"]
    assert usage["promptTokenCount"] == prompt
    assert usage["totalTokenCount"] == prompt + usage["candidatesTokenCount"]
    assert second.json()["candidates"] == body["candidates"]
    assert second.json()["usageMetadata"] == usage


def test_default_answer_mentions_system_instruction_and_tools(
    emu: SegmindEmulator, client: httpx.Client
) -> None:
    body = gemini(
        HI,
        {"text": "there"},
        system_instruction={"parts": {"text": "Be brief."}},
        tools=[{"functionDeclarations": [{"name": "get_weather"}, {"name": "search"}]}],
    )
    assert answer_text(post(client, emu, body)) == (
        "emulated reply: 2 text parts; system instruction of 9 chars; "
        "tools declared: get_weather, search"
    )


def test_segmind_headers_and_credits(emu: SegmindEmulator, client: httpx.Client) -> None:
    first, second = post(client, emu), post(client, emu)
    refused = post(client, emu, {"messages": {}})
    for response in (first, second, refused):
        assert response.headers["content-type"] == "application/json"
        assert len(response.headers["x-request-id"]) == 36
        float(response.headers["x-generation-time"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.headers["x-cost"] == "0.0012"
    assert float(first.headers["x-remaining-credits"]) == pytest.approx(10 - 0.0012)
    assert float(second.headers["x-remaining-credits"]) == pytest.approx(10 - 0.0024)
    assert refused.headers["x-cost"] == "0"
    assert refused.headers["x-remaining-credits"] == second.headers["x-remaining-credits"]


def test_out_of_credits_is_406_insufficient_credits(client: httpx.Client) -> None:
    with SegmindEmulator(credits=0.002) as emu:
        assert post(client, emu).status_code == 200
        response = post(client, emu)
    assert response.status_code == 406
    assert response.json()["error"] == "Insufficient credits"


# -- scripted replies ----------------------------------------------------------------


def test_queued_replies_come_out_in_order(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_text("first").queue_text("second")
    assert [answer_text(post(client, emu)) for _ in range(3)] == [
        "first",
        "second",
        "emulated reply: 1 text part, 1 image/png part of 2.1 KB",
    ]


def test_queue_text_with_thoughts_signature_and_usage(
    emu: SegmindEmulator, client: httpx.Client
) -> None:
    emu.queue_text(
        "42", finish_reason="MAX_TOKENS", thoughts="Let me think", thought_signature="c2ln"
    )
    emu.queue_text("x", usage={"promptTokenCount": 7, "totalTokenCount": 7})
    candidate = post(client, emu).json()["candidates"][0]
    assert candidate["finishReason"] == "MAX_TOKENS"
    assert candidate["content"]["parts"] == [
        {"text": "Let me think", "thought": True},
        {"text": "42", "thoughtSignature": "c2ln"},
    ]
    assert post(client, emu).json()["usageMetadata"] == {
        "promptTokenCount": 7,
        "totalTokenCount": 7,
    }


def test_queue_function_calls(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_function_call("get_weather", {"city": "Paris"}, id="call-1", thought_signature="s")
    emu.queue_function_calls([("a", {"x": 1}), ("b", {})])
    first = post(client, emu).json()["candidates"][0]
    assert first["finishReason"] == "STOP"
    assert first["content"]["parts"] == [
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call-1"},
            "thoughtSignature": "s",
        }
    ]
    parts = post(client, emu).json()["candidates"][0]["content"]["parts"]
    assert parts == [
        {"functionCall": {"name": "a", "args": {"x": 1}}},
        {"functionCall": {"name": "b", "args": {}}},
    ]


def test_queue_prompted_tool_calls(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_prompted_tool_call("search", {"q": "cats"})
    emu.queue_prompted_tool_calls([("a", {}), ("b", {"n": 2})], fenced=True)
    bare = answer_text(post(client, emu))
    assert json.loads(bare) == {"tool_calls": [{"name": "search", "arguments": {"q": "cats"}}]}
    fenced = answer_text(post(client, emu))
    assert fenced.startswith("```json\n")
    assert fenced.endswith("\n```")
    assert json.loads(fenced.removeprefix("```json\n").removesuffix("\n```")) == {
        "tool_calls": [{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"n": 2}}]
    }


def test_queue_response_is_sent_exactly(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_response({"choices": [{"message": {"content": "hi"}}]}, headers={"x-cost": "0.5"})
    emu.queue_response(b"not json", status=500, headers={"Content-Type": "text/plain"})
    openai_shaped = post(client, emu)
    assert openai_shaped.json() == {"choices": [{"message": {"content": "hi"}}]}
    assert openai_shaped.headers["x-cost"] == "0.5"
    raw = post(client, emu)
    assert (raw.status_code, raw.content, raw.headers["content-type"]) == (
        500,
        b"not json",
        "text/plain",
    )


def test_queue_error_and_google_error(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_error(410, "Model retired", headers={"x-extra": "1"})
    emu.queue_google_error(429, "Quota exceeded", "RESOURCE_EXHAUSTED", retry_delay="34.4s")
    retired = post(client, emu)
    assert (retired.status_code, retired.json()) == (410, {"error": "Model retired"})
    assert retired.headers["x-extra"] == "1"
    assert retired.headers["x-cost"] == "0"
    google = post(client, emu)
    assert google.status_code == 429
    assert google.json() == {
        "error": {
            "code": 429,
            "message": "Quota exceeded",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"}
            ],
        }
    }


# -- faults --------------------------------------------------------------------------


def test_fault_reset_is_a_connection_error(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_fault("reset")
    with pytest.raises(httpx.ReadError):
        post(client, emu)
    assert post(client, emu).status_code == 200, "the server keeps serving after a reset"


def test_fault_truncated_is_an_incomplete_body(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_fault(Fault.TRUNCATED)
    with pytest.raises(httpx.RemoteProtocolError, match=r"complete message body"):
        post(client, emu)
    assert post(client, emu).status_code == 200


async def test_fault_truncated_with_aiohttp(emu: SegmindEmulator) -> None:
    emu.queue_fault("truncated")
    async with (
        aiohttp.ClientSession(headers={"x-api-key": emu.api_key}) as session,
        session.post(f"{emu.base_url}/{SLUG}", json=TEXT_AND_IMAGE) as response,
    ):
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


def test_fault_html_502(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_fault("html_502")
    response = post(client, emu)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text


def test_fault_rate_limit(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_fault("rate_limit", reset_after=30)
    response = post(client, emu)
    assert response.status_code == 429
    assert response.json()["error"].startswith("Rate limit exceeded")
    assert "retry-after" not in response.headers
    reset_at = datetime.fromisoformat(response.headers["x-rate-limit-reset-at-utc"])
    assert reset_at.utcoffset() == timedelta(0)
    ahead = (reset_at - datetime.now(timezone.utc)).total_seconds()
    assert 25 < ahead <= 30


def test_fault_slow_and_delays(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_fault("slow", delay=0.3)
    started = time.perf_counter()
    response = post(client, emu)
    assert time.perf_counter() - started >= 0.3
    assert answer_text(response).startswith("emulated reply:")
    assert float(response.headers["x-generation-time"]) >= 0.3


def test_fault_blocked(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_fault("blocked", reason="PROHIBITED_CONTENT")
    body = post(client, emu).json()
    assert "candidates" not in body
    assert body["promptFeedback"]["blockReason"] == "PROHIBITED_CONTENT"


def test_unknown_fault_kind_or_option_is_refused(emu: SegmindEmulator) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        emu.queue_fault("explode")
    with pytest.raises(ValueError, match="reason"):
        emu.queue_fault("reset", reason="SAFETY")
    assert emu.pending == 0


def _outcomes(seed: int, count: int = 40) -> list[str]:
    results = []
    with (
        SegmindEmulator(seed=seed, fault_rate=0.5) as emu,
        httpx.Client(
            headers={"x-api-key": emu.api_key}, limits=httpx.Limits(max_keepalive_connections=0)
        ) as client,
    ):
        for _ in range(count):
            try:
                results.append(str(post(client, emu).status_code))
            except httpx.HTTPError as exc:
                results.append(type(exc).__name__)
    return results


def test_seeded_fault_rate_is_reproducible() -> None:
    first, again, other = _outcomes(7), _outcomes(7), _outcomes(8)
    assert first == again
    assert first != other
    assert {"200", "502", "429", "ReadError", "RemoteProtocolError"} == set(first)


# -- v2 queue ------------------------------------------------------------------------


async def test_v2_submit_poll_result(emu: SegmindEmulator) -> None:
    emu.queue_text("from the queue")
    async with httpx.AsyncClient(headers={"x-api-key": emu.api_key}) as client:
        submitted = (await client.post(f"{emu.origin}/v2/{SLUG}", json=TEXT_AND_IMAGE)).json()
        job = submitted["request_id"]
        assert submitted["status_url"] == f"{emu.origin}/v2/requests/{job}/status"
        assert submitted["response_url"] == f"{emu.origin}/v2/requests/{job}"
        states = [(await client.get(submitted["status_url"])).json() for _ in range(3)]
        assert states == [{"status": "QUEUED"}, {"status": "PROCESSING"}, {"status": "COMPLETED"}]
        result = await client.get(submitted["response_url"])
    assert result.status_code == 200
    assert result.headers["x-cost"] == "0.0012"
    body = result.json()
    assert body["status"] == "COMPLETED"
    assert isinstance(body["metrics"]["generation_time"], float)
    assert isinstance(body["output"], str)
    output = json.loads(body["output"])
    assert output["candidates"][0]["content"]["parts"] == [{"text": "from the queue"}]


def test_v2_failed_job_is_422(emu: SegmindEmulator, client: httpx.Client) -> None:
    emu.queue_error(500, "upstream exploded")
    submitted = client.post(f"{emu.origin}/v2/{SLUG}", json=TEXT_AND_IMAGE).json()
    statuses = [client.get(submitted["status_url"]) for _ in range(3)]
    assert [s.status_code for s in statuses] == [200, 200, 422]
    assert statuses[-1].json() == {"status": "FAILED", "error": "upstream exploded"}
    assert client.get(submitted["response_url"]).status_code == 422


def test_v2_unknown_id_and_submit_faults(emu: SegmindEmulator, client: httpx.Client) -> None:
    missing = client.get(f"{emu.origin}/v2/requests/no-such-job")
    assert missing.status_code == 404
    assert "no-such-job" in missing.json()["error"]
    emu.queue_fault("rate_limit")
    assert client.post(f"{emu.origin}/v2/{SLUG}", json=TEXT_AND_IMAGE).status_code == 429
    bad = client.post(f"{emu.origin}/v2/{SLUG}", json={"messages": {"contents": [{"role": "x"}]}})
    assert bad.status_code == 400


def test_v2_queue_polls_zero_completes_at_once(client: httpx.Client) -> None:
    with SegmindEmulator(queue_polls=0) as emu:
        submitted = client.post(f"{emu.origin}/v2/{SLUG}", json=TEXT_AND_IMAGE).json()
        assert client.get(submitted["status_url"]).json() == {"status": "COMPLETED"}


def test_v2_delay_keeps_the_job_processing(client: httpx.Client) -> None:
    with SegmindEmulator(queue_polls=0) as emu:
        emu.queue_text("slow job", delay=0.2)
        submitted = client.post(f"{emu.origin}/v2/{SLUG}", json=TEXT_AND_IMAGE).json()
        assert client.get(submitted["status_url"]).json() == {"status": "QUEUED"}
        assert client.get(submitted["response_url"]).json() == {"status": "PROCESSING"}
        time.sleep(0.2)
        result = client.get(submitted["response_url"]).json()
    assert result["status"] == "COMPLETED"
    assert result["metrics"]["generation_time"] >= 0.2
    assert "slow job" in result["output"]


# -- recording and lifecycle ---------------------------------------------------------


def test_requests_are_recorded(emu: SegmindEmulator, client: httpx.Client) -> None:
    post(client, emu)
    client.get(f"{emu.origin}/v2/requests/x/status", headers={"X-Trace": "t1"})
    first, second = emu.requests
    assert (first.method, first.path, first.model) == ("POST", f"/v1/{SLUG}", SLUG)
    assert first.header("X-API-KEY") == emu.api_key
    assert first.json == TEXT_AND_IMAGE
    assert first.messages == TEXT_AND_IMAGE["messages"]
    assert json.loads(first.body) == TEXT_AND_IMAGE
    assert (second.method, second.model, second.headers["x-trace"]) == ("GET", None, "t1")
    assert emu.last_request == second
    emu.queue_text("left over")
    emu.clear()
    assert emu.requests == []
    assert emu.pending == 0


def test_reset_restores_credits_and_fault_sequence(client: httpx.Client) -> None:
    with SegmindEmulator(seed=3, fault_rate=0.5) as emu:

        def run() -> list[str]:
            results = []
            for _ in range(12):
                try:
                    results.append(str(post(client, emu).status_code))
                except httpx.HTTPError as exc:
                    results.append(type(exc).__name__)
            return results

        first = run()
        assert emu.credits < 10
        emu.queue_text("dropped")
        emu.reset()
        assert (emu.credits, emu.pending, emu.requests) == (10, 0, [])
        assert run() == first


async def test_256_concurrent_connections(emu: SegmindEmulator) -> None:
    count = 256
    for _ in range(count):
        emu.queue_text("ok", delay=0.05)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, headers={"x-api-key": emu.api_key}
    ) as session:

        async def call() -> int:
            async with session.post(f"{emu.base_url}/{SLUG}", json=gemini(HI)) as response:
                await response.read()
                return response.status

        started = time.perf_counter()
        statuses = await asyncio.gather(*(call() for _ in range(count)))
        elapsed = time.perf_counter() - started
    assert statuses == [200] * count
    assert emu.pending == 0
    # Served one by one this would take 256 * 0.05 = 12.8 s.
    assert elapsed < 4, elapsed
    assert emu.max_in_flight >= 64


def test_stop_releases_port_and_is_idempotent() -> None:
    with SegmindEmulator() as emu:
        port = emu.port
        assert httpx.post(f"{emu.base_url}/{SLUG}", json=TEXT_AND_IMAGE).status_code == 401
    emu.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/{SLUG}")
    with SegmindEmulator(port=port) as again:
        assert again.port == port


def test_stop_does_not_wait_for_scripted_delays(emu: SegmindEmulator) -> None:
    emu.queue_text("late", delay=30)
    with socket.create_connection(("127.0.0.1", emu.port)) as sock:
        payload = json.dumps(gemini(HI)).encode()
        sock.sendall(
            f"POST /v1/{SLUG} HTTP/1.1\r\nHost: x\r\nx-api-key: {emu.api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        deadline = time.monotonic() + 2
        while emu.pending and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.perf_counter()
        emu.stop()
    assert time.perf_counter() - started < 2


def test_start_on_a_taken_port_raises() -> None:
    with SegmindEmulator() as emu, pytest.raises(OSError):
        SegmindEmulator(port=emu.port).start()


def test_run_forever_serves_until_interrupted() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = f"from segmind_gemini.testing import run_forever; run_forever({port}, api_key='k1')"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            banner = "".join(proc.stdout.readline() for _ in range(3))
            assert f"http://127.0.0.1:{port}/v1" in banner
            assert "k1" in banner
            response = httpx.post(
                f"http://127.0.0.1:{port}/v1/{SLUG}",
                json=TEXT_AND_IMAGE,
                headers={"x-api-key": "k1"},
            )
            assert response.status_code == 200
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


# -- pytest plugin -------------------------------------------------------------------


def test_pytest_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import pytest

        def test_uses_fixture(segmind_emulator):
            segmind_emulator.queue_text("hello")
            body = {"messages": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}}
            response = httpx.post(
                segmind_emulator.base_url + "/gemini-2.5-flash",
                json=body,
                headers={"x-api-key": segmind_emulator.api_key},
            )
            parts = response.json()["candidates"][0]["content"]["parts"]
            assert parts == [{"text": "hello"}]

        @pytest.mark.segmind_emulator(api_key="custom", queue_polls=5)
        def test_marker_options(segmind_emulator):
            assert segmind_emulator.api_key == "custom"
            assert segmind_emulator.queue_polls == 5
        """
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    installed = any(
        ep.name == "segmind_gemini" for ep in importlib.metadata.entry_points(group="pytest11")
    )
    # Without the installed entry point, load the plugin module by name instead.
    args = [] if installed else ["-p", "segmind_gemini.testing.pytest_plugin"]
    result = pytester.runpytest_inprocess(*args, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, segmind_gemini.testing.pytest_plugin as p, segmind_gemini.testing as t;"
        "assert 'segmind_gemini.testing.emulator' not in sys.modules;"
        "assert 'aiohttp.web' not in sys.modules, 'aiohttp.web imported';"
        "t.SegmindEmulator; assert 'segmind_gemini.testing.emulator' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

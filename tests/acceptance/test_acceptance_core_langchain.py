"""Acceptance checks for the core client and ``ChatSegmindGemini``.

Everything talks real HTTP to the package's emulator, with each answer queued exactly
by its test (``reply``), shaped like recorded real Gemini / Segmind exchanges; the
emulator adds Segmind's key check and Gemini's request validation. Tests marked
``verbatim`` script a gateway's exact exchanges (queue submits and polls, media, hostile
answers): there every request takes the next queued answer as is. The public names are
driven as a user would and the assertions are what a user relies on.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import pickle
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from _emulated import CORE_KEY, reply

import segmind_gemini as sg
from segmind_gemini import SegmindGeminiClient
from segmind_gemini.testing import SegmindEmulator

KEY = CORE_KEY
SLUG = "gemini-2.5-flash"
FAST = sg.RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.05)

SEG_HEADERS = {
    "x-request-id": "6b1f2c3d-acceptance",
    "x-cost": "0.00042",
    "x-remaining-credits": "9.87654",
    "x-generation-time": "1.73",
}

# --------------------------------------------------------------------------- bodies
# Shapes taken from recorded real Gemini exchanges (public test suites).


def text_body(text: str = "Paris is the capital of France.", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 8,
            "candidatesTokenCount": 7,
            "totalTokenCount": 40,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}],
            "thoughtsTokenCount": 25,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "Xb1TaP6ZJt6S1dkP0bSb8AE" + uuid.uuid4().hex[:6],  # unique, as live
    }
    body.update(extra)
    return body


THOUGHT_BODY = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {
                        "text": "**Counting letters**\n\nI'm going through s-t-r-a-w-b-e-r-r-y.",
                        "thought": True,
                    },
                    {"text": "There are 3 r's in strawberry.", "thoughtSignature": "CiQB0e2Kb1x"},
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 11,
        "candidatesTokenCount": 9,
        "totalTokenCount": 2201,
        "cachedContentTokenCount": 2048,
        "toolUsePromptTokenCount": 30,
        "thoughtsTokenCount": 103,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 11}],
        "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 2048}],
        "toolUsePromptTokensDetails": [{"modality": "TEXT", "tokenCount": 30}],
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "resp-thought-1",
}

FUNCTION_CALL_BODY = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {
                        "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}},
                        "thoughtSignature": "CqYCAdHtim9sig",
                    },
                    {"functionCall": {"name": "get_weather", "args": {"city": "Bergen"}}},
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 60,
        "candidatesTokenCount": 20,
        "totalTokenCount": 150,
        "thoughtsTokenCount": 70,
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "resp-fc-1",
}

MAX_TOKENS_BODY = {
    "candidates": [{"content": {}, "finishReason": "MAX_TOKENS", "index": 0}],
    "usageMetadata": {
        "promptTokenCount": 10,
        "totalTokenCount": 60,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}],
        "thoughtsTokenCount": 50,
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "resp-max",
}

ROLE_ONLY_BODY = {
    "candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}],
    "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 20, "thoughtsTokenCount": 16},
    "modelVersion": "gemini-2.5-pro",
    "responseId": "resp-role-only",
}

SAFETY_BODY = {
    "candidates": [
        {
            "finishReason": "SAFETY",
            "index": 0,
            "safetyRatings": [
                {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
                {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
                {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
                {
                    "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                    "probability": "HIGH",
                    "blocked": True,
                },
            ],
        }
    ],
    "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
    "modelVersion": "gemini-1.5-pro-002",
}

BLOCKED_BODY = {
    "promptFeedback": {
        "blockReason": "PROHIBITED_CONTENT",
        "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"}
        ],
    },
    "usageMetadata": {
        "promptTokenCount": 12,
        "totalTokenCount": 12,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "resp-blocked",
}

OPENAI_BODY = {
    "id": "chatcmpl-acceptance-1",
    "object": "chat.completion",
    "created": 1735689600,
    "model": "gemini-2.5-flash",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello from an OpenAI-shaped body."},
            "finish_reason": "length",
        }
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
}

IMAGE_OUT_BODY = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {"text": "Here is the image."},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
            "citationMetadata": {"citationSources": [{"startIndex": 1, "endIndex": 9}]},
            "avgLogprobs": -0.25,
            "finishMessage": "done",
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 3,
        "candidatesTokenCount": 1290,
        "totalTokenCount": 1293,
        "candidatesTokensDetails": [
            {"modality": "TEXT", "tokenCount": 5},
            {"modality": "IMAGE", "tokenCount": 1285},
        ],
    },
    "modelVersion": "gemini-2.5-flash-image",
    "responseId": "resp-img",
}


def google_error(code: int, status: str, message: str, retry_delay: str | None = None) -> dict:
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {"description": "Learn more", "url": "https://ai.google.dev/gemini-api/docs"}
            ],
        }
    ]
    if retry_delay is not None:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        )
    return {"error": {"code": code, "message": message, "status": status, "details": details}}


HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG_1x1).decode()
JPEG_B64 = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32).decode()
PDF_B64 = base64.b64encode(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n").decode()
WAV_B64 = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 24).decode()
GIF_B64 = base64.b64encode(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").decode()

USER_HI = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


def make_client(server: SegmindEmulator, **kw: Any) -> SegmindGeminiClient:
    kw.setdefault("model", SLUG)
    kw.setdefault("base_url", server.base_url)
    return SegmindGeminiClient(KEY, **kw)


def assert_no_key(*things: Any) -> None:
    for thing in things:
        text = thing if isinstance(thing, str) else repr(thing) + " " + str(thing)
        assert KEY not in text, f"API key leaked in: {text[:200]}"


# =========================================================================== CORE


class TestCoreRequest:
    def test_path_headers_and_body_are_the_documented_shape(self, core_server):
        reply(core_server, 200, text_body(), SEG_HEADERS)
        request = {
            "system_instruction": {"parts": {"text": "Answer briefly."}},
            "contents": [{"role": "user", "parts": [{"text": "Capital of France?"}]}],
        }
        with make_client(core_server) as client:
            result = client.generate_content(request)
        (sent,) = core_server.requests
        assert sent.method == "POST"
        assert sent.path == f"/v1/{SLUG}"
        assert sent.headers["x-api-key"] == KEY
        assert sent.headers["content-type"].startswith("application/json")
        assert "authorization" not in sent.headers
        assert sent.json == {"messages": request}
        assert result.text == "Paris is the capital of France."

    def test_default_slug_and_per_call_model(self, core_server):
        reply(core_server, 200, text_body(), times=2)
        client = SegmindGeminiClient(KEY, base_url=core_server.base_url)
        client.generate_content(USER_HI)
        client.generate_content(USER_HI, model="gemini-3-pro")
        client.close()
        assert [r.path for r in core_server.requests] == [
            "/v1/gemini-2.5-flash",
            "/v1/gemini-3-pro",
        ]

    def test_key_and_base_url_from_environment(self, core_server, monkeypatch):
        monkeypatch.setenv("SEGMIND_API_KEY", KEY)
        monkeypatch.setenv("SEGMIND_BASE_URL", core_server.base_url + "/")
        reply(core_server, 200, text_body())
        with SegmindGeminiClient(model=SLUG) as client:
            client.generate_content(USER_HI)
        assert core_server.requests[0].headers["x-api-key"] == KEY
        assert core_server.requests[0].path == f"/v1/{SLUG}"

    def test_missing_key_names_the_variable(self, monkeypatch):
        monkeypatch.delenv("SEGMIND_API_KEY", raising=False)
        with pytest.raises(sg.AuthenticationError, match="SEGMIND_API_KEY"):
            SegmindGeminiClient(model=SLUG)

    def test_plain_http_refused_except_loopback(self):
        with pytest.raises(sg.InvalidRequestError, match="unencrypted"):
            SegmindGeminiClient(KEY, base_url="http://api.segmind.com/v1")
        SegmindGeminiClient(KEY, base_url="http://localhost:9/v1").close()

    def test_malformed_request_refused_before_sending(self, core_server):
        client = make_client(core_server)
        with pytest.raises(sg.InvalidRequestError, match="parts"):
            client.generate_content({"contents": [{"role": "user", "parts": []}]})
        with pytest.raises(sg.InvalidRequestError, match="role"):
            client.generate_content({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]})
        client.close()
        assert core_server.requests == []


class TestCoreResponses:
    def test_thoughts_signatures_and_every_usage_count(self, core_server):
        reply(core_server, 200, THOUGHT_BODY, SEG_HEADERS)
        with make_client(core_server) as client:
            r = client.generate_content(USER_HI)
        assert r.text == "There are 3 r's in strawberry."
        assert r.thoughts.startswith("**Counting letters**")
        assert r.finish_reason == "STOP"
        u = r.usage
        assert (u.prompt_tokens, u.candidates_tokens, u.thoughts_tokens) == (11, 9, 103)
        assert (u.cached_tokens, u.tool_use_prompt_tokens, u.total_tokens) == (2048, 30, 2201)
        assert u.input_tokens == 41 and u.output_tokens == 112
        assert "cacheTokensDetails" in u.details and "toolUsePromptTokensDetails" in u.details
        assert r.model_version == "gemini-2.5-flash"
        assert r.response_id == "resp-thought-1"
        assert r.headers.request_id == "6b1f2c3d-acceptance"
        assert r.headers.cost == pytest.approx(0.00042)
        assert r.headers.remaining_credits == pytest.approx(9.87654)
        assert r.headers.generation_time == pytest.approx(1.73)
        assert r.raw == THOUGHT_BODY
        assert r.parts[1]["thoughtSignature"] == "CiQB0e2Kb1x"

    def test_parallel_function_calls_without_id(self, core_server):
        reply(core_server, 200, FUNCTION_CALL_BODY)
        with make_client(core_server) as client:
            r = client.generate_content(USER_HI)
        assert [c.name for c in r.tool_calls] == ["get_weather", "get_weather"]
        assert [c.args for c in r.tool_calls] == [{"city": "Oslo"}, {"city": "Bergen"}]
        ids = [c.id for c in r.tool_calls]
        assert all(ids) and len(set(ids)) == 2
        assert r.tool_calls[0].thought_signature == "CqYCAdHtim9sig"
        assert r.tool_calls[1].thought_signature is None
        assert r.text == ""

    @pytest.mark.parametrize("body", [MAX_TOKENS_BODY, ROLE_ONLY_BODY], ids=["empty", "role"])
    def test_candidate_without_parts(self, core_server, body):
        reply(core_server, 200, body)
        with make_client(core_server) as client:
            r = client.generate_content(USER_HI)
        assert r.text == "" and r.tool_calls == []
        assert r.finish_reason == "MAX_TOKENS"
        assert r.usage.candidates_tokens == 0
        assert r.usage.output_tokens == body["usageMetadata"]["thoughtsTokenCount"]

    def test_safety_finish_is_a_result_not_an_error(self, core_server):
        reply(core_server, 200, SAFETY_BODY)
        with make_client(core_server) as client:
            r = client.generate_content(USER_HI)
        assert r.finish_reason == "SAFETY" and r.text == ""
        assert any(x.get("blocked") for x in r.safety_ratings)

    def test_blocked_prompt_raises_with_reason(self, core_server):
        reply(core_server, 200, BLOCKED_BODY, SEG_HEADERS)
        with make_client(core_server) as client, pytest.raises(sg.ContentBlockedError) as info:
            client.generate_content(USER_HI)
        assert info.value.block_reason == "PROHIBITED_CONTENT"
        assert "PROHIBITED_CONTENT" in str(info.value)
        assert info.value.request_id == "6b1f2c3d-acceptance"

    def test_openai_shaped_body(self, core_server):
        reply(core_server, 200, OPENAI_BODY)
        with make_client(core_server) as client:
            r = client.generate_content(USER_HI)
        assert r.text == "Hello from an OpenAI-shaped body."
        assert r.finish_reason == "MAX_TOKENS"
        assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (5, 9, 14)
        assert r.response_id == "chatcmpl-acceptance-1"

    def test_image_output_citations_logprobs(self, core_server):
        reply(core_server, 200, IMAGE_OUT_BODY)
        with make_client(core_server) as client:
            r = client.generate_content(USER_HI)
        assert r.text == "Here is the image."
        assert r.images == [{"mimeType": "image/png", "data": "iVBORw0KGgo="}]
        assert r.citation_metadata and r.avg_logprobs == -0.25
        assert r.finish_message == "done"

    def test_200_that_is_not_gemini_is_a_parse_error(self, core_server):
        reply(core_server, 200, {"status": "ok", "unexpected": True})
        with make_client(core_server) as client, pytest.raises(sg.ResponseParseError):
            client.generate_content(USER_HI)


SEGMIND_ERRORS = [
    (
        400,
        google_error(400, "INVALID_ARGUMENT", "* contents: contents is not specified"),
        sg.BadRequestError,
        "contents is not specified",
    ),
    (
        401,
        {"error": "Unauthorized: invalid x-api-key or Authorization header"},
        sg.AuthenticationError,
        "invalid x-api-key",
    ),
    (
        403,
        {"error": "Forbidden: this key cannot use the model"},
        sg.PermissionDeniedError,
        "Forbidden",
    ),
    (404, {"error": "Model not found"}, sg.NotFoundError, "Model not found"),
    (406, {"error": "Insufficient credits"}, sg.InsufficientCreditsError, "Insufficient credits"),
    (406, {"error": "Invalid content type"}, sg.InvalidContentTypeError, "Invalid content type"),
    (410, {"error": "This model has been retired"}, sg.ModelRetiredError, "retired"),
    (422, {"error": "messages: field required"}, sg.UnprocessableEntityError, "field required"),
]


class TestCoreErrors:
    @pytest.mark.parametrize(("status", "body", "cls", "words"), SEGMIND_ERRORS)
    def test_each_status_is_its_class_and_never_retried(
        self, core_server, status, body, cls, words
    ):
        reply(core_server, status, body, {"x-request-id": "req-err-1"})
        with make_client(core_server, max_retries=3) as client, pytest.raises(cls) as info:
            client.generate_content(USER_HI)
        exc = info.value
        assert len(core_server.requests) == 1
        assert isinstance(exc, sg.SegmindError) and isinstance(exc, sg.APIStatusError)
        assert exc.status_code == status
        assert words in exc.message and words in str(exc)
        assert exc.body == body
        assert exc.request_id == "req-err-1"
        assert_no_key(exc, exc.message, repr(exc.body))

    def test_410_names_current_slugs(self, core_server):
        reply(core_server, 410, {"error": "Model retired"})
        with make_client(core_server) as client, pytest.raises(sg.ModelRetiredError) as info:
            client.generate_content(USER_HI, model="gemini-1.5-pro")
        assert "gemini-2.5-flash" in info.value.current_models
        assert "gemini-2.5-flash" in str(info.value)
        assert "gemini-1.5-pro" not in info.value.current_models

    def test_html_502_retried_then_reported_in_words(self, core_server):
        reply(core_server, 502, HTML_502, {"content-type": "text/html"}, times=3)
        client = make_client(core_server, retry_policy=FAST)
        with pytest.raises(sg.InternalServerError) as info:
            client.generate_content(USER_HI)
        client.close()
        assert len(core_server.requests) == 3
        assert info.value.status_code == 502
        assert "502 Bad Gateway" in info.value.message
        assert "<" not in info.value.message


class TestCoreRetries:
    def test_5xx_then_success(self, core_server):
        reply(core_server, 503, google_error(503, "UNAVAILABLE", "The model is overloaded."))
        reply(core_server, 500, {"error": "Internal Server Error"})
        reply(core_server, 200, text_body())
        with make_client(core_server, retry_policy=FAST) as client:
            assert client.generate_content(USER_HI).text.startswith("Paris")
        assert len(core_server.requests) == 3

    def test_max_retries_counts(self, core_server):
        reply(core_server, 500, {"error": "boom"})
        with (
            make_client(core_server, max_retries=0) as client,
            pytest.raises(sg.InternalServerError),
        ):
            client.generate_content(USER_HI)
        assert len(core_server.requests) == 1
        core_server.clear()
        reply(core_server, 504, {"error": "gateway timeout"}, times=4)
        policy = sg.RetryPolicy(max_retries=3, initial_backoff=0.01, max_backoff=0.02)
        with (
            make_client(core_server, retry_policy=policy) as client,
            pytest.raises(sg.InternalServerError),
        ):
            client.generate_content(USER_HI)
        assert len(core_server.requests) == 4

    def test_default_backoff_waits_between_attempts(self, core_server):
        reply(core_server, 503, {"error": "busy"})
        reply(core_server, 200, text_body())
        with make_client(core_server) as client:  # default policy: 2 retries
            client.generate_content(USER_HI)
        first, second = core_server.requests
        gap = second.received_at - first.received_at
        assert 0.2 <= gap < 2.0

    def test_429_honours_x_rate_limit_reset_at_utc(self, core_server):
        reset = datetime.now(timezone.utc) + timedelta(seconds=0.6)
        reply(
            core_server,
            429,
            {"error": "Rate limit exceeded"},
            {"x-rate-limit-reset-at-utc": reset.isoformat(timespec="milliseconds")},
        )
        reply(core_server, 200, text_body())
        with make_client(core_server, retry_policy=FAST) as client:
            client.generate_content(USER_HI)
        first, second = core_server.requests
        assert second.received_at - first.received_at >= 0.4  # the hint, not FAST's 10 ms backoff

    def test_429_google_retry_info(self, core_server):
        body = google_error(
            429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", retry_delay="0.5s"
        )
        reply(core_server, 429, body)
        reply(core_server, 200, text_body())
        with make_client(core_server, retry_policy=FAST) as client:
            client.generate_content(USER_HI)
        first, second = core_server.requests
        assert second.received_at - first.received_at >= 0.45

    def test_retry_after_header(self, core_server):
        reply(core_server, 429, {"error": "slow down"}, {"retry-after": "1"})
        reply(core_server, 200, text_body())
        t0 = time.monotonic()
        with make_client(core_server, retry_policy=FAST) as client:
            client.generate_content(USER_HI)
        assert time.monotonic() - t0 >= 0.95

    def test_hint_above_cap_raises_at_once_with_retry_after(self, core_server):
        body = google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", retry_delay="34.4s")
        reply(core_server, 429, body, {"x-request-id": "rl-1"})
        t0 = time.monotonic()
        with (
            make_client(core_server, max_rate_limit_wait=5) as client,
            pytest.raises(sg.RateLimitError) as info,
        ):
            client.generate_content(USER_HI)
        assert time.monotonic() - t0 < 1
        assert len(core_server.requests) == 1
        assert info.value.retry_after == pytest.approx(34.4)
        assert "Quota exceeded" in str(info.value)

    def test_429s_wait_their_turn_and_use_no_retries(self, core_server):
        body = google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", retry_delay="0.05s")
        reply(core_server, 429, body, times=3)
        reply(core_server, 200, text_body())
        with make_client(core_server, retry_policy=sg.RetryPolicy(max_retries=0)) as client:
            assert client.generate_content(USER_HI).text.startswith("Paris")
        assert len(core_server.requests) == 4

    def test_429_past_max_rate_limit_wait_keeps_retry_after(self, core_server):
        body = google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", retry_delay="0.05s")
        reply(core_server, 429, body)
        with (
            make_client(core_server, max_rate_limit_wait=0) as client,
            pytest.raises(sg.RateLimitError) as info,
        ):
            client.generate_content(USER_HI)
        assert len(core_server.requests) == 1
        assert info.value.retry_after == pytest.approx(0.05)

    @pytest.mark.parametrize("fault", ["reset", "truncated"])
    def test_connection_faults_are_retried(self, core_server, fault):
        reply(core_server, 200, text_body(), fault=fault)
        reply(core_server, 200, text_body())
        with make_client(core_server, retry_policy=FAST) as client:
            assert client.generate_content(USER_HI).text.startswith("Paris")
        assert len(core_server.requests) == 2

    @pytest.mark.parametrize("fault", ["reset", "truncated"])
    async def test_connection_faults_are_retried_async(self, core_server, fault):
        reply(core_server, 200, text_body(), fault=fault)
        reply(core_server, 200, text_body())
        async with make_client(core_server, retry_policy=FAST) as client:
            result = await client.agenerate_content(USER_HI)
        assert result.text.startswith("Paris")
        assert len(core_server.requests) == 2

    def test_connection_fault_exhausted_is_connection_error(self, core_server):
        reply(core_server, 200, text_body(), fault="reset", times=3)
        with (
            make_client(core_server, retry_policy=FAST) as client,
            pytest.raises(sg.APIConnectionError) as info,
        ):
            client.generate_content(USER_HI)
        assert not isinstance(info.value, sg.APITimeoutError)
        assert len(core_server.requests) == 3

    def test_refused_connection(self):
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        client = SegmindGeminiClient(KEY, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
        with pytest.raises(sg.APIConnectionError) as info:
            client.generate_content(USER_HI)
        assert_no_key(info.value)


class TestCoreTimeouts:
    def test_sync_timeout(self, core_server):
        reply(core_server, 200, text_body(), delay=1.5)
        t0 = time.monotonic()
        with (
            make_client(core_server, timeout=0.3, max_retries=0) as client,
            pytest.raises(sg.APITimeoutError),
        ):
            client.generate_content(USER_HI)
        assert time.monotonic() - t0 < 1.2

    async def test_async_timeout(self, core_server):
        reply(core_server, 200, text_body(), delay=1.5)
        t0 = time.monotonic()
        async with make_client(core_server, timeout=0.3, max_retries=0) as client:
            with pytest.raises(sg.APITimeoutError):
                await client.agenerate_content(USER_HI)
        assert time.monotonic() - t0 < 1.2

    def test_per_call_timeout_and_retry_after_timeout(self, core_server):
        reply(core_server, 200, text_body(), delay=1.0)
        reply(core_server, 200, text_body("second"))
        with make_client(core_server, retry_policy=FAST) as client:
            r = client.generate_content(USER_HI, timeout=0.3)
        assert r.text == "second"
        assert len(core_server.requests) == 2


def _queue_script(server: SegmindEmulator, states: list[str], output: Any) -> None:
    rid = "q-req-123"
    status_url = f"{server.url}/v2/requests/{rid}/status"
    response_url = f"{server.url}/v2/requests/{rid}"
    reply(
        server,
        200,
        {"request_id": rid, "status_url": status_url, "response_url": response_url},
    )
    for state in states:
        reply(server, 200, {"status": state})
    if output is not None:
        reply(
            server,
            200,
            {"status": "COMPLETED", "metrics": {"inference_time": 1.2}, "output": output},
            {"x-cost": "0.0011"},
        )


@pytest.mark.verbatim
class TestCoreQueue:
    def test_submit_poll_fetch(self, core_server):
        _queue_script(core_server, ["QUEUED", "PROCESSING", "COMPLETED"], json.dumps(THOUGHT_BODY))
        with make_client(core_server, api_mode="queue", poll_interval=0.02) as client:
            r = client.generate_content(USER_HI)
        assert r.text == "There are 3 r's in strawberry."
        assert r.usage.thoughts_tokens == 103
        assert r.headers.cost == pytest.approx(0.0011)
        reqs = core_server.requests
        assert [(q.method, q.path) for q in reqs] == [
            ("POST", f"/v2/{SLUG}"),
            ("GET", "/v2/requests/q-req-123/status"),
            ("GET", "/v2/requests/q-req-123/status"),
            ("GET", "/v2/requests/q-req-123/status"),
            ("GET", "/v2/requests/q-req-123"),
        ]
        assert reqs[0].json == {"messages": USER_HI}
        assert all(q.headers.get("x-api-key") == KEY for q in reqs)

    async def test_async_queue_and_per_call_mode(self, core_server):
        _queue_script(core_server, ["COMPLETED"], json.dumps(text_body()))
        async with make_client(core_server, poll_interval=0.02) as client:
            r = await client.agenerate_content(USER_HI, api_mode="queue")
        assert r.text.startswith("Paris")
        assert core_server.requests[0].path == f"/v2/{SLUG}"

    def test_failed_job_422(self, core_server):
        rid = "q-fail"
        reply(
            core_server,
            200,
            {
                "request_id": rid,
                "status_url": f"{core_server.url}/v2/requests/{rid}/status",
                "response_url": f"{core_server.url}/v2/requests/{rid}",
            },
        )
        reply(core_server, 422, {"status": "FAILED", "error": "Input validation failed: prompt"})
        with (
            make_client(core_server, api_mode="queue", poll_interval=0.01) as client,
            pytest.raises(sg.QueueJobFailedError) as info,
        ):
            client.generate_content(USER_HI)
        assert "Input validation failed" in str(info.value)
        assert len(core_server.requests) == 2

    def test_queue_timeout_covers_polling(self, core_server):
        rid = "q-slow"
        reply(
            core_server,
            200,
            {
                "request_id": rid,
                "status_url": f"{core_server.url}/v2/requests/{rid}/status",
                "response_url": f"{core_server.url}/v2/requests/{rid}",
            },
        )
        reply(core_server, 200, {"status": "QUEUED"}, times=100)
        t0 = time.monotonic()
        with (
            make_client(core_server, api_mode="queue", timeout=0.5, poll_interval=0.02) as c,
            pytest.raises(sg.APITimeoutError),
        ):
            c.generate_content(USER_HI)
        assert 0.4 <= time.monotonic() - t0 < 1.5
        polls = len(core_server.requests) - 1
        assert 2 <= polls < 30  # adaptive: not a fixed tight loop
        core_server.reset()

    def test_key_never_sent_to_another_host(self, core_server):
        other = SegmindEmulator().start()
        try:
            reply(
                core_server,
                200,
                {
                    "request_id": "q-evil",
                    "status_url": f"{other.url}/v2/requests/q-evil/status",
                    "response_url": f"{other.url}/v2/requests/q-evil",
                },
            )
            with (
                make_client(core_server, api_mode="queue", poll_interval=0.01) as client,
                pytest.raises(sg.SegmindError) as info,
            ):
                client.generate_content(USER_HI)
            assert other.requests == []
            assert "Refusing" in str(info.value)
        finally:
            other.stop()


class TestCoreAsync:
    async def test_concurrent_calls_overlap(self, core_server):
        n = 60
        reply(core_server, 200, text_body(), delay=0.3, times=n)
        async with make_client(core_server) as client:
            t0 = time.monotonic()
            results = await asyncio.gather(*(client.agenerate_content(USER_HI) for _ in range(n)))
            elapsed = time.monotonic() - t0
        assert len(results) == n
        assert core_server.max_in_flight == n
        assert elapsed < 1.5

    def test_asyncio_run_twice_and_sync_after_async(self, core_server):
        reply(core_server, 200, text_body(), times=3)
        client = make_client(core_server)
        assert asyncio.run(client.agenerate_content(USER_HI)).text
        assert asyncio.run(client.agenerate_content(USER_HI)).text
        assert client.generate_content(USER_HI).text
        client.close()
        assert len(core_server.requests) == 3


class TestCoreKeyHygiene:
    def test_key_absent_from_repr_vars_logs_and_errors(self, core_server, caplog):
        caplog.set_level(logging.DEBUG)
        reply(core_server, 503, {"error": "busy"})
        reply(core_server, 401, {"error": "Invalid API key"})
        client = make_client(core_server, retry_policy=FAST)
        with pytest.raises(sg.AuthenticationError) as info:
            client.generate_content(USER_HI)
        assert_no_key(client, vars(client), info.value, repr(info.value.__dict__))
        assert KEY not in caplog.text
        assert "segmind_gemini" in {r.name for r in caplog.records}
        client.close()

    def test_debug_log_one_line_per_attempt(self, core_server, caplog):
        caplog.set_level(logging.DEBUG, logger="segmind_gemini")
        reply(core_server, 503, {"error": "busy"})
        reply(core_server, 200, text_body())
        with make_client(core_server, retry_policy=FAST) as client:
            client.generate_content(USER_HI)
        lines = [r.getMessage() for r in caplog.records if r.name == "segmind_gemini"]
        assert len(lines) == 2
        assert "503" in lines[0] and "retry" in lines[0]
        assert "200" in lines[1]


# =========================================================================== LANGCHAIN

lc_core = pytest.importorskip("langchain_core")

from langchain_core.callbacks import UsageMetadataCallbackHandler  # noqa: E402
from langchain_core.exceptions import (  # noqa: E402
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
    OutputParserException,
)
from langchain_core.load import dumpd, dumps  # noqa: E402
from langchain_core.messages import (  # noqa: E402
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import tool  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402
from typing_extensions import TypedDict  # noqa: E402

from langchain_segmind_gemini import ChatSegmindGemini  # noqa: E402


def make_llm(server: SegmindEmulator, **kw: Any) -> ChatSegmindGemini:
    kw.setdefault("model", SLUG)
    kw.setdefault("max_retries", 0)
    return ChatSegmindGemini(api_key=KEY, base_url=server.base_url, **kw)


def sent_contents(server: SegmindEmulator, i: int = -1) -> list[dict[str, Any]]:
    return server.requests[i].messages["contents"]


def sent_system(server: SegmindEmulator, i: int = -1) -> str:
    return server.requests[i].messages["system_instruction"]["parts"]["text"]


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return "12C, light rain"


@tool
def get_time(zone: str) -> str:
    """Current time in a time zone."""
    return "12:00"


def tool_reply(text: str) -> dict[str, Any]:
    return text_body(text)


class TestLCRequest:
    def test_default_request_is_exactly_the_documented_shape(self, core_server):
        reply(core_server, 200, text_body(), SEG_HEADERS)
        llm = make_llm(core_server)
        msg = llm.invoke([("system", "Answer briefly."), ("human", "Capital of France?")])
        (sent,) = core_server.requests
        assert sent.method == "POST" and sent.path == f"/v1/{SLUG}"
        assert sent.headers["x-api-key"] == KEY
        assert sent.json == {
            "messages": {
                "contents": [{"role": "user", "parts": [{"text": "Capital of France?"}]}],
                "system_instruction": {"parts": {"text": "Answer briefly."}},
            }
        }
        assert msg.content == "Paris is the capital of France."

    def test_settings_are_sent_only_when_set_and_call_time_overrides(self, core_server):
        reply(core_server, 200, text_body(), times=3)
        llm = make_llm(
            core_server,
            temperature=0.2,
            max_tokens=128,
            top_p=0.9,
            top_k=20,
            stop_sequences=["END"],
            thinking_budget=0,
            include_thoughts=False,
            safety_settings=[
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
            ],
        )
        llm.invoke("Hi")
        cfg = core_server.requests[0].messages["generationConfig"]
        assert cfg == {
            "temperature": 0.2,
            "maxOutputTokens": 128,
            "topP": 0.9,
            "topK": 20,
            "stopSequences": ["END"],
            "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": False},
        }
        assert core_server.requests[0].messages["safetySettings"][0]["threshold"] == (
            "BLOCK_ONLY_HIGH"
        )
        llm.invoke("Hi", stop=["STOP!"], temperature=0.0, model="gemini-2.5-pro")
        second = core_server.requests[1]
        assert second.path == "/v1/gemini-2.5-pro"
        assert second.messages["generationConfig"]["stopSequences"] == ["STOP!"]
        assert second.messages["generationConfig"]["temperature"] == 0.0
        llm.bind(max_output_tokens=7).invoke("Hi")
        assert core_server.requests[2].messages["generationConfig"]["maxOutputTokens"] == 7

    def test_aliases_and_env(self, core_server, monkeypatch):
        monkeypatch.setenv("SEGMIND_API_KEY", KEY)
        monkeypatch.setenv("SEGMIND_BASE_URL", core_server.base_url)
        reply(core_server, 200, text_body())
        llm = ChatSegmindGemini(model_name="gemini-3-flash", max_retries=0)
        llm.invoke("Hi")
        assert core_server.requests[0].path == "/v1/gemini-3-flash"
        assert core_server.requests[0].headers["x-api-key"] == KEY
        assert llm.model == "gemini-3-flash"

    def test_unknown_call_argument_is_sent_with_a_warning(self, core_server):
        # Issue 11: langchain-openai's convention, never a silent drop; Gemini (the
        # emulator too) then refuses the misspelt field by name.
        llm = make_llm(core_server)
        with (
            pytest.warns(UserWarning, match="'frequency_penaltyy' is not a ChatSegmindGemini"),
            pytest.raises(ModelInvalidRequestError, match='Unknown name "frequency_penaltyy"'),
        ):
            llm.invoke("Hi", frequency_penaltyy=1)
        assert core_server.requests[0].messages["frequency_penaltyy"] == 1


class TestLCRoles:
    def test_merging_system_notes_and_empty_ai(self, core_server):
        reply(core_server, 200, text_body())
        history = [
            SystemMessage("Rule one."),
            SystemMessage(content=[{"type": "text", "text": "Rule two."}]),
            HumanMessage("first"),
            HumanMessage("second"),
            AIMessage(""),
            SystemMessage("Now answer in French."),
            HumanMessage("third"),
            AIMessage("answer one"),
            AIMessage(content=[{"type": "text", "text": "answer two"}]),
            ChatMessage(role="user", content="fourth"),
        ]
        before = copy.deepcopy(history)
        make_llm(core_server).invoke(history)
        assert history == before  # the input is never mutated
        contents = sent_contents(core_server)
        assert [c["role"] for c in contents] == ["user", "model", "user"]
        assert all(c["parts"] for c in contents)
        user_texts = [p["text"] for p in contents[0]["parts"]]
        assert user_texts[:2] == ["first", "second"]
        assert any("Now answer in French." in t and "System" in t for t in user_texts)
        assert user_texts[-1] == "third"
        assert [p["text"] for p in contents[1]["parts"]] == ["answer one", "answer two"]
        system = sent_system(core_server)
        assert "Rule one." in system and "Rule two." in system
        assert "French" not in system

    def test_only_system_messages_refused(self, core_server):
        with pytest.raises(ModelInvalidRequestError):
            make_llm(core_server).invoke([SystemMessage("Only rules.")])
        assert core_server.requests == []

    def test_ai_text_signature_is_echoed(self, core_server):
        reply(core_server, 200, THOUGHT_BODY)
        reply(core_server, 200, text_body())
        llm = make_llm(core_server)
        first = llm.invoke("How many r's in strawberry?")
        llm.invoke([HumanMessage("How many r's in strawberry?"), first, HumanMessage("Sure?")])
        model_turn = sent_contents(core_server)[1]
        assert model_turn["role"] == "model"
        assert model_turn["parts"][0]["text"] == "There are 3 r's in strawberry."
        assert model_turn["parts"][0].get("thoughtSignature") == "CiQB0e2Kb1x"
        # thoughts are not sent back as answer text
        assert "Counting letters" not in json.dumps(sent_contents(core_server))


def _human(*blocks: Any) -> list[HumanMessage]:
    return [HumanMessage(content=[{"type": "text", "text": "Describe."}, *blocks])]


class TestLCBlocks:
    @pytest.mark.parametrize(
        ("block", "mime", "data"),
        [
            (
                {"type": "image_url", "image_url": f"data:image/png;base64,{PNG_B64}"},
                "image/png",
                PNG_B64,
            ),
            (
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
                "image/png",
                PNG_B64,
            ),
            (
                {"type": "image_url", "image_url": {"url": f"DATA:Image/PNG;BASE64,{PNG_B64}"}},
                "image/png",
                PNG_B64,
            ),
            (
                {"type": "image_url", "image_url": {"url": f"data:image/jpg;base64,{JPEG_B64}"}},
                "image/jpeg",
                JPEG_B64,
            ),
            ({"type": "image", "base64": PNG_B64, "mime_type": "image/png"}, "image/png", PNG_B64),
            (
                {
                    "type": "image",
                    "source_type": "base64",
                    "data": JPEG_B64,
                    "mime_type": "image/jpeg",
                },
                "image/jpeg",
                JPEG_B64,
            ),
            (
                {"type": "file", "base64": PDF_B64, "mime_type": "application/pdf"},
                "application/pdf",
                PDF_B64,
            ),
            (
                {
                    "type": "file",
                    "file": {
                        "filename": "r.pdf",
                        "file_data": f"data:application/pdf;base64,{PDF_B64}",
                    },
                },
                "application/pdf",
                PDF_B64,
            ),
            (
                {"type": "file", "file": {"filename": "r.pdf", "file_data": PDF_B64}},
                "application/pdf",
                PDF_B64,
            ),
            ({"type": "audio", "base64": WAV_B64, "mime_type": "audio/wav"}, "audio/wav", WAV_B64),
            (
                {"type": "input_audio", "input_audio": {"data": WAV_B64, "format": "wav"}},
                "audio/wav",
                WAV_B64,
            ),
            ({"type": "video", "base64": PNG_B64, "mime_type": "video/mp4"}, "video/mp4", PNG_B64),
        ],
        ids=[
            "image_url-str",
            "image_url-dict",
            "data-url-casing",
            "image-jpg-alias",
            "v1-image",
            "v0-base64",
            "v1-file-pdf",
            "openai-file-dataurl",
            "openai-file-b64",
            "v1-audio",
            "input_audio",
            "v1-video",
        ],
    )
    def test_block_forms_become_inline_data(self, core_server, block, mime, data):
        reply(core_server, 200, text_body())
        make_llm(core_server).invoke(_human(block))
        parts = sent_contents(core_server)[0]["parts"]
        assert parts[0] == {"text": "Describe."}
        assert parts[1] == {"inlineData": {"mimeType": mime, "data": data}}

    @pytest.mark.parametrize(
        ("block", "words"),
        [
            ({"type": "image", "base64": GIF_B64, "mime_type": "image/gif"}, "gif"),
            ({"type": "image_url", "image_url": f"data:image/gif;base64,{GIF_B64}"}, "gif"),
            ({"type": "image_url", "image_url": "/etc/passwd"}, "local"),
            ({"type": "image_url", "image_url": "file:///etc/passwd"}, "file"),
            (
                {"type": "image", "base64": "not base64 at all!!", "mime_type": "image/png"},
                "base64",
            ),
            ({"type": "file", "file_id": "file-abc"}, "file_id"),
            ({"type": "mystery", "x": 1}, "mystery"),
        ],
        ids=["gif", "gif-dataurl", "path", "file-url", "bad-b64", "file-id", "unknown"],
    )
    def test_refused_before_sending_naming_index_and_block(self, core_server, block, words):
        llm = make_llm(core_server)
        with pytest.raises(ModelInvalidRequestError) as info:
            llm.invoke([HumanMessage("hi"), AIMessage("yes"), *_human(block)])
        text = str(info.value)
        assert words.lower() in text.lower()
        assert "message 2" in text and "block 1" in text
        assert isinstance(info.value, sg.InvalidRequestError)
        assert core_server.requests == []

    @pytest.mark.verbatim
    def test_http_url_fetched_with_opt_in(self, core_server):
        reply(core_server, 200, PNG_1x1, {"Content-Type": "image/png"})
        reply(core_server, 200, text_body())
        llm = make_llm(core_server, allow_private_urls=True)
        llm.invoke(
            _human(
                {
                    "type": "image_url",
                    "image_url": {"url": f"{core_server.url}/media/cat.png?sig=x"},
                }
            )
        )
        media, _call = core_server.requests
        assert media.method == "GET" and media.path == "/media/cat.png"
        assert "x-api-key" not in media.headers  # the key only goes to the API
        assert sent_contents(core_server)[0]["parts"][1] == {
            "inlineData": {"mimeType": "image/png", "data": PNG_B64}
        }

    @pytest.mark.verbatim
    async def test_http_url_fetched_async_v1_url_block(self, core_server):
        reply(core_server, 200, PNG_1x1, {"Content-Type": "application/octet-stream"})
        reply(core_server, 200, text_body())
        llm = make_llm(core_server, allow_private_urls=True)
        await llm.ainvoke(_human({"type": "image", "url": f"{core_server.url}/m/x"}))
        assert sent_contents(core_server)[0]["parts"][1]["inlineData"]["mimeType"] == "image/png"

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:1/cat.png",
            "http://localhost/cat.png",
            "http://10.0.0.5/cat.png",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/cat.png",
            "http://2130706433/cat.png",
        ],
    )
    def test_ssrf_refused_by_default(self, core_server, url):
        llm = make_llm(core_server)
        with pytest.raises(ModelInvalidRequestError) as info:
            llm.invoke(_human({"type": "image_url", "image_url": {"url": url}}))
        assert isinstance(info.value, sg.MediaError)
        assert "message 0" in str(info.value)
        assert core_server.requests == []

    @pytest.mark.verbatim
    def test_metadata_refused_even_with_opt_in_and_on_redirect(self, core_server):
        llm = make_llm(core_server, allow_private_urls=True)
        with pytest.raises(sg.MediaError, match="metadata"):
            llm.invoke(_human({"type": "image_url", "image_url": "http://169.254.169.254/x"}))
        reply(core_server, 302, b"", {"Location": "http://metadata.google.internal/x"})
        with pytest.raises(sg.MediaError, match="metadata"):
            llm.invoke(_human({"type": "image_url", "image_url": f"{core_server.url}/r"}))
        assert [r.path for r in core_server.requests] == ["/r"]

    @pytest.mark.verbatim
    def test_fetched_page_with_wrong_type_refused(self, core_server):
        reply(core_server, 200, "<html>hi</html>", {"Content-Type": "text/html"})
        llm = make_llm(core_server, allow_private_urls=True)
        with pytest.raises(ModelInvalidRequestError, match="text/html"):
            llm.invoke(_human({"type": "image_url", "image_url": f"{core_server.url}/p"}))
        assert [r.path for r in core_server.requests] == ["/p"]


class TestLCResponse:
    def test_usage_metadata_cost_and_reasoning(self, core_server):
        reply(core_server, 200, THOUGHT_BODY, SEG_HEADERS)
        msg = make_llm(core_server).invoke("How many r's?")
        assert msg.content == "There are 3 r's in strawberry."
        assert msg.id == "resp-thought-1"
        assert msg.usage_metadata == {
            "input_tokens": 41,
            "output_tokens": 112,
            "total_tokens": 2201,
            "input_token_details": {"cache_read": 2048},
            "output_token_details": {"reasoning": 103},
        }
        meta = msg.response_metadata
        assert meta["finish_reason"] == "STOP"
        assert meta["model_name"] == SLUG
        assert meta["model_provider"] == "segmind"
        assert meta["request_id"] == "6b1f2c3d-acceptance"
        assert meta["cost"] == pytest.approx(0.00042)
        assert meta["remaining_credits"] == pytest.approx(9.87654)
        assert msg.additional_kwargs["reasoning_content"].startswith("**Counting letters**")
        assert [b["type"] for b in msg.content_blocks] == ["reasoning", "text"]

    def test_output_version_v1(self, core_server):
        reply(core_server, 200, THOUGHT_BODY)
        msg = make_llm(core_server, output_version="v1").invoke("How many r's?")
        assert isinstance(msg.content, list)
        assert [b["type"] for b in msg.content] == ["reasoning", "text"]
        assert msg.text == "There are 3 r's in strawberry."

    @pytest.mark.parametrize("body", [MAX_TOKENS_BODY, ROLE_ONLY_BODY], ids=["empty", "role"])
    def test_max_tokens_without_parts_is_a_normal_message(self, core_server, body):
        reply(core_server, 200, body)
        msg = make_llm(core_server).invoke("Long essay please")
        assert msg.content == ""
        assert msg.response_metadata["finish_reason"] == "MAX_TOKENS"
        assert msg.usage_metadata["output_tokens"] == body["usageMetadata"]["thoughtsTokenCount"]

    def test_safety_finish_and_ratings(self, core_server):
        reply(core_server, 200, SAFETY_BODY)
        msg = make_llm(core_server).invoke("something")
        assert msg.content == ""
        assert msg.response_metadata["finish_reason"] == "SAFETY"
        assert msg.response_metadata["safety_ratings"][3]["blocked"] is True

    def test_blocked_prompt_raises_both_types(self, core_server):
        reply(core_server, 200, BLOCKED_BODY)
        with pytest.raises(ModelRefusalError) as info:
            make_llm(core_server).invoke("bad")
        assert isinstance(info.value, sg.ContentBlockedError)
        assert info.value.block_reason == "PROHIBITED_CONTENT"

    def test_openai_shaped_body(self, core_server):
        reply(core_server, 200, OPENAI_BODY)
        msg = make_llm(core_server).invoke("Hi")
        assert msg.content == "Hello from an OpenAI-shaped body."
        assert msg.response_metadata["finish_reason"] == "MAX_TOKENS"
        assert msg.usage_metadata["total_tokens"] == 14

    def test_usage_callback_and_generation_info(self, core_server):
        reply(core_server, 200, THOUGHT_BODY, SEG_HEADERS, times=3)
        cb = UsageMetadataCallbackHandler()
        llm = make_llm(core_server)
        llm.invoke("a", config={"callbacks": [cb]})
        llm.invoke("b", config={"callbacks": [cb]})
        usage = cb.usage_metadata[SLUG]
        assert usage["input_tokens"] == 82 and usage["output_tokens"] == 224
        result = llm.generate([[HumanMessage("c")]])
        generation = result.generations[0][0]
        assert generation.message.response_metadata["cost"] == pytest.approx(0.00042)
        assert result.llm_output is None or KEY not in json.dumps(result.llm_output, default=str)


class TestLCStreamingAsyncBatch:
    def test_stream_is_one_last_chunk_with_usage(self, core_server):
        reply(core_server, 200, THOUGHT_BODY, SEG_HEADERS)
        chunks = list(make_llm(core_server).stream("How many r's?"))
        assert len(chunks) == 1
        (chunk,) = chunks
        assert isinstance(chunk, AIMessageChunk)
        assert chunk.content == "There are 3 r's in strawberry."
        assert chunk.chunk_position == "last"
        assert chunk.usage_metadata["total_tokens"] == 2201
        assert chunk.response_metadata["cost"] == pytest.approx(0.00042)

    async def test_astream_and_streaming_flag(self, core_server):
        reply(core_server, 200, text_body(), times=2)
        llm = make_llm(core_server, streaming=True)
        chunks = [c async for c in llm.astream("Hi")]
        assert len(chunks) == 1 and chunks[0].content.startswith("Paris")
        msg = await llm.ainvoke("Hi")  # streaming=True must not break invoke
        assert msg.content.startswith("Paris")
        assert msg.usage_metadata["total_tokens"] == 40

    async def test_abatch_overlaps(self, core_server):
        n = 40
        reply(core_server, 200, text_body(), delay=0.3, times=n)
        llm = make_llm(core_server)
        t0 = time.monotonic()
        out = await llm.abatch([f"q{i}" for i in range(n)])
        assert time.monotonic() - t0 < 1.5
        assert len(out) == n and core_server.max_in_flight == n

    def test_batch_with_one_failure_return_exceptions(self, core_server):
        # One at a time, so the queued answers meet the prompts in order.
        reply(core_server, 200, text_body("A"))
        reply(core_server, 401, {"error": "Invalid API key"})
        reply(core_server, 200, text_body("C"))
        out = make_llm(core_server).batch(
            ["one", "two", "three"], config={"max_concurrency": 1}, return_exceptions=True
        )
        assert out[0].content == "A" and out[2].content == "C"
        assert isinstance(out[1], ModelAuthenticationError)
        assert_no_key(out[1])

    async def test_abatch_with_one_failure_return_exceptions(self, core_server):
        reply(core_server, 200, text_body("A"))
        reply(core_server, 404, {"error": "Model not found"})
        out = await make_llm(core_server).abatch(
            ["one", "two"], config={"max_concurrency": 1}, return_exceptions=True
        )
        assert out[0].content == "A" and isinstance(out[1], ModelNotFoundError)

    def test_ainvoke_after_invoke_and_asyncio_run_twice(self, core_server):
        reply(core_server, 200, text_body(), times=4)
        llm = make_llm(core_server)
        assert llm.invoke("a").content
        assert asyncio.run(llm.ainvoke("b")).content
        assert asyncio.run(llm.ainvoke("c")).content
        assert llm.invoke("d").content
        assert len(core_server.requests) == 4

    async def test_sync_invoke_inside_running_loop(self, core_server):
        reply(core_server, 200, text_body())
        assert make_llm(core_server).invoke("inside a loop").content

    @pytest.mark.verbatim
    def test_queue_mode(self, core_server):
        _queue_script(core_server, ["PROCESSING", "COMPLETED"], json.dumps(THOUGHT_BODY))
        llm = make_llm(core_server, api_mode="queue")
        llm.client.poll_interval = 0.01
        msg = llm.invoke("Hi")
        assert msg.content == "There are 3 r's in strawberry."
        assert core_server.requests[0].path == f"/v2/{SLUG}"
        assert msg.response_metadata["request_id"] == "q-req-123"


class TestLCPromptedTools:
    def test_request_carries_tools_and_protocol(self, core_server):
        reply(core_server, 200, text_body("No tool needed."))
        llm = make_llm(core_server).bind_tools([get_weather, get_time])
        msg = llm.invoke([("system", "Be brief."), ("human", "Hi")])
        system = sent_system(core_server)
        assert system.startswith("Be brief.")
        assert "get_weather" in system and "get_time" in system
        assert '"tool_calls"' in system and '"arguments"' in system
        assert "tools" not in core_server.requests[0].messages  # not forwarded by Segmind
        assert msg.content == "No tool needed." and msg.tool_calls == []

    def test_fenced_parallel_calls_with_prose(self, core_server):
        answer = (
            "Let me check both.\n```json\n"
            '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}},'
            ' {"name": "get_time", "arguments": {"zone": "Europe/Oslo"}}]}\n```'
        )
        reply(core_server, 200, tool_reply(answer))
        msg = make_llm(core_server).bind_tools([get_weather, get_time]).invoke("Oslo?")
        assert msg.content == "Let me check both."
        assert [(c["name"], c["args"]) for c in msg.tool_calls] == [
            ("get_weather", {"city": "Oslo"}),
            ("get_time", {"zone": "Europe/Oslo"}),
        ]
        assert all(c["id"] for c in msg.tool_calls)
        assert len({c["id"] for c in msg.tool_calls}) == 2

    def test_invalid_calls_are_reported_not_raised(self, core_server):
        answer = (
            '{"tool_calls": [{"name": "launch_rockets", "arguments": {}},'
            ' {"name": "get_weather", "arguments": "Oslo"},'
            ' {"name": "get_weather", "arguments": {"city": "Rome"}}]}'
        )
        reply(core_server, 200, tool_reply(answer))
        msg = make_llm(core_server).bind_tools([get_weather]).invoke("?")
        assert [c["args"] for c in msg.tool_calls] == [{"city": "Rome"}]
        bad = msg.invalid_tool_calls
        assert [b["name"] for b in bad] == ["launch_rockets", "get_weather"]
        assert "unknown tool" in bad[0]["error"]
        assert bad[1]["error"]

    def test_stream_carries_tool_call_chunks(self, core_server):
        reply(
            core_server,
            200,
            tool_reply('{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}'),
        )
        chunks = list(make_llm(core_server).bind_tools([get_weather]).stream("?"))
        assert len(chunks) == 1
        assert chunks[0].tool_call_chunks[0]["name"] == "get_weather"
        assert chunks[0].tool_calls[0]["args"] == {"city": "Oslo"}

    def test_history_round_trip(self, core_server):
        reply(core_server, 200, tool_reply("It is 12C with light rain in Oslo."))
        history = [
            HumanMessage("Weather in Oslo and the time?"),
            AIMessage(
                content="Checking.",
                tool_calls=[
                    {"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_w1"},
                    {"name": "get_time", "args": {"zone": "CET"}, "id": "call_t1"},
                ],
            ),
            ToolMessage("12C, light rain", tool_call_id="call_w1"),
            ToolMessage(
                content=[{"type": "text", "text": "12:00"}, {"type": "text", "text": "CET"}],
                tool_call_id="call_t1",
            ),
        ]
        before = copy.deepcopy(history)
        msg = make_llm(core_server).bind_tools([get_weather, get_time]).invoke(history)
        assert history == before
        assert msg.content.startswith("It is 12C")
        contents = sent_contents(core_server)
        assert [c["role"] for c in contents] == ["user", "model", "user"]
        model_text = contents[1]["parts"][0]["text"]
        assert model_text.startswith("Checking.")
        payload = json.loads(model_text[model_text.index("{") :])
        assert payload == {
            "tool_calls": [
                {"id": "call_w1", "name": "get_weather", "arguments": {"city": "Oslo"}},
                {"id": "call_t1", "name": "get_time", "arguments": {"zone": "CET"}},
            ]
        }
        results = contents[2]["parts"][0]["text"]
        assert 'name="get_weather" call_id="call_w1"' in results
        assert 'name="get_time" call_id="call_t1"' in results
        assert "12C, light rain" in results and "12:00\nCET" in results
        assert "'type'" not in results and '"type"' not in results

    def test_tool_error_status_and_following_human(self, core_server):
        reply(core_server, 200, tool_reply("Sorry."))
        history = [
            HumanMessage("Weather?"),
            AIMessage("", tool_calls=[{"name": "get_weather", "args": {}, "id": "c9"}]),
            ToolMessage("city is required", tool_call_id="c9", status="error"),
            HumanMessage("Never mind."),
        ]
        make_llm(core_server).bind_tools([get_weather]).invoke(history)
        contents = sent_contents(core_server)
        assert [c["role"] for c in contents] == ["user", "model", "user"]
        assert 'error="true"' in contents[2]["parts"][0]["text"]
        assert contents[2]["parts"][-1] == {"text": "Never mind."}

    @pytest.mark.parametrize(
        ("choice", "words"),
        [
            ("any", "MUST call at least one"),
            ("get_time", 'MUST call the tool "get_time"'),
            ("none", "switched off"),
            (True, "MUST call at least one"),
        ],
    )
    def test_tool_choice(self, core_server, choice, words):
        reply(core_server, 200, tool_reply("ok"))
        make_llm(core_server).bind_tools([get_weather, get_time], tool_choice=choice).invoke("?")
        assert words in sent_system(core_server)

    def test_unknown_tool_choice_refused(self, core_server):
        with pytest.raises(ModelInvalidRequestError, match="unknown tool"):
            make_llm(core_server).bind_tools([get_weather], tool_choice="nope")

    def test_agent_loop(self, core_server):
        from langchain.agents import create_agent

        reply(
            core_server,
            200,
            tool_reply('{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}'),
        )
        reply(core_server, 200, tool_reply("Take an umbrella: 12C, light rain."))
        agent = create_agent(make_llm(core_server), tools=[get_weather], system_prompt="Be brief.")
        state = agent.invoke({"messages": [("human", "Umbrella in Oslo?")]})
        assert state["messages"][-1].content == "Take an umbrella: 12C, light rain."
        results = sent_contents(core_server, 1)[-1]["parts"][0]["text"]
        assert "12C, light rain" in results and 'name="get_weather"' in results


class TestLCNativeTools:
    def test_native_request_and_reply(self, core_server):
        reply(core_server, 200, FUNCTION_CALL_BODY)
        reply(core_server, 200, text_body("Oslo 12C, Bergen 9C."))
        llm = make_llm(core_server, tool_calling="native").bind_tools(
            [get_weather], tool_choice="get_weather"
        )
        msg = llm.invoke("Weather in Oslo and Bergen?")
        sent = core_server.requests[0].messages
        decl = sent["tools"][0]["functionDeclarations"][0]
        assert decl["name"] == "get_weather"
        assert decl["parameters"]["type"] == "OBJECT"
        assert sent["toolConfig"] == {
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
        }
        assert "system_instruction" not in sent
        assert [c["args"] for c in msg.tool_calls] == [{"city": "Oslo"}, {"city": "Bergen"}]
        ids = [c["id"] for c in msg.tool_calls]
        sigs = msg.additional_kwargs["thought_signatures"]
        assert sigs == {ids[0]: "CqYCAdHtim9sig"}
        history = [
            HumanMessage("Weather in Oslo and Bergen?"),
            msg,
            ToolMessage("12C", tool_call_id=ids[0]),
            ToolMessage("9C", tool_call_id=ids[1]),
        ]
        llm.invoke(history)
        contents = sent_contents(core_server)
        model_parts = contents[1]["parts"]
        assert model_parts[0]["functionCall"]["name"] == "get_weather"
        assert model_parts[0]["thoughtSignature"] == "CqYCAdHtim9sig"
        assert "thoughtSignature" not in model_parts[1]
        responses = [p["functionResponse"] for p in contents[2]["parts"]]
        assert [r["name"] for r in responses] == ["get_weather", "get_weather"]
        # Gemini sent no ids, so the ones made up locally are not echoed (Gemini refuses them)
        assert [r.get("id") for r in responses] == [None, None]
        assert all("id" not in p["functionCall"] for p in model_parts)

    def test_native_unknown_function_is_invalid(self, core_server):
        body = copy.deepcopy(FUNCTION_CALL_BODY)
        body["candidates"][0]["content"]["parts"][1]["functionCall"]["name"] = "rm_rf"
        reply(core_server, 200, body)
        msg = make_llm(core_server, tool_calling="native").bind_tools([get_weather]).invoke("?")
        assert len(msg.tool_calls) == 1
        assert msg.invalid_tool_calls[0]["name"] == "rm_rf"


class City(BaseModel):
    """A city and its country."""

    name: str = Field(description="city name")
    country: str


class CityDict(TypedDict):
    name: str
    country: str


class TestLCStructured:
    def test_json_schema_fenced_reply(self, core_server):
        reply(
            core_server,
            200,
            text_body('Sure:\n```json\n{"name": "Oslo", "country": "Norway"}\n```'),
        )
        out = make_llm(core_server).with_structured_output(City).invoke("Capital of Norway?")
        assert out == City(name="Oslo", country="Norway")
        system = sent_system(core_server)
        assert "JSON Schema" in system and '"country"' in system

    def test_repair_round_trip(self, core_server):
        reply(core_server, 200, text_body('{"name": "Oslo"}'))
        reply(core_server, 200, text_body('{"name": "Oslo", "country": "Norway"}'))
        out = make_llm(core_server).with_structured_output(City).invoke("Capital of Norway?")
        assert out.country == "Norway"
        assert len(core_server.requests) == 2
        second = sent_contents(core_server, 1)
        assert [c["role"] for c in second] == ["user", "model", "user"]
        assert second[1]["parts"][0]["text"] == '{"name": "Oslo"}'
        assert "country" in second[2]["parts"][0]["text"]

    def test_invalid_twice_raises_output_parser_exception(self, core_server):
        reply(core_server, 200, text_body("I cannot answer that in JSON."), times=2)
        with pytest.raises(OutputParserException) as info:
            make_llm(core_server).with_structured_output(City).invoke("?")
        assert info.value.llm_output == "I cannot answer that in JSON."
        assert len(core_server.requests) == 2

    def test_include_raw_on_invalid_output(self, core_server):
        reply(core_server, 200, text_body("nope"), times=2)
        out = make_llm(core_server).with_structured_output(City, include_raw=True).invoke("?")
        assert out["parsed"] is None
        assert isinstance(out["parsing_error"], OutputParserException)
        assert isinstance(out["raw"], AIMessage) and out["raw"].content == "nope"

    async def test_typeddict_and_json_mode_async(self, core_server):
        reply(core_server, 200, text_body('{"name": "Rome", "country": "Italy"}'))
        reply(core_server, 200, text_body('{"anything": [1, 2]}'))
        llm = make_llm(core_server)
        assert await llm.with_structured_output(CityDict).ainvoke("?") == {
            "name": "Rome",
            "country": "Italy",
        }
        assert await llm.with_structured_output(method="json_mode").ainvoke("?") == {
            "anything": [1, 2]
        }

    def test_function_calling_method(self, core_server):
        reply(
            core_server,
            200,
            tool_reply(
                '{"tool_calls": [{"name": "City", "arguments": {"name": "Oslo", "country": "Norway"}}]}'
            ),
        )
        out = (
            make_llm(core_server)
            .with_structured_output(City, method="function_calling")
            .invoke("Capital of Norway?")
        )
        assert out == City(name="Oslo", country="Norway")
        assert 'MUST call the tool "City"' in sent_system(core_server)

    def test_function_calling_include_raw_without_call(self, core_server):
        reply(core_server, 200, tool_reply("Oslo, Norway."))
        out = (
            make_llm(core_server)
            .with_structured_output(City, method="function_calling", include_raw=True)
            .invoke("?")
        )
        assert out["parsed"] is None and out["parsing_error"] is not None
        assert out["raw"].content == "Oslo, Norway."

    def test_refusal_is_not_repaired(self, core_server):
        reply(core_server, 200, SAFETY_BODY)
        with pytest.raises(ModelRefusalError):
            make_llm(core_server).with_structured_output(City).invoke("?")
        assert len(core_server.requests) == 1


class TestLCErrors:
    @pytest.mark.parametrize(
        ("status", "body", "lc_type", "core_type"),
        [
            (
                400,
                google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
                ModelInvalidRequestError,
                sg.BadRequestError,
            ),
            (401, {"error": "Invalid API key"}, ModelAuthenticationError, sg.AuthenticationError),
            (403, {"error": "Forbidden"}, ModelPermissionDeniedError, sg.PermissionDeniedError),
            (404, {"error": "Model not found"}, ModelNotFoundError, sg.NotFoundError),
            (
                406,
                {"error": "Insufficient credits"},
                ModelPermissionDeniedError,
                sg.InsufficientCreditsError,
            ),
            (410, {"error": "Model retired"}, ModelNotFoundError, sg.ModelRetiredError),
            (
                422,
                {"error": "validation failed"},
                ModelInvalidRequestError,
                sg.UnprocessableEntityError,
            ),
            (429, {"error": "Rate limit exceeded"}, ModelRateLimitError, sg.RateLimitError),
            (500, {"error": "Internal Server Error"}, ModelAPIError, sg.InternalServerError),
            (502, HTML_502, ModelAPIError, sg.InternalServerError),
        ],
    )
    def test_error_types(self, core_server, status, body, lc_type, core_type):
        reply(core_server, status, body, {"x-request-id": "lc-err"})
        # A 429 waits its turn; with no waiting allowed it surfaces at once.
        with pytest.raises(lc_type) as info:
            make_llm(core_server, max_rate_limit_wait=0).invoke("Hi")
        exc = info.value
        assert isinstance(exc, core_type)
        assert exc.status_code == status and exc.request_id == "lc-err"
        assert_no_key(exc)

    async def test_async_error_types_and_retry_after(self, core_server):
        reset = datetime.now(timezone.utc) + timedelta(seconds=0.3)
        reply(
            core_server,
            429,
            {"error": "Rate limit exceeded"},
            {"x-rate-limit-reset-at-utc": reset.isoformat()},
        )
        with pytest.raises(ModelRateLimitError) as info:
            await make_llm(core_server, max_rate_limit_wait=0).ainvoke("Hi")
        assert info.value.retry_after is not None and 0 <= info.value.retry_after <= 0.5

    def test_429_retried_by_the_model(self, core_server):
        reset = datetime.now(timezone.utc) + timedelta(seconds=0.3)
        reply(
            core_server,
            429,
            {"error": "Rate limit exceeded"},
            {"x-rate-limit-reset-at-utc": reset.isoformat()},
        )
        reply(core_server, 200, text_body())
        msg = make_llm(core_server, max_retries=1).invoke("Hi")
        assert msg.content.startswith("Paris")
        first, second = core_server.requests
        assert second.received_at - first.received_at >= 0.2

    def test_connection_and_timeout(self, core_server):
        reply(core_server, 200, text_body(), fault="reset")
        with pytest.raises(ModelConnectionError) as info:
            make_llm(core_server).invoke("Hi")
        assert isinstance(info.value, sg.APIConnectionError)
        reply(core_server, 200, text_body(), delay=1.0)
        with pytest.raises(ModelTimeoutError) as info2:
            make_llm(core_server, timeout=0.25).invoke("Hi")
        assert isinstance(info2.value, sg.APITimeoutError)

    def test_stream_errors_are_typed(self, core_server):
        reply(core_server, 401, {"error": "Invalid API key"})
        with pytest.raises(ModelAuthenticationError):
            list(make_llm(core_server).stream("Hi"))

    def test_missing_key(self, monkeypatch, core_server):
        monkeypatch.delenv("SEGMIND_API_KEY", raising=False)
        llm = ChatSegmindGemini(base_url=core_server.base_url)
        with pytest.raises(ModelAuthenticationError, match="SEGMIND_API_KEY") as info:
            llm.invoke("Hi")
        assert info.value.status_code is None and "HTTP 401" not in str(info.value)
        assert core_server.requests == []


class TestLCKeyHygiene:
    def test_key_absent_from_repr_dumps_and_errors(self, core_server, caplog):
        caplog.set_level(logging.DEBUG)
        llm = make_llm(core_server, max_retries=1)
        reply(core_server, 500, {"error": "boom"})
        reply(core_server, 401, {"error": "Invalid API key"})
        with pytest.raises(ModelAuthenticationError) as info:
            llm.invoke("Hi")
        assert_no_key(
            llm,
            llm.model_dump(),
            llm.model_dump_json(),
            dumpd(llm),
            dumps(llm),
            json.dumps(dumpd(llm)),
            llm._identifying_params,
            llm._get_ls_params(),
            vars(llm.client),
            info.value,
            repr(info.value.__dict__),
        )
        assert KEY not in caplog.text
        assert dumpd(llm)["kwargs"]["api_key"] == {
            "lc": 1,
            "type": "secret",
            "id": ["SEGMIND_API_KEY"],
        }
        assert llm.api_key is not None and llm.api_key.get_secret_value() == KEY

    def test_copies_and_pickle_still_work(self, core_server, monkeypatch):
        reply(core_server, 200, text_body(), times=3)
        llm = make_llm(core_server)
        llm.invoke("a")
        clone = copy.deepcopy(llm)
        assert clone.invoke("b").content
        # Issue 9: the key stays out of pickles and comes back from the environment.
        pickled = pickle.dumps(llm)
        assert KEY.encode() not in pickled
        monkeypatch.setenv("SEGMIND_API_KEY", KEY)
        revived = pickle.loads(pickled)
        assert revived.invoke("c").content
        other = llm.model_copy(update={"model": "gemini-3-pro"})
        assert other.model == "gemini-3-pro"

    def test_profile_and_ls_params(self, core_server):
        llm = make_llm(core_server, temperature=0.3, max_tokens=99)
        params = llm._get_ls_params()
        assert params["ls_provider"] == "segmind"
        assert params["ls_model_name"] == SLUG
        assert params["ls_temperature"] == 0.3 and params["ls_max_tokens"] == 99
        assert llm.profile["max_input_tokens"] == 1_048_576
        assert llm._llm_type == "segmind-gemini"


# =========================================================================== regressions
# Bugs found by this review; each test failed before its fix.


class TestRegressions:
    @pytest.mark.verbatim
    def test_queue_retry_waits_stay_within_the_timeout(self, core_server):
        # Was: a poll answered 429 + Retry-After: 3 slept 3 s although timeout=0.5.
        # Since the rate governor (issue 8), waiting for a turn is bounded by
        # max_rate_limit_wait, not by the timeout: a reset beyond it fails at once.
        rid = "q-budget"
        reply(
            core_server,
            200,
            {
                "request_id": rid,
                "status_url": f"{core_server.url}/v2/requests/{rid}/status",
                "response_url": f"{core_server.url}/v2/requests/{rid}",
            },
        )
        reply(core_server, 429, {"error": "Rate limit exceeded"}, {"retry-after": "3"})
        t0 = time.monotonic()
        with (
            make_client(
                core_server,
                api_mode="queue",
                timeout=0.5,
                poll_interval=0.01,
                max_rate_limit_wait=1,
            ) as c,
            pytest.raises((sg.RateLimitError, sg.APITimeoutError)) as info,
        ):
            c.generate_content(USER_HI)
        assert time.monotonic() - t0 < 0.8
        if isinstance(info.value, sg.RateLimitError):
            assert info.value.retry_after == pytest.approx(3)

    @pytest.mark.verbatim
    def test_queue_poll_retries_that_fit_still_happen(self, core_server):
        rid = "q-fit"
        reply(
            core_server,
            200,
            {
                "request_id": rid,
                "status_url": f"{core_server.url}/v2/requests/{rid}/status",
                "response_url": f"{core_server.url}/v2/requests/{rid}",
            },
        )
        reply(core_server, 503, {"error": "busy"})
        reply(core_server, 200, {"status": "COMPLETED"})
        reply(core_server, 200, {"status": "COMPLETED", "output": json.dumps(text_body())})
        client = make_client(
            core_server, api_mode="queue", timeout=5, poll_interval=0.01, retry_policy=FAST
        )
        with client:
            assert client.generate_content(USER_HI).text.startswith("Paris")
        assert len(core_server.requests) == 4

    def test_reset_header_as_unix_time(self, core_server):
        # Was: an epoch value was read as a wait of ~1.8e12 s and the 429 raised at once.
        reset_ms = int((time.time() + 0.5) * 1000)
        reply(
            core_server,
            429,
            {"error": "Rate limit exceeded"},
            {"x-rate-limit-reset-at-utc": str(reset_ms)},
        )
        reply(core_server, 200, text_body())
        with make_client(core_server, retry_policy=FAST) as client:
            client.generate_content(USER_HI)
        first, second = core_server.requests
        assert 0.3 <= second.received_at - first.received_at < 2

    def test_key_echoed_by_the_server_is_not_in_the_exception(self, core_server):
        reply(core_server, 401, {"error": f"Invalid API key {KEY} for this account"})
        with make_client(core_server) as client, pytest.raises(sg.AuthenticationError) as info:
            client.generate_content(USER_HI)
        assert_no_key(info.value, info.value.message, repr(info.value.body))
        assert "Invalid API key" in str(info.value)

    @pytest.mark.verbatim
    def test_queue_origin_compared_case_blind(self, core_server):
        # Was: http://LocalHost:P/... was refused as "another host" than http://localhost:P.
        base = f"http://localhost:{core_server.port}"
        reply(
            core_server,
            200,
            {
                "request_id": "q-case",
                "status_url": f"http://LocalHost:{core_server.port}/v2/requests/q-case/status",
                "response_url": f"HTTP://LOCALHOST:{core_server.port}/v2/requests/q-case",
            },
        )
        reply(core_server, 200, {"status": "COMPLETED"})
        reply(core_server, 200, {"status": "COMPLETED", "output": json.dumps(text_body())})
        with SegmindGeminiClient(
            KEY, model=SLUG, base_url=base + "/v1", api_mode="queue", poll_interval=0.01
        ) as client:
            assert client.generate_content(USER_HI).text.startswith("Paris")

    def test_prompted_calls_with_repeated_ids_get_distinct_ids(self, core_server):
        answer = (
            '{"tool_calls": [{"id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}},'
            ' {"id": "call_1", "name": "get_weather", "arguments": {"city": "Rome"}}]}'
        )
        reply(core_server, 200, tool_reply(answer))
        msg = make_llm(core_server).bind_tools([get_weather]).invoke("?")
        ids = [c["id"] for c in msg.tool_calls]
        assert ids[0] == "call_1" and len(set(ids)) == 2

    def test_context_overflow_is_langchain_context_overflow_error(self, core_server):
        from langchain_core.exceptions import ContextOverflowError

        body = google_error(
            400,
            "INVALID_ARGUMENT",
            "The input token count (1523421) exceeds the maximum number of tokens allowed "
            "(1048576).",
        )
        reply(core_server, 400, body)
        with pytest.raises(ContextOverflowError) as info:
            make_llm(core_server).invoke("a very long prompt")
        assert isinstance(info.value, ModelInvalidRequestError)
        assert isinstance(info.value, sg.BadRequestError)
        assert info.value.status_code == 400

    def test_other_4xx_is_an_invalid_request_not_a_retryable_api_error(self, core_server):
        # Was: a 405 (Segmind's HTML page for a wrong URL) or a 413 became ModelAPIError,
        # which LangChain's retry middleware retries (is_retryable=True).
        page = "<html><head><title>405 Not Allowed</title></head><body>Method Not Allowed</body></html>"
        reply(core_server, 405, page, {"content-type": "text/html"})
        reply(core_server, 413, {"error": "Request Entity Too Large"})
        llm = make_llm(core_server, max_retries=2)
        for status, words in ((405, "Method Not Allowed"), (413, "Too Large")):
            with pytest.raises(ModelInvalidRequestError) as info:
                llm.invoke("Hi")
            exc = info.value
            assert isinstance(exc, sg.APIStatusError) and exc.status_code == status
            assert exc.is_retryable is False and words in str(exc)
        assert len(core_server.requests) == 2  # neither was retried


class TestCoreLimits:
    def test_request_over_20_mb_refused_before_sending(self, core_server):
        blob = "A" * (21 * 1024 * 1024)
        request = {
            "contents": [
                {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": blob}}]}
            ]
        }
        with make_client(core_server) as client, pytest.raises(sg.InvalidRequestError, match="20"):
            client.generate_content(request)
        assert core_server.requests == []

    @pytest.mark.parametrize("mode", ["sync", "async"])
    def test_large_inline_body_is_sent_whole_on_every_retry(self, core_server, mode):
        data = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2000).decode()
        request = {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": "Describe ☀ in 日本語"},
                        {"inlineData": {"mimeType": "image/png", "data": data}},
                    ],
                }
            ]
        }
        reply(core_server, 503, {"error": "busy"})
        reply(core_server, 200, text_body())
        client = make_client(core_server, retry_policy=FAST)
        if mode == "sync":
            client.generate_content(request)
        else:
            asyncio.run(client.agenerate_content(request))
        client.close()
        assert len(core_server.requests) == 2
        assert all(r.json == {"messages": request} for r in core_server.requests)


class TestCoreTotalTimeout:
    # Was (sync only): httpx bounds each read, so a body trickling in over 2 s passed a
    # timeout of 0.5 s; the async path already cut it off.
    def test_sync_trickling_body_is_cut_off(self, core_server):
        reply(core_server, 200, text_body(), fault="drip")
        t0 = time.monotonic()
        client = make_client(core_server, timeout=0.5, max_retries=0)
        with pytest.raises(sg.APITimeoutError):
            client.generate_content(USER_HI)
        client.close()
        assert time.monotonic() - t0 < 1.2

    async def test_async_trickling_body_is_cut_off(self, core_server):
        reply(core_server, 200, text_body(), fault="drip")
        t0 = time.monotonic()
        async with make_client(core_server, timeout=0.5, max_retries=0) as client:
            with pytest.raises(sg.APITimeoutError):
                await client.agenerate_content(USER_HI)
        assert time.monotonic() - t0 < 1.2

    def test_langchain_timeout_type(self, core_server):
        reply(core_server, 200, text_body(), fault="drip")
        with pytest.raises(ModelTimeoutError):
            make_llm(core_server, timeout=0.5).invoke("Hi")


class TestLCErrorPickling:
    @pytest.mark.verbatim
    def test_errors_survive_pickling(self, core_server):
        # Was: the class made for QueueJobFailedError could not be pickled by name.
        rid = "q-lc-fail"
        reply(
            core_server,
            200,
            {
                "request_id": rid,
                "status_url": f"{core_server.url}/v2/requests/{rid}/status",
                "response_url": f"{core_server.url}/v2/requests/{rid}",
            },
        )
        reply(core_server, 422, {"status": "FAILED", "error": "prompt rejected"})
        reply(core_server, 429, {"error": "Rate limit exceeded"}, {"retry-after": "120"})
        llm = make_llm(core_server, max_rate_limit_wait=5)
        llm.client.poll_interval = 0.01
        with pytest.raises(ModelAPIError) as failed:
            llm.invoke("Hi", api_mode="queue")
        assert isinstance(failed.value, sg.QueueJobFailedError)
        with pytest.raises(ModelRateLimitError) as limited:
            llm.invoke("Hi")
        for exc in (failed.value, limited.value):
            back = pickle.loads(pickle.dumps(exc))
            assert type(back) is type(exc)
            assert back.status_code == exc.status_code and str(back) == str(exc)
        assert pickle.loads(pickle.dumps(limited.value)).retry_after == pytest.approx(120)


@pytest.mark.verbatim
def test_queue_failed_status_in_a_200_is_still_a_422_error(core_server):
    # Was: a FAILED status polled with HTTP 200 gave a QueueJobFailedError with status_code 200.
    rid = "q-200-failed"
    reply(
        core_server,
        200,
        {
            "request_id": rid,
            "status_url": f"{core_server.url}/v2/requests/{rid}/status",
            "response_url": f"{core_server.url}/v2/requests/{rid}",
        },
    )
    reply(core_server, 200, {"status": "FAILED", "error": {"message": "GPU worker crashed"}})
    client = make_client(core_server, api_mode="queue", poll_interval=0.01)
    with pytest.raises(sg.QueueJobFailedError) as info:
        client.generate_content(USER_HI)
    client.close()
    assert info.value.status_code == 422
    assert "GPU worker crashed" in str(info.value)
    assert info.value.request_id == rid


def test_tracing_sees_structured_format_and_never_the_key(core_server):
    from langchain_core.callbacks import BaseCallbackHandler

    class Spy(BaseCallbackHandler):
        def __init__(self) -> None:
            self.starts: list[tuple[Any, dict[str, Any]]] = []

        def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
            self.starts.append((serialized, kw))

    spy = Spy()
    reply(core_server, 200, text_body('{"name": "Oslo", "country": "Norway"}'))
    reply(
        core_server,
        200,
        tool_reply(
            '{"tool_calls": [{"name": "City", "arguments": {"name": "Oslo", "country": "Norway"}}]}'
        ),
    )
    llm = make_llm(core_server)
    llm.with_structured_output(City).invoke("?", config={"callbacks": [spy]})
    llm.with_structured_output(City, method="function_calling").invoke(
        "?", config={"callbacks": [spy]}
    )
    methods = [
        kw["options"]["ls_structured_output_format"]["kwargs"]["method"] for _, kw in spy.starts
    ]
    assert methods == ["json_schema", "function_calling"]
    assert all(kw["metadata"]["ls_provider"] == "segmind" for _, kw in spy.starts)
    assert KEY not in json.dumps(spy.starts, default=str)

"""Request building, validation, body encoding, settings and retry hints (no HTTP)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest

from segmind_gemini import InvalidRequestError, SegmindGeminiClient
from segmind_gemini.client.retries import RetryPolicy, server_retry_hint
from segmind_gemini.errors import AuthenticationError
from segmind_gemini.planning.options import settings_fields
from segmind_gemini.registry import CURRENT_MODELS, get_model_info
from segmind_gemini.settings import resolve_api_key, resolve_base_url
from segmind_gemini.wire.encoding import encode_json_body
from segmind_gemini.wire.request import (
    build_request,
    merge_consecutive_turns,
    validate_request,
)


def test_generation_config_holds_only_given_settings() -> None:
    assert settings_fields({}) == {}
    assert settings_fields(
        dict(
            temperature=0.0,
            max_output_tokens=64,
            top_p=0.9,
            top_k=40,
            stop_sequences=["END"],
            thinking_budget=0,
            include_thoughts=True,
        )
    )["generationConfig"] == {
        "temperature": 0.0,
        "maxOutputTokens": 64,
        "topP": 0.9,
        "topK": 40,
        "stopSequences": ["END"],
        "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": True},
    }


def test_build_request_default_is_exactly_the_documented_shape() -> None:
    req = build_request([{"role": "user", "parts": [{"text": "hi"}]}])
    assert req == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    req = build_request([{"role": "user", "parts": [{"text": "hi"}]}], system="Be brief.")
    assert req["system_instruction"] == {"parts": {"text": "Be brief."}}


def test_merge_joins_same_role_and_drops_empty_without_mutating() -> None:
    contents = [
        {"role": "user", "parts": [{"text": "a"}]},
        {"role": "user", "parts": [{"text": "b"}]},
        {"role": "model", "parts": []},
        {"role": "model", "parts": [{"text": "c"}]},
        {"role": "user", "parts": [{"text": "d"}]},
    ]
    before = copy.deepcopy(contents)
    merged = merge_consecutive_turns(contents)
    assert merged == [
        {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
        {"role": "model", "parts": [{"text": "c"}]},
        {"role": "user", "parts": [{"text": "d"}]},
    ]
    assert contents == before


@pytest.mark.parametrize(
    ("request_body", "fragment"),
    [
        ({}, "contents"),
        ({"contents": []}, "contents"),
        ({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}, "contents[0].role"),
        ({"contents": [{"role": "user", "parts": []}]}, "contents[0].parts is empty"),
        ({"contents": [{"role": "user", "parts": [{"bogus": 1}]}]}, "contents[0].parts[0]"),
    ],
)
def test_validate_request_names_the_problem(request_body: dict, fragment: str) -> None:
    with pytest.raises(InvalidRequestError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        validate_request(request_body)


def test_encode_small_body_is_compact_json() -> None:
    body = encode_json_body({"contents": [{"role": "user", "parts": [{"text": "é"}]}]})
    assert len(body.chunks) == 1
    assert json.loads(body.joined()) == {
        "messages": {"contents": [{"role": "user", "parts": [{"text": "é"}]}]}
    }
    assert body.length == len(body.joined())


def test_encode_large_blob_is_spliced_and_equivalent() -> None:
    data = "QUJD" * 200_000  # 800 KB of base64
    req = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "what?"},
                    {"inlineData": {"mimeType": "image/png", "data": data}},
                ],
            }
        ]
    }
    before = copy.deepcopy(req)
    body = encode_json_body(req)
    assert len(body.chunks) == 3
    assert json.loads(body.joined()) == {"messages": req}
    assert body.length == len(body.joined())
    assert req == before


def test_encode_refuses_requests_over_20_mib() -> None:
    data = "A" * (21 * 1024 * 1024)
    req = {
        "contents": [
            {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": data}}]}
        ]
    }
    with pytest.raises(InvalidRequestError, match="at most 20 MiB"):
        encode_json_body(req)


def test_missing_key_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGMIND_API_KEY", raising=False)
    with pytest.raises(AuthenticationError, match="SEGMIND_API_KEY"):
        resolve_api_key(None)
    with pytest.raises(AuthenticationError, match="SEGMIND_API_KEY"):
        SegmindGeminiClient()
    monkeypatch.setenv("SEGMIND_API_KEY", "from-env")
    assert resolve_api_key(None) == "from-env"


def test_base_url_from_env_and_plain_http_only_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGMIND_BASE_URL", raising=False)
    assert resolve_base_url(None) == "https://api.segmind.com/v1"
    monkeypatch.setenv("SEGMIND_BASE_URL", "http://127.0.0.1:9999/v1/")
    assert resolve_base_url(None) == "http://127.0.0.1:9999/v1"
    assert resolve_base_url("http://localhost:1/v1") == "http://localhost:1/v1"
    assert resolve_base_url("http://[::1]:1/v1") == "http://[::1]:1/v1"
    with pytest.raises(InvalidRequestError, match="unencrypted"):
        resolve_base_url("http://api.segmind.com/v1")
    with pytest.raises(InvalidRequestError, match="http"):
        resolve_base_url("ftp://api.segmind.com/v1")


def test_client_repr_never_shows_the_key() -> None:
    client = SegmindGeminiClient("sk-very-secret-123", model="gemini-2.5-flash")
    try:
        assert "sk-very-secret-123" not in repr(client)
        assert "sk-very-secret-123" not in str(vars(client).get("_key"))
        assert "sk-very-secret-123" not in repr(vars(client).get("_key"))
    finally:
        client.close()


@pytest.mark.parametrize("slug", ["", "gemini/2.5", "two words"])
def test_bad_slug_is_refused(slug: str) -> None:
    with pytest.raises(InvalidRequestError, match="slug"):
        SegmindGeminiClient("k", model=slug)


def test_registry_knows_current_slugs_and_defaults_unknown() -> None:
    assert "gemini-2.5-flash" in CURRENT_MODELS and "gemini-1.5-pro" not in CURRENT_MODELS
    assert get_model_info("gemini-1.5-pro").legacy
    info = get_model_info("gemini-9-ultra")
    assert not info.known and info.context_window > 0 and info.max_output_tokens > 0


def test_retry_hints_from_every_source() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert server_retry_hint({"retry-after": "3"}, None, now) == 3.0
    reset = (now + timedelta(seconds=12)).isoformat().replace("+00:00", "Z")
    assert server_retry_hint({"x-rate-limit-reset-at-utc": reset}, None, now) == pytest.approx(12)
    google = {
        "error": {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"}
            ],
        }
    }
    assert server_retry_hint({}, google, now) == pytest.approx(34.4)
    assert server_retry_hint({}, {"error": "x"}, now) is None
    http_date = "Wed, 01 Jan 2026 00:00:05 GMT"
    assert server_retry_hint({"retry-after": http_date}, None, now) == pytest.approx(5)


def test_backoff_grows_with_jitter_and_respects_caps() -> None:
    policy = RetryPolicy(max_retries=5, initial_backoff=1.0, max_backoff=4.0, max_server_wait=10)
    for attempt, cap in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 4.0)]:
        wait = policy.backoff(attempt)
        assert cap / 2 <= wait <= cap
    assert policy.wait_for(0, 3.0) is not None and policy.wait_for(0, 3.0) >= 3.0  # type: ignore[operator]
    assert policy.wait_for(0, 11.0) is None


def test_append_system_text_keeps_the_documented_form_and_non_text_parts() -> None:
    from segmind_gemini.wire.request import append_system_text, system_instruction

    assert append_system_text(None, "Rules.") == {"parts": {"text": "Rules."}}
    base = system_instruction("Be brief.")
    assert append_system_text(base, "Rules.") == {"parts": {"text": "Be brief.\n\nRules."}}
    assert base == {"parts": {"text": "Be brief."}}  # input untouched
    listed = {"parts": [{"text": "A."}, {"text": "B."}]}
    assert append_system_text(listed, "C.") == {"parts": {"text": "A.\n\nB.\n\nC."}}
    blob = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    mixed = {"parts": [{"text": "Look:"}, blob]}
    assert append_system_text(mixed, "Rules.") == {
        "parts": [{"text": "Look:"}, blob, {"text": "Rules."}]
    }
    assert mixed == {"parts": [{"text": "Look:"}, blob]}

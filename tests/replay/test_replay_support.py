"""The replay machinery itself: target selection, scrubbing, matching, sample PDF."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from _replay_support import (
    CASSETTES,
    REDACTED,
    RecordingRefused,
    match_json_body,
    minimal_pdf,
    normalize_call_ids,
    request_scrubber,
    resolve_target,
    response_scrubber,
)
from vcr.request import Request

KEY = "sk-live-0123456789abcdef"


def _request(body: object, uri: str = "https://api.segmind.com/v1/gemini-2.5-flash") -> Request:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request("POST", uri, raw, {"x-api-key": KEY})


# ------------------------------------------------------------------------- targets


@pytest.mark.parametrize("mode", [None, "none"])
def test_replay_is_the_default_even_with_a_key(mode: str | None) -> None:
    assert resolve_target(mode, {"SEGMIND_API_KEY": KEY}).mode == "replay"


def test_recording_needs_a_key_or_the_emulator() -> None:
    with pytest.raises(RecordingRefused, match="SEGMIND_API_KEY is not set"):
        resolve_target("rewrite", {})
    with pytest.raises(RecordingRefused, match="not understood"):
        resolve_target("once", {"SEGMIND_RECORD_TARGET": "staging", "SEGMIND_API_KEY": KEY})
    assert resolve_target("rewrite", {"SEGMIND_API_KEY": KEY}).mode == "live"
    emulator = resolve_target("rewrite", {"SEGMIND_RECORD_TARGET": "emulator"})
    assert emulator.mode == "emulator"
    assert emulator.max_retries == 0
    # The emulator target wins over a key: the key is then never used.
    both = {"SEGMIND_RECORD_TARGET": "emulator", "SEGMIND_API_KEY": KEY}
    assert resolve_target("once", both).mode == "emulator"


# ----------------------------------------------------------------------- scrubbing


def test_request_scrubber_removes_keys_and_numbers_call_ids() -> None:
    ids = ["call_" + "a" * 24, "call_" + "b" * 24]
    body = {"messages": {"contents": [{"parts": [{"text": f"{ids[1]} {ids[0]} {ids[1]} {KEY}"}]}]}}
    original = _request(body, uri=f"https://api.segmind.com/v1/gemini-2.5-flash?key={KEY}")
    scrubbed = request_scrubber([KEY])(original)
    assert KEY not in scrubbed.uri
    assert KEY not in scrubbed.body.decode()
    text = json.loads(scrubbed.body)["messages"]["contents"][0]["parts"][0]["text"]
    assert text == f"call_1 call_2 call_1 {REDACTED}"
    assert KEY in original.body.decode()  # the live request itself is untouched


def test_response_scrubber() -> None:
    response = {
        "status": {"code": 401, "message": "Unauthorized"},
        "headers": {
            "Set-Cookie": ["session=1"],
            "X-Remaining-Credits": ["12.5"],
            "x-echo": [KEY],
            "x-cost": ["0"],
        },
        "body": {"string": json.dumps({"error": f"bad key {KEY}"}).encode()},
    }
    scrubbed = response_scrubber([KEY], drop_transient=True)(response)
    assert scrubbed is not None
    assert set(scrubbed["headers"]) == {"x-echo", "x-cost"}
    assert scrubbed["headers"]["x-echo"] == [REDACTED]
    assert KEY not in scrubbed["body"]["string"].decode()
    assert KEY in response["body"]["string"].decode()
    # Live recording drops what the client retries; the emulator's are kept.
    limited = {**response, "status": {"code": 429, "message": "Too Many Requests"}}
    assert response_scrubber([KEY], drop_transient=True)(limited) is None
    assert response_scrubber([KEY], drop_transient=False)(limited) is not None


# ------------------------------------------------------------------------ matching


def test_body_matcher_ignores_generated_ids_key_order_and_spacing() -> None:
    one, two, three, four = (f"call_{digit * 24}" for digit in "1234")
    first = f'{{"messages": {{"a": 1, "text": "{one} then {two}"}}}}'
    second = f'{{"messages":{{"text":"{three} then {four}","a":1}}}}'
    match_json_body(_request(first.encode()), _request(second.encode()))


def test_body_matcher_reports_where_bodies_differ() -> None:
    one = _request({"messages": {"contents": [{"parts": [{"text": "Lima"}]}]}})
    two = _request({"messages": {"contents": [{"parts": [{"text": "Quito"}]}]}})
    with pytest.raises(AssertionError, match=re.escape("contents[0].parts[0].text")):
        match_json_body(one, two)
    swapped = f"call_{'1' * 24} call_{'2' * 24}"
    same_id = f"call_{'1' * 24} call_{'1' * 24}"
    assert normalize_call_ids(swapped) != normalize_call_ids(same_id)


# ----------------------------------------------------------------------- cassettes


def test_shipped_cassettes_hold_no_key_and_say_where_they_were_recorded() -> None:
    paths = sorted(CASSETTES.rglob("*.yaml"))
    assert paths
    for path in paths:
        text = path.read_text()
        data = yaml.safe_load(text)
        for interaction in data["interactions"]:
            request = interaction["request"]
            assert request["headers"].get("x-api-key") in (None, [REDACTED]), path.name
            # Only check's auth probe sends Authorization: Bearer; it is filtered like x-api-key.
            bearer = {k.lower(): v for k, v in request["headers"].items()}.get("authorization")
            assert bearer in (None, [REDACTED]), path.name
            assert "set-cookie" not in {h.lower() for h in interaction["response"]["headers"]}
            # Honest provenance: the URI is the host the exchange really went to.
            assert re.match(r"https?://[^/]+/v[12]/", request["uri"]), path.name
        secrets = ["emulator-key", "replay-dummy-key", "deliberately-invalid-key"]
        if os.environ.get("SEGMIND_API_KEY"):  # after a live recording, check that key too
            secrets.append(os.environ["SEGMIND_API_KEY"])
        for secret in secrets:
            assert secret not in text, path.name
        assert "x-remaining-credits" not in text.lower(), path.name


# ---------------------------------------------------------------------------- PDF


def test_minimal_pdf_is_well_formed(tmp_path: Path) -> None:
    pdf = minimal_pdf("Invoice 7: the total is 42 euros (net).")
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    offsets = re.findall(rb"(\d{10}) 00000 n", pdf)
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj" % number)
    assert b"(Invoice 7: the total is 42 euros \\(net\\).)" in pdf

"""`segmind-gemini check`: every probe's classification, both ways, against the emulator.

The emulator is configured as a gateway that forwards, drops or refuses each feature
(its switches), and where the verdict depends on what the model wrote, the test
scripts that answer: these tests check the classification logic, not Gemini.
"""

from __future__ import annotations

import base64
import io
import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vcr
from hypothesis import given, settings
from hypothesis import strategies as st

from segmind_gemini import SegmindGeminiClient
from segmind_gemini._record import REDACTED, scrub
from segmind_gemini.check import (
    CALLS_PER_MODEL,
    DEFAULT_MODEL,
    PROBES,
    UNKNOWN_SLUG,
    CheckReport,
    format_table,
    planned_calls,
    run_checks,
)
from segmind_gemini.cli import main
from segmind_gemini.testing import SegmindEmulator

KEY = "check-test-secret-key-0123456789"
SLUG = DEFAULT_MODEL
# The emulator's gateway policies and the verdict each must give.
EACH_POLICY = pytest.mark.parametrize(
    ("policy", "expected"),
    [("apply", "supported"), ("ignore", "ignored"), ("reject", "rejected")],
)


@pytest.fixture
def make_emulator() -> Iterator[Any]:
    started: list[SegmindEmulator] = []

    def make(**options: Any) -> SegmindEmulator:
        emulator = SegmindEmulator(api_key=KEY, queue_polls=0, **options).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


def _check(emu: SegmindEmulator, *probes: str, **options: Any) -> CheckReport:
    with SegmindGeminiClient(
        KEY, base_url=emu.base_url, max_retries=0, poll_interval=0.01
    ) as client:
        return run_checks(client, [SLUG], probes=probes or PROBES, **options)


def _status(emu: SegmindEmulator, probe: str) -> tuple[str, str]:
    result = _check(emu, probe).models[SLUG][probe]
    return result.status, result.evidence


# ------------------------------------------------------------------- classifications


def test_text_and_headers(make_emulator: Any) -> None:
    emu = make_emulator()
    report = _check(emu, "text", "headers")
    assert report.models[SLUG]["text"].status == "supported"
    assert "emulated reply" in report.models[SLUG]["text"].evidence
    headers = report.models[SLUG]["headers"]
    assert headers.status == "supported"
    assert "x-cost 1/1" in headers.evidence
    emu.queue_error(400, "scripted 400: no")
    assert _status(emu, "text")[0] == "rejected"
    emu.queue_error(500, "scripted 500: broken")
    status, evidence = _status(emu, "text")
    assert status == "error" and evidence.startswith("HTTP 500: 'scripted 500: broken")


def test_system_instruction(make_emulator: Any) -> None:
    emu = make_emulator()
    assert _status(emu, "system_instruction")[0] == "ignored"
    emu.queue_text("BANANA").queue_error(400, "scripted: list form refused")
    status, evidence = _status(emu, "system_instruction")
    assert status == "supported"
    assert "single-part form: applied" in evidence and "list form: HTTP 400" in evidence
    sent = [r.messages["system_instruction"]["parts"] for r in emu.requests[-2:]]
    assert isinstance(sent[0], dict) and isinstance(sent[1], list)


@EACH_POLICY
@pytest.mark.parametrize(
    ("switch", "probe", "shown_when_applied"),
    [
        ("generation_config", "generation_config", "maxOutputTokens=1: applied, 200 MAX_TOKENS"),
        ("tools", "native_tools", "functionCall get_weather"),
        ("thinking", "thinking", "thought parts came back"),
        ("safety_settings", "safety_settings", "forwarded and checked"),
    ],
)
def test_gateway_policies(
    make_emulator: Any, policy: str, expected: str, switch: str, probe: str, shown_when_applied: str
) -> None:
    emu = make_emulator(**{switch: policy})
    status, evidence = _status(emu, probe)
    assert status == expected
    assert (shown_when_applied in evidence) == (policy == "apply")
    if probe == "native_tools":
        sent = emu.requests[-1].messages
        assert sent["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"


def test_generation_config_stop_sequence_read_from_the_answer(make_emulator: Any) -> None:
    emu = make_emulator(generation_config="ignore")
    emu.queue_text("1 2 3 4 5 6 7 8 9 10").queue_text("1 2 3 4 5 6 ").queue_text("Paris")
    status, evidence = _status(emu, "generation_config")
    assert status == "supported"  # the stop sequence took effect: the field got through
    assert "maxOutputTokens=1: not applied" in evidence
    assert "stopSequences=['7']: applied" in evidence


def test_prompted_tools_reports_the_written_form(make_emulator: Any) -> None:
    emu = make_emulator()
    # Unscripted, the emulator obeys the forced call (type-correct args) and no more.
    status, evidence = _status(emu, "prompted_tools")
    assert status == "supported"
    assert 'forced: get_weather({"city": "emulated city"}) written as tool_calls' in evidence
    assert "free choice: no call" in evidence
    emu.queue_prompted_tool_call("get_weather", {"city": "Paris"}, fenced=True)
    emu.queue_text('```tool_code\nget_weather(city="Paris")\n```')
    status, evidence = _status(emu, "prompted_tools")
    assert status == "supported"
    assert 'forced: get_weather({"city": "Paris"}) written as tool_calls in ```json' in evidence
    assert "free choice: get_weather" in evidence and "written as tool_code" in evidence
    assert "tools" not in emu.requests[-1].messages  # prompted: nothing native sent
    emu.queue_text('{"tool_calls": [{"name": "send_email", "arguments": {}}]}')
    emu.queue_text("It is sunny.")
    status, evidence = _status(emu, "prompted_tools")
    assert status == "error" and "unknown tool 'send_email'" in evidence
    assert "free choice: no call" in evidence


@pytest.mark.parametrize(
    ("probe", "answer", "mime"),
    [
        ("image", "Red.", "image/png"),
        ("pdf", "42", "application/pdf"),
        ("audio", "Tone", "audio/wav"),
        ("file_data", "Blueberry scones", None),
    ],
)
def test_media(make_emulator: Any, probe: str, answer: str, mime: str | None) -> None:
    emu = make_emulator()
    status, evidence = _status(emu, probe)
    assert status == "ignored" and "does not mention" in evidence
    part = emu.requests[-1].messages["contents"][0]["parts"][1]
    if mime is None:
        assert part["fileData"]["fileUri"].startswith("gs://")
    else:
        assert part["inlineData"]["mimeType"] == mime
    emu.queue_text(answer)
    assert _status(emu, probe)[0] == "supported"
    emu.queue_error(400, f"scripted: {probe} refused")
    assert _status(emu, probe)[0] == "rejected"


@pytest.mark.parametrize(("bearer", "expected"), [(True, "supported"), (False, "rejected")])
def test_auth(make_emulator: Any, bearer: bool, expected: str) -> None:
    emu = make_emulator(bearer_auth=bearer)
    assert _status(emu, "auth")[0] == expected
    sent = emu.requests[-1]
    assert sent.header("x-api-key") is None
    assert sent.header("authorization") == f"Bearer {KEY}"


def test_unknown_model(make_emulator: Any) -> None:
    status, evidence = _status(make_emulator(), "unknown_model")
    assert status == "supported"
    assert evidence.startswith('HTTP 404, body {"error": str}')
    any_model = make_emulator(allow_any_model=True)
    assert _status(any_model, "unknown_model")[0] == "ignored"
    assert any_model.requests[-1].model == UNKNOWN_SLUG
    any_model.queue_error(400, "scripted: no such model")
    assert _status(any_model, "unknown_model")[0] == "rejected"


def test_bad_request(make_emulator: Any) -> None:
    status, evidence = _status(make_emulator(), "bad_request")
    assert status == "supported"
    assert "HTTP 400" in evidence and "parts is empty" in evidence


@pytest.mark.parametrize(("queue", "expected"), [(True, "supported"), (False, "rejected")])
def test_queue_mode(make_emulator: Any, queue: bool, expected: str) -> None:
    emu = make_emulator(queue_mode=queue)
    status, evidence = _status(emu, "queue_mode")
    assert status == expected
    assert emu.requests[0].path == f"/v2/{SLUG}"
    if not queue:
        assert "HTTP 404" in evidence


# ------------------------------------------------------------------------- the run


def test_a_whole_run_against_a_gateway_that_drops_things(make_emulator: Any) -> None:
    emu = make_emulator(tools="ignore", generation_config="reject", queue_mode=False)
    seen: list[str] = []
    with SegmindGeminiClient(KEY, base_url=emu.base_url, max_retries=0) as client:
        report = run_checks(client, progress=lambda slug, probe, result: seen.append(probe))
    assert seen == list(PROBES)
    statuses = {name: r.status for name, r in report.models[SLUG].items()}
    assert statuses["native_tools"] == "ignored"
    assert statuses["generation_config"] == "rejected"
    assert statuses["thinking"] == "rejected"  # thinkingConfig lives in generationConfig
    assert statuses["queue_mode"] == "rejected"
    assert statuses["auth"] == "supported"
    posts = [r for r in emu.requests if r.method == "POST"]
    assert len(posts) == CALLS_PER_MODEL == planned_calls([SLUG])
    assert report.cost == pytest.approx(10.0 - emu.credits)  # what the emulator charged
    assert report.cost > 0
    data = report.as_json()
    assert set(data) == {"base_url", "target", "checked_at", "package_version", "models", "cost"}
    assert data["target"] == "emulator"
    assert KEY not in json.dumps(data) and KEY not in format_table(report)
    assert "native_tools" in format_table(report)


@pytest.mark.parametrize(("credits", "status"), [(10.0, 401), (0.0, 406)])
def test_stops_at_the_first_401_or_406(make_emulator: Any, credits: float, status: int) -> None:
    emu = make_emulator(credits=credits)
    key = KEY if status == 406 else "a-wrong-key-for-this-test"
    with SegmindGeminiClient(key, base_url=emu.base_url, max_retries=0) as client:
        report = run_checks(client, [SLUG, "gemini-2.5-flash"])
    assert len(emu.requests) == 1
    assert list(report.models) == [SLUG]
    assert list(report.models[SLUG]) == ["text"]
    assert report.models[SLUG]["text"].status == "error"
    assert report.stopped is not None and f"HTTP {status}" in report.stopped


# ------------------------------------------------------------------------------ CLI


def _run_cli(
    args: list[str], monkeypatch: pytest.MonkeyPatch, stdin: Any = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setattr("sys.stdin", stdin or io.StringIO(""))
    code = main(args)
    return code, out.getvalue(), err.getvalue()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_without_a_key_sends_nothing(
    make_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = make_emulator()
    monkeypatch.delenv("SEGMIND_API_KEY", raising=False)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    code, out, err = _run_cli(["check", "--yes"], monkeypatch)
    assert code == 2 and out == ""
    assert "needs a Segmind API key: set SEGMIND_API_KEY" in err and "Nothing was sent" in err
    assert emu.requests == []


def test_cli_asks_first_and_refuses_without_a_terminal(
    make_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = make_emulator()
    monkeypatch.setenv("SEGMIND_API_KEY", KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    code, _, err = _run_cli(["check"], monkeypatch)
    assert code == 2 and "pass --yes" in err and f"make {CALLS_PER_MODEL} calls" in err
    code, _, err = _run_cli(
        ["check", "--model", SLUG, "--model", "gemini-2.5-flash-lite"], monkeypatch, _Tty("n\n")
    )
    assert code == 1 and f"make {2 * CALLS_PER_MODEL} calls" in err and "Cancelled" in err
    assert emu.requests == []
    code, out, err = _run_cli(["check"], monkeypatch, _Tty("y\n"))
    assert code == 0 and emu.requests
    # A loopback base URL is an emulator: the table, the plan and the total say so.
    assert "native_tools" in out and out.startswith("EMULATOR at ")
    rows = {line.split()[1]: line.split()[2:4] for line in out.splitlines()[3:]}
    assert rows["image"][1] == "(emulated)" and rows["audio"][1] == "(emulated)"
    assert rows["auth"][1] != "(emulated)"  # the gateway's own behaviour, not the model's
    assert "not Segmind" in err and "x-cost total reported by the emulator: $" in err
    assert "made up; nothing billed" in err and "Estimated cost" not in err


def test_cli_json_saves_the_report_that_auto_reads(
    make_emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from segmind_gemini.reports import latest_probe_status, reports_dir
    from segmind_gemini.tools.calling import resolve_mode

    emu = make_emulator(tools="ignore")
    monkeypatch.setenv("SEGMIND_API_KEY", KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    code, out, _ = _run_cli(["check", "--yes", "--json"], monkeypatch)
    assert code == 0
    data = json.loads(out)
    assert data["base_url"] == emu.base_url and data["package_version"]
    assert data["models"][SLUG]["native_tools"]["status"] == "ignored"
    assert set(data["models"][SLUG]["text"]) == {"status", "evidence"}
    assert data["cost"] > 0
    saved = list(reports_dir().glob("check-*.json"))
    assert len(saved) == 1 and KEY not in saved[0].read_text()
    assert latest_probe_status(SLUG, "native_tools", emu.base_url) == "ignored"
    assert resolve_mode("auto", SLUG, emu.base_url) == "prompt"


def test_record_writes_scrubbed_cassettes_that_replay(make_emulator: Any, tmp_path: Path) -> None:
    emu = make_emulator(thinking="ignore")
    recorded = _check(emu, record_dir=tmp_path)
    folder = tmp_path / "check" / SLUG
    names = sorted(p.stem for p in folder.glob("*.yaml"))
    assert names == sorted(set(PROBES) - {"headers"})  # headers reads the others' answers
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(), path
    assert "REDACTED" in (folder / "auth.yaml").read_text()
    assert json.loads((tmp_path / "check" / "report.json").read_text()) == recorded.as_json()
    emu.stop()  # replay: nothing may reach a server
    replayer = vcr.VCR(record_mode="none", match_on=["method", "path", "body"])
    for probe in PROBES:
        cassette = folder / f"{'text' if probe == 'headers' else probe}.yaml"
        with replayer.use_cassette(str(cassette)):
            probes = ("text", "headers") if probe == "headers" else (probe,)
            replayed = _check(emu, *probes).models[SLUG][probe]
        if probe == "headers":
            # The balance header is never written to a cassette, so replay cannot see it.
            assert replayed.status == "ignored" and "x-remaining-credits 0/1" in replayed.evidence
        else:
            assert replayed.status == recorded.models[SLUG][probe].status, probe


def test_record_without_vcrpy_says_which_extra(
    monkeypatch: pytest.MonkeyPatch, make_emulator: Any, tmp_path: Path
) -> None:
    import sys

    from segmind_gemini.errors import SegmindError

    emu = make_emulator()
    monkeypatch.setitem(sys.modules, "vcr", None)
    with pytest.raises(SegmindError, match=r"pip install 'segmind-gemini\[record\]'"):
        _check(emu, record_dir=tmp_path)
    assert emu.requests == []


def test_emulator_cli_switches() -> None:
    from segmind_gemini.cli import _behaviour, _parser

    args = _parser().parse_args(
        ["emulator", "--any-model", "--tools", "ignore", "--no-queue", "--no-bearer"]
    )
    assert _behaviour(args) == {
        "tools": "ignore",
        "generation_config": "apply",
        "safety_settings": "apply",
        "thinking": "apply",
        "bearer_auth": False,
        "queue_mode": False,
        "allow_any_model": True,
    }
    SegmindEmulator(**_behaviour(args))  # every switch is a constructor argument
    with pytest.raises(ValueError, match="tools must be one of apply, ignore, reject"):
        SegmindEmulator(tools="forward")  # type: ignore[arg-type]


# ------------------------------------------------------- one table, one request path


def test_probes_are_registered_once() -> None:
    from segmind_gemini.check.probes import CALLS, REGISTRY

    # The DESIGN's probe names, in order; the names, counts and code come from one table.
    assert PROBES == tuple(REGISTRY) == tuple(CALLS)
    assert set(PROBES) == {
        *("text", "system_instruction", "generation_config", "native_tools", "prompted_tools"),
        *("thinking", "safety_settings", "image", "pdf", "audio", "file_data", "auth"),
        *("unknown_model", "bad_request", "queue_mode", "headers"),
    }
    assert sum(entry.calls for entry in REGISTRY.values()) == CALLS_PER_MODEL


def test_raw_probes_go_through_the_clients_retries_and_rate_governor(make_emulator: Any) -> None:
    emu = make_emulator()
    emu.queue_fault("rate_limit", reset_after=0.2)  # the bearer request first meets a 429
    emu.queue_error(503, "try again")  # then a 503, which the retry policy retries
    with SegmindGeminiClient(KEY, base_url=emu.base_url, max_retries=1) as client:
        report = run_checks(client, [SLUG], probes=["auth"])
        assert client.rate_limit_status().rate_limited == 1
    assert report.models[SLUG]["auth"].status == "supported"
    bearer = [r for r in emu.requests if r.method == "POST"]
    assert len(bearer) == 3 and all("authorization" in r.headers for r in bearer)
    assert all("x-api-key" not in r.headers for r in bearer)


# ------------------------------------------------------------------ where it talks


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://127.0.0.1:8765/v1", "emulator"),
        ("http://localhost:8765/v1", "emulator"),
        ("http://[::1]:8765/v1", "emulator"),
        ("https://api.segmind.com/v1", "segmind"),
        ("https://proxy.example.com/segmind/v1", "other"),
    ],
)
def test_target_of_a_base_url(url: str, target: str) -> None:
    from segmind_gemini.check.report import target_of

    assert target_of(url) == target


def test_an_emulator_header_marks_any_host_as_an_emulator() -> None:
    from segmind_gemini.check.report import target_of

    assert target_of("https://emu.example.com/v1", [{"X-Segmind-Emulator": "1"}]) == "emulator"


def test_a_live_plan_and_total_agree_on_the_estimate() -> None:
    from segmind_gemini.check.cli import _plan, _total, estimate_cost

    models = ["gemini-2.5-flash-lite", "gemini-2.5-pro"]
    estimate = estimate_cost(models)
    assert estimate == pytest.approx(0.021)
    plan = _plan(models, "https://api.segmind.com/v1", "segmind")
    assert f"at most about ${estimate:.3f}" in plan and "EMULATOR" not in plan
    # The total quotes the same estimate, and says so when the bill is above it.
    assert f"estimated at most about ${estimate:.3f})" in _total(0.004, models, "segmind")
    assert "above the estimate" not in _total(0.004, models, "segmind")
    assert "above the estimate" in _total(0.05, models, "segmind")


# ------------------------------------------------------------- the key, any spelling


def _spellings(key: str, escape: list[bool], prefix: bytes) -> dict[str, str]:
    """The key as a gateway might echo it: JSON-escaped (a chosen subset of characters as
    \\uXXXX), URL-encoded, inside base64 after some bytes."""
    json_body = "".join(
        "".join(f"\\u{u:04x}" for u in _utf16(c)) if esc else json.dumps(c)[1:-1]
        for c, esc in zip(key, escape + [True] * len(key), strict=False)
    )
    return {
        "json": '{"error": "bad key ' + json_body + '"}',
        "json_ascii": json.dumps({"error": f"key={key}"}),
        "url": "key=" + "".join(f"%{b:02X}" for b in key.encode()),
        "url_plus": urllib.parse.urlencode({"key": key}),
        "base64": base64.b64encode(prefix + key.encode() + b"!").decode(),
        "base64_url": base64.urlsafe_b64encode(prefix + key.encode()).decode(),
    }


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _reveals(text: str, key: str) -> bool:
    """Whether ``text`` still gives the key away in any of the spellings above."""
    if key in text or key in urllib.parse.unquote_plus(text):
        return True
    try:
        if key in json.loads(text).get("error", ""):
            return True
    except (ValueError, AttributeError):
        pass
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        for start in range(4):
            chunk = text[start:]
            try:
                raw = decode(chunk + "=" * (-len(chunk) % 4))
            except ValueError:
                continue
            if key.encode() in raw:
                return True
    return False


KEYS = st.text(st.characters(exclude_categories=("Cs",)), min_size=8, max_size=24).filter(
    lambda k: k.strip() == k and REDACTED not in k
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(key=KEYS, escape=st.lists(st.booleans(), max_size=24), prefix=st.binary(max_size=2))
def test_scrub_masks_every_spelling_of_any_key(key: str, escape: list[bool], prefix: bytes) -> None:
    for name, text in _spellings(key, escape, prefix).items():
        assert _reveals(text, key), name  # the helper really detects each spelling
        scrubbed = scrub(text, [key])
        assert not _reveals(scrubbed, key), (name, scrubbed)
        assert REDACTED in scrubbed
        as_bytes = scrub(text.encode(), [key])
        assert as_bytes == scrubbed.encode()


def test_scrub_leaves_other_text_alone() -> None:
    text = '{"error": "ok, take the key", "n": "%41%42", "b": "aGVsbG8="}'
    assert scrub(text, ["SG_0123456789abcdef"]) == text
    assert scrub(b"\xff\xfe not utf-8", ["SG_0123456789abcdef"]) == b"\xff\xfe not utf-8"


def _echo(key: str) -> bytes:
    """A gateway error that echoes the key three ways: URL-encoded, base64, \\u-escaped."""
    url = "".join(f"%{b:02x}" for b in key.encode())
    b64 = base64.b64encode(f"Bearer {key}".encode()).decode()
    escaped = "".join(f"\\u{ord(c):04X}" for c in key)
    return ('{"error": "invalid credentials ' + f"{url} {b64} {escaped}" + '"}').encode()


def test_a_gateway_echoing_the_key_leaks_it_nowhere(
    make_emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from segmind_gemini.reports import reports_dir

    emu = make_emulator()
    emu.queue_response(_echo(KEY), status=400)  # the text probe's answer
    monkeypatch.setenv("SEGMIND_API_KEY", KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    code, out, err = _run_cli(["check", "--yes", "--json", "--record", str(tmp_path)], monkeypatch)
    assert code == 0, err
    data = json.loads(out)
    evidence = data["models"][SLUG]["text"]["evidence"]
    assert data["models"][SLUG]["text"]["status"] == "rejected" and REDACTED in evidence
    written = [out, err, *(p.read_text() for p in reports_dir().glob("*.json"))]
    written += [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > 17  # stdout, stderr, the saved report, report.json, 15 cassettes
    for text in written:
        for piece in [text, *re.findall(r"[A-Za-z0-9+/=_%\\-]{12,}", text)]:
            assert not _reveals(piece, KEY)


def test_run_checks_masks_an_echo_in_the_auth_probe(make_emulator: Any) -> None:
    emu = make_emulator()
    emu.queue_response(_echo(KEY), status=401)  # the Bearer request's answer
    with SegmindGeminiClient(KEY, base_url=emu.base_url, max_retries=0) as client:
        report = run_checks(client, [SLUG], probes=["auth"], secrets=[KEY])
    result = report.models[SLUG]["auth"]
    # Masked by the client (escaped echoes included) before check's own scrub sees it.
    assert result.status == "rejected" and (
        "**********" in result.evidence or REDACTED in result.evidence
    )
    assert not _reveals(result.evidence, KEY)

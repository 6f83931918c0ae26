"""The emulator is as strict as Gemini where Gemini is documented, and never answers 500.

Unknown fields get Gemini's 400 "Unknown name", ``candidateCount`` gets that many
candidates, example answers are valid for deep, recursive, ``format``-ed and non-string
enum schemas, the package's JSON-mode instruction gets JSON, hostile bodies and keys get
a 4xx, and a long-running emulator keeps a bounded history.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from segmind_gemini.planning.structured import validate_json
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing._replies import example_value

SLUG = "gemini-2.5-flash"
_SETTINGS = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _body(**messages: Any) -> dict[str, Any]:
    return {"messages": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], **messages}}


def _post(emu: SegmindEmulator, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        f"{emu.base_url}/{SLUG}",
        content=content,
        headers={"x-api-key": emu.api_key, "content-type": "application/json", **headers},
    )


# -- Gemini's own strictness --------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "name", "where"),
    [
        ({"temprature": 0.1}, "temprature", ""),
        ({"generationConfig": {"maxTokens": 5}}, "maxTokens", " at 'generation_config'"),
        ({"api_key": "sk-leak"}, "api_key", ""),
    ],
)
def test_unknown_fields_get_geminis_400(
    emu: SegmindEmulator, extra: dict[str, Any], name: str, where: str
) -> None:
    answer = _post(emu, _body(**extra))
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == (
        f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'
    )


def test_known_fields_in_both_spellings_pass(emu: SegmindEmulator) -> None:
    body = _body(
        generation_config={"max_output_tokens": 50, "temperature": 0.2},
        safetySettings=[],
        cachedContent="cachedContents/x",
        labels={"team": "a"},
    )
    assert _post(emu, body).status_code == 200


def test_candidate_count_answers_that_many_candidates(emu: SegmindEmulator) -> None:
    answer = _post(emu, _body(generationConfig={"candidateCount": 3})).json()
    assert [c["index"] for c in answer["candidates"]] == [0, 1, 2]
    one = _post(emu, _body()).json()
    assert len(one["candidates"]) == 1
    assert answer["usageMetadata"]["candidatesTokenCount"] == (
        3 * one["usageMetadata"]["candidatesTokenCount"]
    )


@pytest.mark.parametrize("count", [0, 9, "2", True])
def test_candidate_count_out_of_range_is_refused(emu: SegmindEmulator, count: Any) -> None:
    answer = _post(emu, _body(generationConfig={"candidateCount": count}))
    assert answer.status_code == 400
    assert "candidateCount must be an integer from 1 to 8" in answer.json()["error"]


# -- hostile input is a 4xx, never a 500 --------------------------------------------


def test_json_nested_100000_deep_is_a_400(emu: SegmindEmulator) -> None:
    deep = b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = _post(emu, deep)
    assert answer.status_code == 400
    assert "too deeply" in answer.json()["error"]
    assert emu.requests[-1].json is None  # recorded, unparsed, without crashing


def _raw_status(emu: SegmindEmulator, key: bytes) -> int:
    body = json.dumps(_body()).encode()
    head = (
        f"POST /v1/{SLUG} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.sendall(head + b"x-api-key: " + key + b"\r\n\r\n" + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1])


@_SETTINGS
@given(
    key=st.lists(
        st.one_of(st.integers(0x21, 0x7E), st.integers(0x80, 0xFF)), min_size=1, max_size=40
    )
    .filter(lambda codes: max(codes) >= 0x80)
    .map(bytes)
)
def test_non_utf8_keys_are_refused_with_401(emu: SegmindEmulator, key: bytes) -> None:
    assert _raw_status(emu, key) == 401


# -- type-correct unscripted answers ------------------------------------------------


def _nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": 7}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"inner": schema}, "required": ["inner"]}
    return schema


def test_example_values_recurse_deeper_than_eight_levels() -> None:
    value = example_value(_nested(30))
    for _ in range(30):
        value = value["inner"]
    assert value == 7


def test_recursive_schemas_end_and_stay_valid() -> None:
    tree = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "left": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                    "right": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                },
                "required": ["name", "left", "children"],
            }
        },
        "$ref": "#/$defs/Node",
    }
    value = example_value(tree)
    assert validate_json(value, tree) == []
    assert value["left"]["left"] is None  # cut at its first repeat
    assert value["children"][0]["children"] == []


def test_formats_and_non_string_enums_are_honoured() -> None:
    assert uuid.UUID(example_value({"type": "string", "format": "uuid"}))
    assert example_value({"type": "string", "format": "date-time"}).endswith("Z")
    assert example_value({"type": "integer", "enum": [4, 2]}) == 4
    # segmind_gemini.tools.native declares a non-string enum as a described integer.
    assert example_value({"type": "INTEGER", "description": "Level. Allowed values: 3, 5."}) == 3
    assert example_value({"type": "number", "exclusiveMinimum": 0}) == 1.0
    assert example_value({"type": "integer", "maximum": -4}) == -4


_SCALARS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "string", "format": "uuid"},
        {"type": "string", "maxLength": 3},
        {"type": "integer", "minimum": 5},
        {"type": "number", "maximum": -2.5},
        {"type": "boolean"},
        {"type": "null"},
        {"enum": [1, "a", None]},
        {"const": {"k": [1]}},
    ]
)
_SCHEMAS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.builds(
            lambda props, n: {
                "type": "object",
                "properties": props,
                "required": sorted(props)[:n],
            },
            st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
            st.integers(0, 3),
        ),
        st.builds(
            lambda item, n: {"type": "array", "items": item, "minItems": n},
            inner,
            st.integers(0, 3),
        ),
        st.builds(lambda a, b: {"anyOf": [a, b]}, inner, inner),
    ),
    max_leaves=40,
)


@_SETTINGS
@given(schema=_SCHEMAS)
def test_example_values_are_valid_for_their_schema(schema: dict[str, Any]) -> None:
    value = example_value(schema)
    assert validate_json(value, schema) == []


# -- the package's own instructions on a bare emulator ------------------------------


def test_json_mode_works_on_a_bare_emulator(emu: SegmindEmulator) -> None:
    from langchain_segmind_gemini import ChatSegmindGemini

    model = ChatSegmindGemini(model=SLUG, api_key=emu.api_key, base_url=emu.base_url)
    value = model.with_structured_output(None, method="json_mode").invoke("A joke as JSON")
    assert isinstance(value, dict)
    assert value["emulated_reply"].startswith("emulated reply: 1 text part")
    assert len(emu.requests) == 1  # no repair round trip was needed


class Ticket(BaseModel):
    id: uuid.UUID
    priority: int


def test_structured_uuid_field_on_a_bare_emulator(emu: SegmindEmulator) -> None:
    from langchain_segmind_gemini import ChatSegmindGemini

    model = ChatSegmindGemini(model=SLUG, api_key=emu.api_key, base_url=emu.base_url)
    ticket = model.with_structured_output(Ticket).invoke("open a ticket")
    assert isinstance(ticket, Ticket)
    assert len(emu.requests) == 1


# -- a long-running emulator: bounded history, one log line per request ---------------


def test_history_keeps_only_the_latest_requests() -> None:
    with SegmindEmulator(history=3) as emu:
        for index in range(5):
            _post(emu, _body(labels={"n": str(index)}))
        kept = [r.json["messages"]["labels"]["n"] for r in emu.requests]
    assert kept == ["2", "3", "4"]


def test_log_has_one_line_per_request_and_names_a_429() -> None:
    lines: list[str] = []
    with SegmindEmulator(rate_limit=(1, 60.0), log=lines.append, api_key="secret-key-1") as emu:
        assert _post(emu, _body()).status_code == 200
        assert _post(emu, _body()).status_code == 429
    assert len(lines) == 2
    assert lines[0].startswith(f"POST /v1/{SLUG} -> 200 (")
    assert lines[1].startswith(f"POST /v1/{SLUG} -> 429 (")
    assert "Rate limit exceeded: 1 requests per 60 s" in lines[1]
    assert not any("secret-key-1" in line for line in lines)


def test_cli_emulator_help_documents_script_shapes() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "segmind_gemini.cli", "emulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '"kind": "function_calls", "calls": [["add"' in out
    assert "--verbose" in out
    assert "--history" in out


def test_cli_script_names_a_misspelt_kind(tmp_path: Any) -> None:
    script = tmp_path / "answers.jsonl"
    script.write_text('{"kind": "fuction_call", "name": "f", "args": {}}\n')
    emu = SegmindEmulator()
    with pytest.raises(ValueError, match=r"answers.jsonl:1: unknown kind 'fuction_call'"):
        emu.queue_script(script)
    assert emu.pending == 0


def test_a_bad_structured_answer_from_the_emulator_does_not_blame_gemini(
    emu: SegmindEmulator,
) -> None:
    from langchain_core.exceptions import OutputParserException

    from langchain_segmind_gemini import ChatSegmindGemini

    model = ChatSegmindGemini(model=SLUG, api_key=emu.api_key, base_url=emu.base_url)
    emu.queue_text("no JSON here").queue_text("still none")
    with pytest.raises(OutputParserException) as caught:
        model.with_structured_output(Ticket).invoke("open a ticket")
    assert "The model's answer is not valid structured output" in str(caught.value)
    assert "Gemini" not in str(caught.value)


def test_responder_scripts_answers_from_each_request(emu: SegmindEmulator) -> None:
    seen: list[Any] = []

    def echo(messages: Any) -> list[dict[str, Any]] | None:
        seen.append(messages)
        text = messages["contents"][-1]["parts"][0]["text"]
        return None if text == "default" else [{"text": f"echo: {text}"}]

    emu.responder = echo
    try:
        emu.queue_text("queued first")
        first = _post(emu, _body()).json()
        assert first["candidates"][0]["content"]["parts"][0]["text"] == "queued first"
        answers = [
            _post(emu, {"messages": {"contents": [{"parts": [{"text": t}]}]}}).json()
            for t in ("ping", "default")
        ]
    finally:
        emu.responder = None
    texts = [a["candidates"][0]["content"]["parts"][0]["text"] for a in answers]
    assert texts == ["echo: ping", "emulated reply: 1 text part"]
    assert len(seen) == 2  # the queued answer was used without asking the responder


def test_cli_emulator_verbose_logs_each_request_and_each_429() -> None:
    command = [
        sys.executable,
        "-m",
        "segmind_gemini.cli",
        "emulator",
        "--port",
        "0",
        "--verbose",
        "--history",
        "2",
        "--rate-limit",
        "1/60",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            lines = iter(proc.stdout.readline, "")
            base_url = next(line for line in lines if "base URL:" in line).split()[-1]
            next(line for line in lines if "Ctrl-C" in line)
            url, headers = f"{base_url}/{SLUG}", {"x-api-key": "emulator-key"}
            assert httpx.post(url, json=_body(), headers=headers).status_code == 200
            assert httpx.post(url, json=_body(), headers=headers).status_code == 429
            first, second = next(lines), next(lines)
            assert f"POST /v1/{SLUG} -> 200 (" in first
            assert f"POST /v1/{SLUG} -> 429 (" in second and "Rate limit exceeded" in second
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def test_verbatim_answers_any_request_exactly_as_queued() -> None:
    with SegmindEmulator(verbatim=True) as emu:
        emu.queue_response({"request_id": "job-1"}, headers={"x-request-id": "mine"})
        emu.queue_fault("reset")
        first = httpx.get(f"{emu.origin}/anything/at/all")  # no key, any path and method
        assert first.status_code == 200 and first.json() == {"request_id": "job-1"}
        assert first.headers["x-request-id"] == "mine"
        assert "x-cost" not in first.headers  # nothing is added to what was queued
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{emu.base_url}/{SLUG}", content=b"not json")
        unscripted = httpx.post(f"{emu.base_url}/{SLUG}", json=_body())
        assert unscripted.status_code == 599
        assert unscripted.json() == {"error": f"nothing queued for POST /v1/{SLUG}"}
        assert [r.path for r in emu.requests] == ["/anything/at/all", *[f"/v1/{SLUG}"] * 2]


@pytest.mark.parametrize(
    ("config", "field", "proto"),
    [
        ({"temperature": "hot"}, "temperature", "TYPE_FLOAT"),
        ({"stopSequences": ["end", 5]}, "stop_sequences", "TYPE_STRING"),
        ({"max_output_tokens": 1.5}, "max_output_tokens", "TYPE_INT32"),
        ({"responseLogprobs": "yes"}, "response_logprobs", "TYPE_BOOL"),
    ],
)
def test_a_setting_of_the_wrong_type_is_refused_as_gemini_does(
    emu: SegmindEmulator, config: dict[str, Any], field: str, proto: str
) -> None:
    answer = _post(emu, _body(generationConfig=config))
    assert answer.status_code == 400
    assert f"Invalid value at 'generation_config.{field}' ({proto})" in answer.json()["error"]


def test_bare_nan_in_a_body_is_not_json(emu: SegmindEmulator) -> None:
    body = json.dumps(_body(generationConfig={"temperature": 0.5})).encode().replace(b"0.5", b"NaN")
    answer = _post(emu, body)
    assert answer.status_code == 400
    assert "Unexpected token: NaN" in answer.json()["error"]


def test_settings_of_the_right_type_in_either_spelling_pass(emu: SegmindEmulator) -> None:
    config = {"temperature": 1, "top_k": 40, "stop_sequences": ["x"], "seed": 7.0}
    assert _post(emu, _body(generationConfig=config)).status_code == 200

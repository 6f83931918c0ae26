"""The key in every place it can hide, numeric settings, time headers and forked processes.

Issue 17's items "The key", "Settings", "Processes" and the time-header item: each test
drives the package the way a user (or a hostile proxy) would, over real sockets.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import pathlib
import socket
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage
from pydantic import ValidationError

import segmind_gemini
import segmind_gemini.settings as settings_module
from langchain_segmind_gemini import ChatSegmindGemini
from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini import (
    InternalServerError,
    InvalidAPIKeyError,
    InvalidRequestError,
    RateLimitError,
    RetryPolicy,
    SegmindError,
    SegmindGeminiClient,
)
from segmind_gemini.client.outcomes import classify
from segmind_gemini.client.retries import MAX_HINT, server_retry_hint
from segmind_gemini.client.transport import RawResponse
from segmind_gemini.settings import APIKey, resolve_secret
from segmind_gemini.testing import SegmindEmulator

KEY = "sk-test-NOT-A-REAL-KEY-0123456789"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
FAST = RetryPolicy(max_retries=1, initial_backoff=0.01, max_backoff=0.02, max_server_wait=1.0)
PACKAGE_DIRS = tuple(
    str(pathlib.Path(__import__(name).__file__).parent)  # type: ignore[arg-type]
    for name in ("segmind_gemini", "langchain_segmind_gemini", "llama_index_segmind_gemini")
)
pytestmark = pytest.mark.timeout(120)


def _hypothesis(examples: int) -> settings:
    return settings(
        derandomize=True,
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


@pytest.fixture(scope="module")
def emulator() -> Iterator[SegmindEmulator]:
    with SegmindEmulator(api_key=KEY) as emu:
        yield emu


@pytest.fixture
def emu(emulator: SegmindEmulator) -> Iterator[SegmindEmulator]:
    emulator.reset()
    yield emulator
    emulator.reset()


# --- a bad setting's ValidationError never carries the key ------------------------------------

BAD_SETTINGS = [
    {"temperature": "warm"},
    {"thinking_level": 3},
    {"safety_settings": 5},
    {"timeout": math.inf},
    {"max_retries": -1},
    {"not_a_setting": 1, "model_kwargs": {"not_a_setting": 2}},
    # Range checks on the whole model (the after-validator): its input is __init__'s kwargs.
    {"temperature": 9},
    {"max_tokens": -1},
    {"temperature": math.nan},
    {"thinking_level": "zzz"},
]


@pytest.mark.parametrize("bad", BAD_SETTINGS)
@pytest.mark.parametrize("spelling", ["api_key", "segmind_api_key"])
def test_langchain_validation_error_masks_the_key(bad: dict[str, Any], spelling: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unknown argument warns, then is refused
        with pytest.raises(ValidationError) as info:
            ChatSegmindGemini(**{spelling: KEY}, **bad)
    _assert_masked(info.value)


@pytest.mark.parametrize(
    "bad",
    [
        {"temperature": "warm"},
        {"temperature": 9},
        # An unknown argument is kept with a warning (as LangChain does); the settings
        # table's range check runs on the whole model, its input every argument.
        {"candidate_count": 99},
        {"thinking_level": "zzz"},  # refused after construction (model_post_init)
        {"timeout": 1e300},
        {"max_rate_limit_wait": math.nan},
    ],
)
def test_llama_index_validation_error_masks_the_key(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        SegmindGemini(api_key=KEY, **bad)
    _assert_masked(info.value)
    with pytest.raises(ValidationError) as info:
        SegmindGemini.model_validate({"api_key": KEY, **bad})
    _assert_masked(info.value)


def _assert_masked(error: ValidationError) -> None:
    assert KEY not in str(error)
    assert KEY not in repr(error.errors())
    assert KEY not in error.json()


# --- tracebacks with frame locals --------------------------------------------------------------


def _leaking_frames(exc: BaseException) -> list[str]:
    """The package's frames, in ``exc`` and its chain, whose locals show the key.

    What ``pytest --showlocals``, rich's ``show_locals`` and Sentry render: ``repr`` of
    every local of every frame.
    """
    leaks = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for frame, _ in traceback.walk_tb(current.__traceback__):
            if not frame.f_code.co_filename.startswith(PACKAGE_DIRS):
                continue
            for name, value in frame.f_locals.items():
                try:
                    shown = repr(value) + str(value)
                except Exception:  # a half-built object: repr may fail, then shows nothing
                    continue
                if KEY in shown:
                    leaks.append(f"{frame.f_code.co_name}:{name}")
        current = current.__cause__ or current.__context__
    return leaks


def _free_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


FAILURES: dict[str, Callable[[SegmindEmulator], str]] = {
    "refused": lambda emu: _free_port_url(),
    "401": lambda emu: emu.queue_error(401, "no such key").base_url,
    "500": lambda emu: emu.queue_error(500, "boom").queue_error(500, "boom").base_url,
    "timeout": lambda emu: (
        emu.queue_fault("slow", delay=2.0).queue_fault("slow", delay=2.0).base_url
    ),
}


def _core(base_url: str) -> SegmindGeminiClient:
    return SegmindGeminiClient(KEY, base_url=base_url, timeout=0.5, retry_policy=FAST)


def _langchain(base_url: str) -> ChatSegmindGemini:
    return ChatSegmindGemini(api_key=KEY, base_url=base_url, timeout=0.5, max_retries=1)


def _llama(base_url: str) -> SegmindGemini:
    return SegmindGemini(api_key=KEY, base_url=base_url, timeout=0.5, max_retries=1)


@pytest.mark.parametrize("failure", list(FAILURES))
def test_failure_tracebacks_hold_no_key_in_frame_locals_sync(
    emu: SegmindEmulator, failure: str
) -> None:
    base_url = FAILURES[failure](emu)
    calls = [
        lambda: _core(base_url).generate_content(HELLO),
        lambda: _langchain(base_url).invoke("hi"),
        lambda: _llama(base_url).chat([ChatMessage(role="user", content="hi")]),
    ]
    for call in calls:
        emu.reset()
        FAILURES[failure](emu)
        with pytest.raises(SegmindError) as info:
            call()
        assert _leaking_frames(info.value) == []


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_failure_tracebacks_hold_no_key_in_frame_locals_async(
    emu: SegmindEmulator, failure: str
) -> None:
    base_url = FAILURES[failure](emu)
    calls = [
        lambda: _core(base_url).agenerate_content(HELLO),
        lambda: _langchain(base_url).ainvoke([HumanMessage("hi")]),
        lambda: _llama(base_url).achat([ChatMessage(role="user", content="hi")]),
    ]
    for call in calls:
        emu.reset()
        FAILURES[failure](emu)
        with pytest.raises(SegmindError) as info:
            await call()
        assert _leaking_frames(info.value) == []


def test_a_failing_constructor_holds_no_key_in_its_frames() -> None:
    with pytest.raises(InvalidRequestError) as info:
        SegmindGeminiClient(KEY, timeout=math.inf)
    assert _leaking_frames(info.value) == []
    with pytest.raises(InvalidAPIKeyError) as info:
        SegmindGeminiClient(KEY + "\u200b" + KEY)
    assert _leaking_frames(info.value) == []


# --- response headers that repeat the key ------------------------------------------------------


def test_reflected_key_in_headers_is_masked_everywhere(emu: SegmindEmulator) -> None:
    reflected = {"x-request-id": f"req-{KEY}", "x-echo": KEY}
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "fine"}]}}]}
    emu.queue_response(answer, headers=reflected)
    with SegmindGeminiClient(KEY, base_url=emu.base_url) as client:
        result = client.generate_content(HELLO)
    assert result.headers.request_id == "req-**********"
    assert KEY not in repr(result) + repr(result.headers) + repr(vars(result))

    emu.queue_response(answer, headers=reflected)
    message = ChatSegmindGemini(api_key=KEY, base_url=emu.base_url).invoke("hi")
    assert message.response_metadata["request_id"] == "req-**********"
    assert KEY not in json.dumps(message.response_metadata, default=str)

    emu.queue_response(answer, headers=reflected)
    llm = SegmindGemini(api_key=KEY, base_url=emu.base_url)
    response = llm.chat([ChatMessage(role="user", content="hi")])
    assert KEY not in json.dumps(response.additional_kwargs, default=str)
    assert KEY not in repr(response.raw)


async def test_reflected_key_in_error_headers_is_masked_async(emu: SegmindEmulator) -> None:
    emu.queue_error(400, "bad", headers={"x-request-id": KEY})
    with pytest.raises(SegmindError) as info:
        await SegmindGeminiClient(KEY, base_url=emu.base_url).agenerate_content(HELLO)
    assert info.value.request_id == "**********"


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_a_key_escaped_again_and_again_in_an_error_body_is_masked(
    emu: SegmindEmulator, depth: int
) -> None:
    # A gateway that wraps an upstream JSON error as a string escapes the key once more
    # each time (\\u002d, then \\\\u002d).
    echoed: str = "".join(f"\\u{ord(c):04x}" for c in KEY)
    for _ in range(depth - 1):
        echoed = json.dumps({"upstream": echoed})
    emu.queue_error(400, f"bad key {echoed}")
    with pytest.raises(SegmindError) as info:
        SegmindGeminiClient(KEY, base_url=emu.base_url).generate_content(HELLO)
    shown = str(info.value) + json.dumps(info.value.body) + repr(info.value)
    spelled = "".join(f"{ord(c):04x}" for c in KEY)
    assert KEY not in shown and spelled not in shown.replace("\\", "").replace("u", "")


# --- short keys are not masked, and are warned about -------------------------------------------


def test_a_short_key_leaves_answers_alone_and_warns_once() -> None:
    settings_module._short_key_warned.clear()
    with SegmindEmulator(api_key="k") as emu:
        emu.queue_text("ok, take the key")
        emu.queue_text("keep it")
        with pytest.warns(UserWarning, match="cannot be a Segmind key"):
            client = SegmindGeminiClient("k", base_url=emu.base_url)
        assert client.generate_content(HELLO).text == "ok, take the key"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once only
            again = SegmindGeminiClient("k", base_url=emu.base_url)
        assert again.generate_content(HELLO).text == "keep it"


def test_a_long_key_echoed_in_an_answer_is_masked(emu: SegmindEmulator) -> None:
    emu.queue_text(f"your key is {KEY}.")
    assert _core(emu.base_url).generate_content(HELLO).text == "your key is **********."


# --- stray characters in a key -----------------------------------------------------------------


@pytest.mark.parametrize("wrapped", [f"\ufeff{KEY}", f"  {KEY}\r\n", f"\t{KEY}\n"])
def test_surrounding_whitespace_and_bom_are_stripped(emu: SegmindEmulator, wrapped: str) -> None:
    with SegmindGeminiClient(wrapped, base_url=emu.base_url) as client:
        assert client.generate_content(HELLO).text
    assert emu.last_request is not None
    assert emu.last_request.header("x-api-key") == KEY


@pytest.mark.parametrize("stray", ["\u200b", "\r\n", "\x00", "\u00e9", " ", "\ufeff"])
def test_stray_characters_inside_a_key_are_refused_without_quoting_it(stray: str) -> None:
    with pytest.raises(InvalidAPIKeyError) as info:
        SegmindGeminiClient(KEY[:10] + stray + KEY[10:])
    assert f"U+{ord(stray[0]):04X}" in str(info.value)
    assert KEY[:10] not in str(info.value) + repr(info.value)


@_hypothesis(300)
@given(st.text(max_size=40))
def test_any_key_is_either_sendable_or_refused_cleanly(raw: str) -> None:
    body = raw.strip(" \t\r\n\v\f\ufeff")
    if body and not all("\x21" <= char <= "\x7e" for char in body):
        with pytest.raises(InvalidAPIKeyError) as info:
            resolve_secret(raw)
        assert len(body) < 4 or body not in str(info.value)
        return
    if not body:
        with pytest.raises(SegmindError):
            resolve_secret(raw)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short keys warn
        key = resolve_secret(raw)
    value = key.get_secret_value()
    value.encode("ascii")  # an HTTP header can carry it
    assert value and value == value.strip()
    assert repr(key) == str(key) == "'**********'"


# --- numeric settings --------------------------------------------------------------------------

ABSURD = [math.inf, -math.inf, math.nan, 1e300, -1, True, "5"]
SECONDS = [
    "timeout",
    "connect_timeout",
    "max_rate_limit_wait",
    "rate_limit_window",
    "poll_interval",
    "max_poll_interval",
]
COUNTS = ["max_retries", "max_connections", "requests_per_minute"]


@pytest.mark.parametrize("value", ABSURD, ids=repr)
@pytest.mark.parametrize("name", SECONDS + COUNTS)
def test_absurd_numbers_are_refused_at_construction(name: str, value: Any) -> None:
    if name == "requests_per_minute" and value == -1:
        value = 10**9
    with pytest.raises(InvalidRequestError, match=name):
        SegmindGeminiClient(KEY, **{name: value})


@pytest.mark.parametrize("value", [math.inf, math.nan, 1e300, -1.0])
@pytest.mark.parametrize(
    "name", ["initial_backoff", "max_backoff", "max_server_wait", "max_retries"]
)
def test_retry_policy_refuses_absurd_numbers(name: str, value: float) -> None:
    if name == "max_retries":
        value = int(value) if math.isfinite(value) and value < 1e9 else 10**9
    with pytest.raises(InvalidRequestError, match=name):
        RetryPolicy(**{name: value})


def test_a_per_call_timeout_is_checked_too(emu: SegmindEmulator) -> None:
    with pytest.raises(InvalidRequestError, match="timeout"):
        _core(emu.base_url).generate_content(HELLO, timeout=math.inf)
    assert emu.requests == []


@pytest.mark.parametrize(
    "bad",
    [
        {"timeout": math.inf},
        {"timeout": 1e300},
        {"max_rate_limit_wait": math.nan},
        {"max_retries": 10**9},
        {"requests_per_minute": 10**9},
    ],
)
@pytest.mark.parametrize("adapter", [ChatSegmindGemini, SegmindGemini])
def test_adapters_refuse_absurd_client_settings(adapter: type, bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        adapter(api_key=KEY, **bad)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_non_finite_number_in_a_raw_body_is_refused_before_sending(
    emu: SegmindEmulator, value: float
) -> None:
    # Raw dicts (generationConfig, model_kwargs, generation_config) skip the settings
    # table; json.dumps would write a bare NaN/Infinity, which is not JSON.
    body = {**HELLO, "generationConfig": {"temperature": value}}
    with pytest.raises(InvalidRequestError, match="JSON"):
        _core(emu.base_url).generate_content(body)
    with pytest.raises(InvalidRequestError, match="JSON"):
        asyncio.run(_core(emu.base_url).agenerate_content(body))
    with pytest.raises(InvalidRequestError, match="JSON"):
        SegmindGemini(api_key=KEY, base_url=emu.base_url, generation_config={"topP": value}).chat(
            [ChatMessage(role="user", content="hi")]
        )
    assert emu.requests == []


@pytest.mark.parametrize("value", [math.inf, math.nan, 1e300, 0])
def test_langchain_refuses_an_absurd_media_timeout(value: float) -> None:
    with pytest.raises(ValidationError, match="media_timeout"):
        ChatSegmindGemini(api_key=KEY, media_timeout=value)


# --- time headers never overflow ---------------------------------------------------------------


def _http_date(when: datetime, offset_minutes: int) -> str:
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return when.strftime("%a, %d %b %Y %H:%M:%S ") + f"{sign}{hours:02d}{minutes:02d}"


TIME_VALUES = st.one_of(
    st.text(max_size=40),
    st.builds(
        _http_date,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        # Zone offsets up to absurd lengths (+9999999999999 once overflowed the stdlib).
        st.integers(-(10**25), 10**25),
    ),
    st.builds(
        lambda when, minutes: when.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        st.integers(-1439, 1439),
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(0, 10**400).map(str),
)


@_hypothesis(400)
@given(
    date=st.one_of(st.none(), TIME_VALUES),
    retry_after=st.one_of(st.none(), TIME_VALUES),
    reset_at=st.one_of(st.none(), TIME_VALUES),
    delay=st.one_of(st.none(), TIME_VALUES),
)
def test_server_retry_hint_never_raises_and_stays_bounded(
    date: str | None, retry_after: str | None, reset_at: str | None, delay: str | None
) -> None:
    pairs = [("date", date), ("retry-after", retry_after), ("x-rate-limit-reset-at-utc", reset_at)]
    headers = {name: value for name, value in pairs if value is not None}
    body = {"error": {"details": [{"retryDelay": delay}]}} if delay is not None else None
    hint = server_retry_hint(headers, body)
    assert hint is None or 0.0 <= hint <= MAX_HINT


ABSURD_DATE = "Fri, 31 Dec 9999 23:59:59 +9999999999999"


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (500, {"date": ABSURD_DATE, "retry-after": ABSURD_DATE}, InternalServerError),
        (503, {"retry-after": "Mon, 01 Jan 0001 00:00:00 +2359"}, InternalServerError),
        (429, {"date": ABSURD_DATE, "retry-after": ABSURD_DATE}, RateLimitError),
    ],
)
async def test_absurd_time_headers_end_in_the_package_errors(
    emu: SegmindEmulator, status: int, headers: dict[str, str], error: type[SegmindError]
) -> None:
    # No wait for a turn: the second 429 (its hint unreadable) is the error.
    client = SegmindGeminiClient(
        KEY, base_url=emu.base_url, retry_policy=FAST, max_rate_limit_wait=0.0
    )
    for _ in range(2):
        emu.queue_error(status, "absurd", headers=headers)
    with pytest.raises(error):
        client.generate_content(HELLO)
    emu.reset()
    segmind_gemini.governor.forget_rate_limits()
    for _ in range(2):
        emu.queue_error(status, "absurd", headers=headers)
    with pytest.raises(error):
        await client.agenerate_content(HELLO)
    await client.aclose()


# --- the classification step takes its clock from the caller -----------------------------------


def test_classify_reads_time_only_from_the_clock_it_is_given() -> None:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    reset = (now + timedelta(seconds=42)).isoformat()
    raw = RawResponse(429, {"x-rate-limit-reset-at-utc": reset}, b'{"error": "slow"}', 0.1)
    verdict = classify(raw, method="POST", url="u", model="m", key=APIKey(KEY), now=lambda: now)
    assert verdict.next == "wait_turn"
    assert verdict.hint == pytest.approx(42.0)
    assert verdict.report.exact is True
    assert isinstance(verdict.error, RateLimitError)


# --- fork safety -------------------------------------------------------------------------------

ROUNDS = 15


def _prompt(parts: int) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": "x"}] * parts}]}


def _expect(parts: int) -> str:
    return f"emulated reply: {parts} text part{'s' if parts > 1 else ''}"


def _in_child(work: Callable[[], bool]) -> int:
    """Fork; the child runs ``work`` and reports through a pipe; return the child's pid."""
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (the emulator)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read)
        ok = False
        try:
            ok = work()
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    _FORKS[pid] = read
    return pid


_FORKS: dict[int, int] = {}


def _child_result(pid: int) -> bool:
    read = _FORKS.pop(pid)
    try:
        data = os.read(read, 1)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    return data == b"1"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
def test_a_sync_client_used_before_fork_gives_each_process_its_own_answers(
    emu: SegmindEmulator,
) -> None:
    client = SegmindGeminiClient(KEY, base_url=emu.base_url)
    assert client.generate_content(_prompt(1)).text == _expect(1)  # a pooled connection

    def child() -> bool:
        return all(client.generate_content(_prompt(3)).text == _expect(3) for _ in range(ROUNDS))

    pid = _in_child(child)
    mine = [client.generate_content(_prompt(1)).text for _ in range(ROUNDS)]
    assert _child_result(pid)
    assert mine == [_expect(1)] * ROUNDS
    client.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
async def test_an_async_client_used_before_fork_gives_each_process_its_own_answers(
    emu: SegmindEmulator,
) -> None:
    client = SegmindGeminiClient(KEY, base_url=emu.base_url)
    assert (await client.agenerate_content(_prompt(1))).text == _expect(1)
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        # Python drops the running loop in a forked child: the child's calls run in a
        # loop of their own, with the client (and its sessions) inherited from the parent.
        os.close(read)
        ok = False
        # The parent's session (bound to its loop and sockets) is gone from the child.
        dropped = not client._async._sessions
        try:

            async def calls() -> list[str]:
                return [(await client.agenerate_content(_prompt(3))).text for _ in range(ROUNDS)]

            box: list[list[str]] = []
            runner = threading.Thread(target=lambda: box.append(asyncio.run(calls())))
            runner.start()
            runner.join(60)
            ok = dropped and box == [[_expect(3)] * ROUNDS]
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    _FORKS[pid] = read
    mine = [(await client.agenerate_content(_prompt(1))).text for _ in range(ROUNDS)]
    assert await asyncio.to_thread(_child_result, pid)
    assert mine == [_expect(1)] * ROUNDS
    await client.aclose()


# --- the flows do no I/O: a test drives one step by step ----------------------------------------


class _FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime(2030, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=self.t)


def test_a_flow_is_driven_without_io_and_reports_to_the_governor_through_steps() -> None:
    from segmind_gemini.client import gemini_client as client_module

    client = SegmindGeminiClient(KEY, base_url="http://127.0.0.1:9/v1", retry_policy=FAST)
    clock = _FakeClock()
    flow = client._flow(HELLO, None, None, None, clock)
    ok = json.dumps(
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "fine"}]}}]}
    ).encode()
    replies = [RawResponse(503, {"retry-after": "0.5"}, b'{"error": "busy"}', 0.1)]
    replies.append(RawResponse(200, {"x-request-id": f"r-{KEY}"}, ok, 0.1))
    seen: list[str] = []
    outcome: Any = None
    result = None
    while result is None:
        try:
            step = flow.send(outcome)
        except StopIteration as stop:
            result = stop.value
            break
        seen.append(type(step).__name__)
        if isinstance(step, client_module._Admit):
            outcome = client._governor.acquire(client._turn(step), max_wait=0.0)
        elif isinstance(step, client_module._Send):
            outcome = replies.pop(0)
        elif isinstance(step, client_module._Sleep):
            assert 0.5 <= step.seconds <= 0.51  # the server's Retry-After, plus jitter
            clock.t += step.seconds
            outcome = None
        else:
            outcome = client._govern(step)
    assert seen == ["_Admit", "_Send", "_Record", "_Sleep", "_Admit", "_Send", "_Record"]
    assert result.text == "fine"
    assert result.headers.request_id == "r-**********"


def test_a_base_url_holding_a_password_is_refused_at_construction_without_quoting_it() -> None:
    from langchain_segmind_gemini import ChatSegmindGemini
    from llama_index_segmind_gemini import SegmindGemini

    url = "https://bob:pw-secret-1@example.com/v1"
    for make in (SegmindGeminiClient, ChatSegmindGemini, SegmindGemini):
        with pytest.raises(ValueError, match="must not hold a user name or password") as caught:
            make(api_key="k" * 20, base_url=url)
        assert "pw-secret-1" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["https://gw.example.com/v1?key=SECRET-IN-QUERY", "https://gw.example.com/v1#SECRET"]
)
def test_a_base_url_with_a_query_or_fragment_is_refused_without_quoting_it(url: str) -> None:
    # The model is appended to the path: a query would swallow it, and the URL (a key
    # in it included) is named by every connection error.
    from langchain_segmind_gemini import ChatSegmindGemini
    from llama_index_segmind_gemini import SegmindGemini

    for make in (SegmindGeminiClient, ChatSegmindGemini, SegmindGemini):
        with pytest.raises(ValueError, match="must not hold a query or fragment") as caught:
            make(api_key="k" * 20, base_url=url)
        assert "SECRET" not in str(caught.value)


def test_default_headers_may_not_carry_the_key() -> None:
    with pytest.raises(InvalidRequestError, match="may not set x-api-key") as caught:
        SegmindGeminiClient("k" * 20, default_headers={"X-API-Key": "other-secret-123"})
    assert "other-secret-123" not in str(caught.value)

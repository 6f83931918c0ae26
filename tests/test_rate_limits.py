"""The rate governor: batches larger than one window finish at the server's pace.

Two layers of tests. A discrete-event simulation drives :class:`RateGovernor` on a fake
clock against a fixed-window server (any limit, window, latency and phase, Hypothesis
picks), which checks the algorithm itself in milliseconds. Then real calls go through
the emulator's fixed windows over sockets: async fan-outs, threads, several clients
and event loops, queue mode, both adapters, cancellation, daily quotas and logs.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import random
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmind_gemini import InvalidRequestError, RateLimitError, SegmindGeminiClient
from segmind_gemini.cli import _rate_limit
from segmind_gemini.governor import RateGovernor, Turn
from segmind_gemini.ratelimit import LONGEST_BLOCK, WindowPolicy
from segmind_gemini.testing import SegmindEmulator

HELLO = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
SLUG = "gemini-2.5-flash"


# ----------------------------------------------------------------- the simulation


def simulate(
    limit: int,
    window: float,
    calls: int,
    *,
    hints: bool,
    latency: float,
    phase: float,
    rpm: int | None = None,
    rounding: str | None = None,
    offset: float = 0.0,
    drain: float = 0.0,
) -> tuple[float, dict[int, int]]:
    """Run ``calls`` callers (all ready at once) against a fixed-window server.

    The server admits ``limit`` arrivals per window ``[k*window, (k+1)*window)`` and
    refuses the rest with the window's end as the hint (or none). Requests take
    ``latency`` each way; windows start ``offset`` seconds after multiples of
    ``window``. ``rounding``: ``"floor_s"`` sends the reset time cut to whole seconds (an
    ISO time without fractions), ``"ceil_relative"`` a ``Retry-After`` in whole seconds.
    ``drain``: the caller handles one answer at a time, this many seconds apart (a busy
    event loop), so a burst's answers come back spread out. Returns the wall time and
    the 429s per server window.
    """
    now = [phase]
    governor = RateGovernor(clock=lambda: now[0])
    used: dict[int, int] = {}
    refused: dict[int, int] = {}
    answers: list[tuple[float, int, Any, int, float | None]] = []
    order = 0
    ready, done = calls, 0
    handled = -math.inf
    while done < calls:
        while ready:
            ticket = governor.try_acquire(Turn(True, rpm, window))
            if ticket is None:
                break
            ready -= 1
            arrival = now[0] + latency
            index = math.floor((arrival - offset) / window)
            if used.get(index, 0) < limit:
                used[index] = used.get(index, 0) + 1
                status, hint = 200, None
            else:
                status = 429
                refused[index] = refused.get(index, 0) + 1
                reset = (index + 1) * window + offset
                if rounding == "floor_s":
                    reset = math.floor(reset)
                # A reset time read on arrival of the answer: negative once it has
                # passed, as the client reports it; a Retry-After delay is never negative.
                hint = reset - (arrival + latency) if hints else None
                if hint is not None and rounding == "ceil_relative":
                    hint = float(math.ceil(max(0.0, hint)))
            order += 1
            handled = max(arrival + latency, handled + drain)
            if hint is not None and rounding != "ceil_relative":
                hint -= handled - (arrival + latency)  # a point in time, read when handled
            heapq.heappush(answers, (handled, order, ticket, status, hint))
        upcoming = answers[0][0] if answers else math.inf
        if ready:
            turn = governor.next_turn_in(Turn(True, rpm, window))
            upcoming = min(upcoming, now[0] + max(turn, 1e-6))
        assert upcoming < math.inf, "nothing to wait for: the governor deadlocked"
        now[0] = upcoming
        assert now[0] - phase < 100 * window * (calls / limit + 2), "did not finish"
        while answers and answers[0][0] <= now[0]:
            _, _, ticket, status, hint = heapq.heappop(answers)
            # As the client does: a delay in whole seconds (Retry-After) is not a reset time.
            governor.record(ticket, status, hint, exact=rounding != "ceil_relative")
            if status == 429:
                ready += 1  # waits for its turn again
            else:
                done += 1
    return now[0] - phase, refused


SIMULATION = settings(max_examples=60, deadline=None, derandomize=True)


@SIMULATION
@given(
    limit=st.integers(1, 60),
    window=st.sampled_from([0.5, 1.0, 60.0]),
    calls=st.integers(1, 400),
    latency_share=st.floats(0.0, 0.3),
    phase_share=st.floats(0.0, 1.0),
)
def test_with_reset_hints_every_call_finishes_near_the_floor_without_a_second_storm(
    limit: int, window: float, calls: int, latency_share: float, phase_share: float
) -> None:
    latency = latency_share * window
    wall, refused = simulate(
        limit, window, calls, hints=True, latency=latency, phase=phase_share * window
    )
    windows_needed = math.ceil(calls / limit)
    # The floor is whole windows; a partial first window can only help.
    assert wall <= windows_needed * window + 2 * latency + 0.05 * window
    first = min(refused) if refused else None
    later = sum(count for index, count in refused.items() if index != first)
    # After the first window: at most one probe to learn the window's length.
    assert later <= 1


@SIMULATION
@given(
    limit=st.integers(1, 60),
    calls=st.integers(1, 400),
    rounding=st.sampled_from(["floor_s", "ceil_relative"]),
    offset=st.floats(0.0, 59.0),
    latency=st.floats(0.0, 5.0),
)
def test_reset_hints_in_whole_seconds_on_minute_windows(
    limit: int, calls: int, rounding: str, offset: float, latency: float
) -> None:
    # Segmind's windows are a minute; a hint rounded to the second must not cost a storm.
    window = 60.0
    wall, refused = simulate(
        limit,
        window,
        calls,
        hints=True,
        latency=latency,
        phase=0.0,
        rounding=rounding,
        offset=offset,
    )
    windows_needed = math.ceil(calls / limit)
    assert wall <= windows_needed * window + 2 * latency + 4.0
    first = min(refused) if refused else None
    later = sum(count for index, count in refused.items() if index != first)
    # Under 10% of the limit per window (half a refusal a window for tiny limits). A
    # delay in whole seconds (Retry-After) cannot time a window, so with those one probe
    # a window finds each opening.
    per_window = 1.0 if rounding == "ceil_relative" else 0.5
    assert later <= windows_needed * max(0.1 * limit, per_window) + 2


@SIMULATION
@given(
    limit=st.integers(1, 60),
    window=st.sampled_from([0.5, 1.0, 60.0]),
    calls=st.integers(1, 300),
    latency_share=st.floats(0.0, 0.3),
    spread_share=st.floats(0.0, 0.3),
)
def test_answers_handled_one_at_a_time_bring_no_second_storm(
    limit: int, window: float, calls: int, latency_share: float, spread_share: float
) -> None:
    # A busy event loop hands a burst's answers back one at a time, here over up to
    # 30% of a window, so some 429s are read after the reset they name. Each such late
    # 429 used to reopen a window, and the calls waiting went out in a storm.
    wall, refused = simulate(
        limit,
        window,
        calls,
        hints=True,
        latency=latency_share * window,
        phase=0.0,
        drain=spread_share * window / calls,
    )
    assert wall <= (math.ceil(calls / limit) + 2) * window
    first = min(refused) if refused else None
    assert sum(count for index, count in refused.items() if index != first) <= 2


@pytest.mark.xfail(
    strict=True,
    reason="known, not fixed: when a burst's 429s are still being read at the reset, the "
    "pace counts those not read yet as taken, and the next window gets a second storm",
)
def test_a_burst_late_in_a_window_read_slowly_brings_no_second_storm() -> None:
    # 60 calls 0.1 s before the reset of a 0.5 s window that takes 10; answers handled
    # 3 ms apart. A cap at the calls admitted before a refused one fixed this, but calls
    # that overtake each other on the way then set the pace at 1 (tests/rate_adversarial/
    # test_review5.py), so it was withdrawn.
    _, refused = simulate(10, 0.5, 60, hints=True, latency=0.01, phase=0.4, drain=0.003)
    assert sum(refused.values()) <= 50 + 2


@SIMULATION
@given(
    limit=st.integers(1, 60),
    window=st.sampled_from([0.5, 1.0, 60.0]),
    calls=st.integers(1, 300),
    phase_share=st.floats(0.0, 1.0),
)
def test_without_hints_every_call_still_finishes(
    limit: int, window: float, calls: int, phase_share: float
) -> None:
    latency = 0.01 * window
    wall, refused = simulate(
        limit, window, calls, hints=False, latency=latency, phase=phase_share * window
    )
    windows_needed = math.ceil(calls / limit)
    assert wall <= 1.6 * windows_needed * window + 2 * window
    # The first window's worth of the run is spent finding the limit: a run that starts
    # late in a server window probes across its boundary, so both windows it touches count
    # as the start.
    first = min(refused) if refused else None
    start = {first} if first is None or phase_share == 0.0 else {first, first + 1}
    later = sum(count for index, count in refused.items() if index not in start)
    # Probing costs a few refusals per window, never a storm of the whole line.
    assert later <= max(3, windows_needed) * 3


@SIMULATION
@given(
    limit=st.integers(1, 60),
    calls=st.integers(1, 300),
    latency_share=st.floats(0.0, 0.2),
    phase_share=st.floats(0.0, 1.0),
)
def test_requests_per_minute_set_to_the_limit_sees_no_429(
    limit: int, calls: int, latency_share: float, phase_share: float
) -> None:
    window = 60.0
    wall, refused = simulate(
        limit,
        window,
        calls,
        hints=True,
        latency=latency_share * 0.01,  # jitter-free: the client and server clocks agree
        phase=phase_share * window,
        rpm=limit,
    )
    assert refused == {}
    # A burst up to the limit goes at once; each later burst one window on.
    assert wall <= (math.ceil(calls / limit) - 1) * (window + 0.25) + 1


def test_requests_per_minute_allows_a_burst_then_waits_for_the_window() -> None:
    now = [0.0]
    governor = RateGovernor(clock=lambda: now[0])
    tickets = [governor.try_acquire(Turn(requests_per_minute=50)) for _ in range(30)]
    assert all(tickets)  # a 30-call job on a 50-per-minute plan is not spread out
    more = [governor.try_acquire(Turn(requests_per_minute=50)) for _ in range(20)]
    assert all(more)
    assert (
        governor.try_acquire(Turn(requests_per_minute=50)) is None
    )  # the 51st waits for the window
    assert 60.0 <= governor.next_turn_in(Turn(requests_per_minute=50)) <= 60.3


# --------------------------------------------------------------- over real sockets


@pytest.fixture
def limited() -> Iterator[SegmindEmulator]:
    """An emulator that admits 10 calls per key per half-second window."""
    with SegmindEmulator(rate_limit=(10, 0.5)) as emulator:
        yield emulator


def _client(emu: SegmindEmulator, **kw: Any) -> SegmindGeminiClient:
    return SegmindGeminiClient(emu.api_key, base_url=emu.base_url, model=SLUG, **kw)


def test_async_fan_out_past_one_window_loses_nothing(limited: SegmindEmulator) -> None:
    async def run() -> list[Any]:
        async with _client(limited, max_retries=0) as client:
            return await asyncio.gather(
                *(client.agenerate_content(HELLO) for _ in range(60)), return_exceptions=True
            )

    # Start just after a window opens (the emulator's windows start on multiples of 0.5 s
    # of Unix time). A burst late in a window whose 429s are still being read at its
    # reset brings a second storm: known, see
    # test_a_burst_late_in_a_window_read_slowly_brings_no_second_storm.
    time.sleep(0.5 - time.time() % 0.5 + 0.01)
    start = time.monotonic()
    results = asyncio.run(run())
    wall = time.monotonic() - start
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert all(r.text.startswith("emulated reply") for r in results)
    # 6 windows of 0.5 s; generous for a loaded CI machine.
    assert wall < 6.0
    # The first window refuses the burst (50); after it, about one refusal a window at
    # most (the probe that learns the window, or correcting a burst that spanned two).
    assert limited.rate_limited <= 50 + 8


def test_threads_and_two_clients_with_one_key_share_one_governor(
    limited: SegmindEmulator,
) -> None:
    first, second = _client(limited), _client(limited)
    assert first._governor is second._governor

    def job(index: int) -> list[str]:
        client = first if index % 2 else second
        return [client.generate_content(HELLO).text for _ in range(5)]

    with ThreadPoolExecutor(8) as pool:
        texts = [t for batch in pool.map(job, range(8)) for t in batch]
    assert len(texts) == 40
    first.close()
    # Closing one client leaves the shared governor (and the other client) working.
    assert second.generate_content(HELLO).text.startswith("emulated reply")
    status = second.rate_limit_status()
    assert status.waiting == 0 and status.admitted >= 41
    second.close()


def test_several_event_loops_share_the_governor(limited: SegmindEmulator) -> None:
    client = _client(limited)
    outcomes: list[int] = []

    def loop_in_thread() -> None:
        async def run() -> int:
            results = await asyncio.gather(*(client.agenerate_content(HELLO) for _ in range(15)))
            return len(results)

        outcomes.append(asyncio.run(run()))

    threads = [threading.Thread(target=loop_in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes == [15, 15]
    client.close()


def test_requests_per_minute_paces_from_the_first_call(limited: SegmindEmulator) -> None:
    async def run() -> None:
        async with _client(limited, requests_per_minute=10, rate_limit_window=0.5) as client:
            await asyncio.gather(*(client.agenerate_content(HELLO) for _ in range(30)))
            assert client.rate_limit_status().rate_limited == limited.rate_limited

    asyncio.run(run())
    # Unpaced, the first burst alone gets 20 refusals. Paced, none, except that on a
    # loaded machine a burst of 10 can take longer to reach the server than the pacing's
    # margin, and one that crosses the server's window boundary loses a few (seen: 3-4 in
    # a full CI run). The exact arithmetic is checked on a fake clock above.
    assert limited.rate_limited <= 5


def test_requests_per_minute_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, limited: SegmindEmulator
) -> None:
    monkeypatch.setenv("SEGMIND_REQUESTS_PER_MINUTE", "50")
    assert _client(limited).requests_per_minute == 50
    assert _client(limited, requests_per_minute=5).requests_per_minute == 5
    monkeypatch.setenv("SEGMIND_REQUESTS_PER_MINUTE", "fifty")
    with pytest.raises(InvalidRequestError, match="SEGMIND_REQUESTS_PER_MINUTE"):
        _client(limited)
    monkeypatch.delenv("SEGMIND_REQUESTS_PER_MINUTE")
    with pytest.raises(InvalidRequestError, match="requests_per_minute"):
        _client(limited, requests_per_minute=0)
    with pytest.raises(InvalidRequestError, match="max_rate_limit_wait"):
        _client(limited, max_rate_limit_wait=-1)


def test_queue_mode_goes_through_the_governor(limited: SegmindEmulator) -> None:
    limited.queue_polls = 0

    async def run() -> list[str]:
        async with _client(limited, api_mode="queue", poll_interval=0.01) as client:
            results = await asyncio.gather(*(client.agenerate_content(HELLO) for _ in range(25)))
            return [r.text for r in results]

    assert len(asyncio.run(run())) == 25
    assert limited.rate_limited <= 15 + 5


def test_a_daily_quota_fails_fast_for_this_call_and_the_next(
    segmind_emulator: SegmindEmulator,
) -> None:
    segmind_emulator.queue_google_error(
        429, "Quota exceeded for requests per day", "RESOURCE_EXHAUSTED", "7200s"
    )
    with _client(segmind_emulator) as client:
        start = time.monotonic()
        with pytest.raises(RateLimitError) as first:
            client.generate_content(HELLO)
        with pytest.raises(RateLimitError) as second:
            client.generate_content(HELLO)  # nothing is sent: the key is blocked
        assert time.monotonic() - start < 1.0
    assert first.value.retry_after == pytest.approx(7200, abs=1)
    # The governor trusts a far hint for LONGEST_BLOCK, then asks again; it says so.
    assert second.value.retry_after == pytest.approx(LONGEST_BLOCK, abs=5)
    assert "resets in 7200 s" in str(second.value)
    assert "max_rate_limit_wait" in str(second.value)
    assert len(segmind_emulator.requests) == 1


async def test_cancelling_a_waiting_call_frees_its_place(
    segmind_emulator: SegmindEmulator,
) -> None:
    segmind_emulator.queue_fault("rate_limit", reset_after=2.0)
    async with _client(segmind_emulator) as client:

        async def until_waiting(count: int) -> None:
            # The condition, not a fixed sleep: a loaded CI machine took over 0.2 s to
            # hand back the 429.
            for _ in range(200):
                if client.rate_limit_status().waiting == count:
                    return
                await asyncio.sleep(0.01)
            assert client.rate_limit_status().waiting == count

        first = asyncio.create_task(client.agenerate_content(HELLO))
        await until_waiting(1)  # refused; now waiting for the reset
        assert len(segmind_emulator.requests) == 1
        waiting = [asyncio.create_task(client.agenerate_content(HELLO)) for _ in range(3)]
        await until_waiting(4)
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        assert client.rate_limit_status().waiting == 1
        assert (await first).text.startswith("emulated reply")
        assert client.rate_limit_status().waiting == 0
    assert len(segmind_emulator.requests) == 2  # the cancelled calls sent nothing


def test_waiting_uses_no_part_of_the_http_timeout(segmind_emulator: SegmindEmulator) -> None:
    segmind_emulator.queue_fault("rate_limit", reset_after=1.0).queue_text("ok")
    with _client(segmind_emulator, timeout=0.5, max_retries=0) as client:
        assert client.generate_content(HELLO).text == "ok"


def test_throttling_is_logged_once_each_way_without_the_key(
    limited: SegmindEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="segmind_gemini")

    async def run() -> None:
        async with _client(limited) as client:
            await asyncio.gather(*(client.agenerate_content(HELLO) for _ in range(25)))

    asyncio.run(run())
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 2
    assert "wait their turn" in lines[0] and "server reset in" in lines[0]
    assert "no call waiting" in lines[1] and "answered 429" in lines[1]
    # The learned pace is named once two resets have shown the window's length (a loaded
    # machine may finish these 25 calls on one reset); the length is the gap between two
    # reset times, so it may read 0.499 s.
    learned = re.search(r"learned (\d+) per ([\d.]+) s", lines[1])
    assert learned is None or (learned[1] == "10" and abs(float(learned[2]) - 0.5) <= 0.01)
    assert all(limited.api_key not in line for line in lines)


def test_hintless_429s_still_end_in_answers() -> None:
    with SegmindEmulator(rate_limit=(10, 0.5), rate_limit_headers=False) as emu:

        async def run() -> list[Any]:
            async with _client(emu) as client:
                return await asyncio.gather(*(client.agenerate_content(HELLO) for _ in range(40)))

        assert len(asyncio.run(run())) == 40


def test_langchain_abatch_and_llama_index_fan_out_lose_nothing(
    limited: SegmindEmulator,
) -> None:
    from langchain_segmind_gemini import ChatSegmindGemini
    from llama_index_segmind_gemini import SegmindGemini

    chat = ChatSegmindGemini(
        model=SLUG, api_key=limited.api_key, base_url=limited.base_url, max_retries=0
    )
    llm = SegmindGemini(model=SLUG, api_key=limited.api_key, base_url=limited.base_url)

    async def run() -> tuple[list[Any], list[Any]]:
        messages = await chat.abatch([f"q{i}" for i in range(30)])
        answers = await asyncio.gather(*(llm.acomplete(f"q{i}") for i in range(30)))
        await llm.aclose()
        return messages, list(answers)

    messages, answers = asyncio.run(run())
    assert len(messages) == 30 and all(m.content for m in messages)
    assert len(answers) == 30 and all(a.text for a in answers)
    chat.close()


def test_a_skewed_server_clock_is_read_against_its_date_header() -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from segmind_gemini.client.retries import server_retry_hint

    now = datetime(2026, 11, 30, 12, 0, 0, 250_000, tzinfo=timezone.utc)
    server_now = now + timedelta(seconds=30)  # the server's clock runs 30 s ahead
    reset = (server_now + timedelta(seconds=5)).isoformat()
    date = format_datetime(server_now, usegmt=True)
    hint = server_retry_hint({"x-rate-limit-reset-at-utc": reset, "date": date}, None, now)
    assert hint is not None and 5.0 <= hint <= 6.0  # not 35 s
    # Clocks that agree to within two seconds keep our own, finer clock.
    near = format_datetime(now + timedelta(seconds=1), usegmt=True)
    reset_near = (now + timedelta(seconds=5)).isoformat()
    hint = server_retry_hint({"x-rate-limit-reset-at-utc": reset_near, "date": near}, None, now)
    assert hint == pytest.approx(5.0)


def test_a_reset_that_passed_in_transit_reaches_the_governor_signed() -> None:
    from datetime import datetime, timedelta, timezone

    from segmind_gemini.client.outcomes import classify
    from segmind_gemini.client.transport import RawResponse
    from segmind_gemini.settings import APIKey

    now = datetime(2026, 11, 30, 12, 0, 0, 250_000, tzinfo=timezone.utc)
    passed = (now - timedelta(seconds=1.5)).isoformat()
    body = b'{"error": {"message": "Too many requests"}}'
    raw = RawResponse(429, {"x-rate-limit-reset-at-utc": passed}, body, 0.1)
    verdict = classify(
        raw, method="POST", url="u", model=SLUG, key=APIKey("sk-test-0123456789"), now=lambda: now
    )
    # No wait for the caller (the error's retry_after is never negative) ...
    assert verdict.hint == 0.0 and verdict.error is not None
    assert verdict.error.retry_after == 0.0  # type: ignore[attr-defined]
    # ... but the governor learns when the window began.
    assert verdict.report.exact and verdict.report.retry_after == pytest.approx(-1.5)
    # A delay (Retry-After) is not a point in time: never negative, never exact.
    raw = RawResponse(429, {"retry-after": "0"}, body, 0.1)
    verdict = classify(
        raw, method="POST", url="u", model=SLUG, key=APIKey("sk-test-0123456789"), now=lambda: now
    )
    assert verdict.report.retry_after == 0.0 and not verdict.report.exact


def test_emulator_windows_and_the_cli_option() -> None:
    assert _rate_limit("50/60") == (50, 60.0)
    assert _rate_limit("20/1.5") == (20, 1.5)
    for bad in ("0/60", "x/60", "50/", "50/0"):
        with pytest.raises(Exception, match="N/SECONDS"):
            _rate_limit(bad)
    with pytest.raises(ValueError, match="rate_limit"):
        SegmindEmulator(rate_limit=(0, 1.0))


def test_langchain_rate_limiter_still_works_beside_the_governor(
    limited: SegmindEmulator,
) -> None:
    from langchain_core.rate_limiters import InMemoryRateLimiter

    from langchain_segmind_gemini import ChatSegmindGemini

    # LangChain's limiter spaces the calls (40/s); the server allows 10 per 0.5 s, so
    # the governor still holds the ones past the window for the reset.
    limiter = InMemoryRateLimiter(requests_per_second=40, check_every_n_seconds=0.01)
    chat = ChatSegmindGemini(
        model=SLUG,
        api_key=limited.api_key,
        base_url=limited.base_url,
        rate_limiter=limiter,
        max_rate_limit_wait=30,
    )
    assert chat.client.max_rate_limit_wait == 30
    messages = chat.batch([f"q{i}" for i in range(30)])
    assert len(messages) == 30 and all(m.content for m in messages)
    chat.close()
    paced = ChatSegmindGemini(model=SLUG, api_key="k-test", requests_per_minute=50)
    assert paced.client.requests_per_minute == 50
    paced.close()


def test_a_stopped_event_loop_does_not_hold_the_line() -> None:
    """Its waiters cannot take their turn; callers on other threads must not wait for them."""
    with SegmindEmulator(rate_limit=(5, 2.0)) as emu:
        client = _client(emu)
        dead = asyncio.new_event_loop()
        tasks = [dead.create_task(client.agenerate_content(HELLO)) for _ in range(10)]
        # Run the loop just long enough for the burst to be refused and to queue, then stop.
        dead.run_until_complete(asyncio.sleep(0.2))
        assert client.rate_limit_status().waiting > 0
        start = time.monotonic()
        with ThreadPoolExecutor(1) as pool:
            text = pool.submit(client.generate_content, HELLO).result(timeout=10).text
        assert text.startswith("emulated reply")
        assert time.monotonic() - start < 6  # one 2 s window, not max_rate_limit_wait
        for task in tasks:
            task.cancel()
        dead.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        dead.close()
        client.close()


def test_googles_quota_holds_back_its_model_not_the_key(
    segmind_emulator: SegmindEmulator,
) -> None:
    segmind_emulator.queue_google_error(
        429, "Quota exceeded for gemini-2.5-pro requests per day", "RESOURCE_EXHAUSTED", "7200s"
    )
    with _client(segmind_emulator) as client:
        with pytest.raises(RateLimitError):
            client.generate_content(HELLO, model="gemini-2.5-pro")
        with pytest.raises(RateLimitError):  # the same model: refused without sending
            client.generate_content(HELLO, model="gemini-2.5-pro")
        # Another model on the same key is not Google's quota for that model.
        assert client.generate_content(HELLO, model="gemini-2.5-flash").text
    assert len(segmind_emulator.requests) == 2


def test_a_stray_429_does_not_slow_the_rest_of_the_run(limited: SegmindEmulator) -> None:
    """429s that are not the window's (scripted faults) must not set a low pace for good."""

    async def run() -> float:
        async with _client(limited) as client:
            await asyncio.gather(*(client.agenerate_content(HELLO) for _ in range(30)))
            assert client.rate_limit_status().learned_limit == 10
            # Twice, a quiet moment: two lone calls, the second refused by a stray fault.
            # Judged by those windows alone the server took one call each time.
            for _ in range(2):
                await asyncio.sleep(0.5)
                await client.agenerate_content(HELLO)
                limited.queue_fault("rate_limit", reset_after=0.3)
                await client.agenerate_content(HELLO)
            start = time.monotonic()
            await asyncio.gather(*(client.agenerate_content(HELLO) for _ in range(80)))
            assert client.rate_limit_status().learned_limit == 10
            return time.monotonic() - start

    # 8 windows of 0.5 s at the full pace; a pace stuck low would take several times that.
    assert asyncio.run(run()) < 8.0


def test_a_reset_in_year_9999_blocks_the_key_only_so_long_then_one_call_asks() -> None:
    now = [0.0]
    governor = RateGovernor(clock=lambda: now[0])
    ticket = governor.acquire(Turn(), max_wait=1)
    absurd = 250_000 * 365 * 86400.0  # what a reset "in year 9999" comes to
    governor.record(ticket, 429, absurd)
    with pytest.raises(RateLimitError) as error:
        governor.acquire(Turn(), max_wait=900)
    assert error.value.retry_after == pytest.approx(LONGEST_BLOCK, abs=1)
    assert f"resets in {absurd:.0f} s" in str(error.value)
    now[0] = LONGEST_BLOCK + 1.0
    probe = governor.try_acquire(Turn())
    assert probe is not None  # one call goes to ask the server again
    governor.record(probe, 200)
    assert governor.try_acquire(Turn()) is not None


# ------------------------------------------- independent governors on one key (issue 16)


def simulate_independent(
    processes: int,
    limit: int,
    window: float,
    calls: int,
    latency: float,
    phase: float = 0.0,
    order: int | None = None,
) -> tuple[float, int]:
    """``processes`` that share nothing (each its own policy) against one fixed-window
    server; each sends its share of ``calls``, the first process's burst arriving first,
    or with ``order`` (a seed) one call at a time from a process drawn at random.

    Drives :class:`WindowPolicy` the way the waiting line does (admit while ``free_at``
    allows, ``busy`` while calls wait). Returns wall time over the floor, and the 429s.
    """
    now = phase
    policies = [WindowPolicy() for _ in range(processes)]
    backlog = [calls // processes + (i < calls % processes) for i in range(processes)]
    used: dict[int, int] = {}
    refused = 0
    answers: list[tuple[float, int, int, Any, int, float | None]] = []
    sent = done = 0
    pick = random.Random(order).choice if order is not None else None

    def ready() -> list[int]:
        return [
            p for p in range(processes) if backlog[p] and policies[p].free_at(now, Turn()) <= now
        ]

    while done < calls:
        # Whoever may send does: the first process's whole burst first, or one call at a
        # time from a process drawn at random (calls of bursts interleave at the server).
        while senders := ready():
            p = senders[0] if pick is None else pick(senders)
            ticket = policies[p].admit(now, Turn(), busy=backlog[p] > 1)
            backlog[p] -= 1
            arrival = now + latency
            index = math.floor(arrival / window)
            status, hint = 200, None
            if used.get(index, 0) < limit:
                used[index] = used.get(index, 0) + 1
            else:
                status, hint = 429, (index + 1) * window - (arrival + latency)
                refused += 1
            sent += 1
            heapq.heappush(answers, (arrival + latency, sent, p, ticket, status, hint))
        upcoming = answers[0][0] if answers else math.inf
        for p, policy in enumerate(policies):
            if backlog[p]:
                upcoming = min(upcoming, max(policy.free_at(now, Turn()), now + 1e-6))
        assert upcoming < math.inf, "nothing to wait for: a policy deadlocked"
        now = upcoming
        assert now - phase < 200 * window * (calls / limit + 2), "did not finish"
        while answers and answers[0][0] <= now:
            _, _, p, ticket, status, hint = heapq.heappop(answers)
            # Signed, as the client reports x-rate-limit-reset-at-utc: a reset that passed
            # while the answer travelled still says when a window began.
            policies[p].record(ticket, status, hint, now, busy=True)
            if status == 429:
                backlog[p] += 1
            else:
                done += 1
    # The floor: the earliest a sender that knew everything could finish. Its first
    # calls land in the window open on arrival; the last lands as the last window it
    # needs opens, and its answer takes the way back.
    first = math.floor((phase + latency) / window)
    last_opens = (first + math.ceil(calls / limit) - 1) * window
    floor = max(last_opens, phase + latency) + latency - phase
    return (now - phase) / floor, refused


FAIRNESS = settings(max_examples=60, deadline=None, derandomize=True)


@FAIRNESS
@given(
    processes=st.integers(1, 8),
    limit=st.integers(2, 40),
    window=st.sampled_from([1.0, 2.0, 10.0, 60.0]),
    windows=st.integers(2, 8),
    latency_share=st.floats(0.0, 0.3),
    phase_share=st.floats(0.0, 1.0),
    order=st.none() | st.integers(0, 2**16),
)
def test_independent_governors_on_one_key_all_finish(
    processes: int,
    limit: int,
    window: float,
    windows: int,
    latency_share: float,
    phase_share: float,
    order: int | None,
) -> None:
    # Processes that share nothing never deadlock and lose nothing, whatever the phase,
    # at any latency up to 30% of a window, and even short runs do not collapse. The
    # worst seen (6,000 random draws over these ranges) is 4.5x, all on runs of two
    # windows started late in one, where the floor is a fraction of a window.
    ratio, _ = simulate_independent(
        processes,
        limit,
        window,
        limit * windows,
        latency_share * window,
        phase_share * window,
        order,
    )
    assert ratio <= 5.0


@FAIRNESS
@given(
    processes=st.integers(2, 8),
    limit=st.integers(2, 40),
    window=st.sampled_from([1.0, 2.0, 10.0, 60.0]),
    windows=st.integers(4, 16),
    latency_share=st.floats(0.0, 0.3),
    phase_share=st.just(0.0) | st.floats(0.0, 1.0),
    order=st.none() | st.integers(0, 2**16),
)
def test_independent_governors_converge_on_fair_shares(
    processes: int,
    limit: int,
    window: float,
    windows: int,
    latency_share: float,
    phase_share: float,
    order: int | None,
) -> None:
    # Issue 16: 2-8 processes that share nothing, started together at a window boundary
    # (as the issue measures), finish within 2x the floor at any latency up to 30% of a
    # window: each learns its share from refusals, a process on a crowded key asks for
    # room while the window is open, and one at a confirmed limit now and then tries one
    # more, so the share of a process that finished is taken back. Worst seen over 3,000
    # random draws: 1.76x (before stores 11x; before passed resets were read and shares
    # taken back, 4.1x with answers within 10% of a window and 8.3x within 30%). Started
    # anywhere in a window, 9,000 draws reach 2.28x. Runs of 2-3 windows reach 2.7x (see
    # test_independent_governors_on_one_key_all_finish).
    ratio, _ = simulate_independent(
        processes,
        limit,
        window,
        limit * windows,
        latency_share * window,
        phase_share * window,
        order,
    )
    assert ratio <= (2.0 if phase_share == 0.0 else 2.5)


@pytest.mark.parametrize("limit", [2, 5, 20, 60])
@pytest.mark.parametrize("latency", [0.0, 0.1, 0.3])
def test_a_process_alone_at_its_limit_tries_for_more_ever_more_rarely(
    limit: int, latency: float
) -> None:
    # The price of taking shares back: a process alone at its limit cannot tell it from
    # a share, so it tries one more call after 1, 2, 4, ... full windows (at most 64).
    windows = 100
    ratio, refused = simulate_independent(1, limit, 1.0, limit * windows, latency)
    assert ratio <= 1.05
    first_burst = limit * (windows - 1)
    climbs = refused - first_burst
    # One probe learns the window's length; then one refused try per doubling.
    assert 1 <= climbs <= 2 + math.ceil(math.log2(windows))


@pytest.mark.parametrize("processes", [2, 3, 4])
@pytest.mark.parametrize(("window", "latency"), [(2.0, 0.01), (60.0, 5.0), (1.0, 0.3)])
def test_processes_left_with_nothing_by_the_first_burst_take_their_share_back(
    processes: int, window: float, latency: float
) -> None:
    # The first process's burst takes the whole first window; the others, refused in a
    # window that was open, know the key is crowded and grow past what they were given
    # once the first stops (before stores: 11.6x, 7.7x and 5.7x the floor).
    ratio, _ = simulate_independent(processes, 20, window, 200, latency)
    assert ratio <= 2.0

"""The rate governor: one per (API key, origin) in a process, shared by every client.

Segmind counts requests per account in fixed windows (5 a minute on the free plan, 50 on
Pro) and answers the rest ``429`` with the window's end in ``x-rate-limit-reset-at-utc``.
Retrying each call on its own turns a batch larger than one window into a storm of 429s
that ends in lost calls. The governor makes every call wait its turn instead:

* After a 429 that says when the window ends, nothing is sent for that key until then;
  afterwards calls are admitted at the rate the server accepted in the window that was
  refused (learned from what succeeded), and once two window ends have been seen, at the
  start of each new window. No herd after a reset, no second storm.
* After a 429 with no hint, one probe at a time finds the moment the server accepts
  again (waits grow by half each refusal; the next round starts near where the last one
  reopened).
* ``requests_per_minute`` paces from the first call: at most that many requests in any
  window of ``window`` seconds (a burst up to the limit goes at once).

Waiting is not failing: it uses no retries and no HTTP timeout. It is bounded by the
caller's ``max_wait``; a turn (or a reset) further away than that fails at once with
:class:`~segmind_gemini.errors.RateLimitError` and its ``retry_after``.

The state is guarded by one ``threading.Lock``; sync callers wait on a
``threading.Event`` and async callers on an ``asyncio.Event`` of their own loop, so
threads and any number of event loops share one governor. Only the caller at the head
of the line keeps a timer; the others sleep until they are woken, in order.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import RateLimitError

__all__ = [
    "RateGovernor",
    "RateLimitStatus",
    "Ticket",
    "Turn",
    "forget_rate_limits",
    "governor_for",
]

logger = logging.getLogger("segmind_gemini")

#: How long a caller at the head of the line sleeps while a probe is out, at most.
_PROBE_POLL = 0.5
#: How often a caller behind the head looks in, in case the head's event loop stopped.
_LINE_POLL = 1.0
#: A probe unanswered this long is forgotten (its caller's loop may have died with it).
_PROBE_STALE = 150.0
#: Two reset times closer than this name the same window end (a whole second more when
#: the hint came in whole seconds, as ``Retry-After`` does).
_SAME_RESET = 0.1
#: The most a learned reset margin may grow to: how late the server's reset really is.
_MAX_MARGIN = 2.0
#: The first and the longest wait after a 429 that carried no hint.
_HINTLESS_FIRST = 0.1
_HINTLESS_MAX = 10.0


@dataclass(frozen=True)
class RateLimitStatus:
    """What the governor of one key and origin knows and is doing.

    Attributes:
        requests_per_minute: the pace the calling client configured, if any.
        learned_limit: requests the server accepted in the last window it refused.
        learned_window: the server's window in seconds, once two window ends were seen.
        waiting: calls waiting for their turn right now.
        blocked_for: seconds until the server's reset (0 when calls may go).
        rate_limited: 429 answers seen since the governor was created.
        admitted: requests admitted since the governor was created.
    """

    requests_per_minute: int | None
    learned_limit: int | None
    learned_window: float | None
    waiting: int
    blocked_for: float
    rate_limited: int
    admitted: int

    @property
    def learned_requests_per_minute(self) -> float | None:
        """The learned rate scaled to a minute, when both limit and window are known."""
        if self.learned_limit is None or not self.learned_window:
            return None
        return self.learned_limit * 60.0 / self.learned_window


@dataclass(frozen=True)
class Turn:
    """What one call asks the governor for.

    Attributes:
        counted: it uses the account's quota (a model call; queue polls are not counted
            and only wait out a server reset).
        requests_per_minute: the calling client's pace, if it set one.
        window: the seconds ``requests_per_minute`` counts over.
        model: the slug, for Google quotas that hold back one model.
    """

    counted: bool = True
    requests_per_minute: int | None = None
    window: float = 60.0
    model: str | None = None


class Ticket:
    """One admitted request; hand it back with :meth:`RateGovernor.record`."""

    __slots__ = ("admitted_at", "counted", "done", "epoch", "model", "probe", "queued", "window")

    def __init__(self, admitted_at: float, counted: bool, window: int, epoch: int) -> None:
        self.model: str | None = None
        self.admitted_at = admitted_at
        self.counted = counted
        self.window = window
        self.epoch = epoch
        self.probe = False
        self.done = False
        #: It waited in line (it was not admitted on arrival).
        self.queued = False


class _Waiter:
    __slots__ = ("alive", "evicted", "ticket", "turn", "wake")

    def __init__(
        self, turn: Turn, wake: Callable[[], None], alive: Callable[[], bool] = lambda: True
    ) -> None:
        self.turn = turn
        self.wake = wake
        self.alive = alive
        self.evicted = False
        self.ticket: Ticket | None = None


class RateGovernor:
    """Admits requests for one API key and origin; see the module docstring.

    >>> gov = RateGovernor()
    >>> ticket = gov.acquire(Turn(), max_wait=900)
    >>> gov.record(ticket, 200)
    >>> gov.status().admitted
    1
    """

    def __init__(self, name: str = "", *, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()
        self._learn_afresh()

    def forget(self) -> None:
        """Drop everything learned and counted (waiting calls keep their places)."""
        with self._lock:
            self._learn_afresh()
            wakes = [waiter.wake for waiter in self._waiters]
        for wake in wakes:
            wake()

    def _learn_afresh(self) -> None:
        # Admission times of counted requests, for requests_per_minute (oldest first).
        self._sent: list[float] = []
        self._keep = 60.0
        self._log_sends = False  # only once some client paces by requests_per_minute
        # What the server taught us.
        self._blocked_until = 0.0
        self._limit: int | None = None
        self._limit_window = -1
        self._taken: deque[int] = deque(maxlen=3)
        self._probe_not_before = 0.0
        self._win_len: float | None = None
        self._win_end: float | None = None
        self._last_reset: float | None = None
        # When the current window opened by our reckoning, and how late after a reset
        # the server has been seen to really accept (rounded or skewed hints).
        self._opened_at: float | None = None
        self._reset_margin = 0.01
        self._early = False
        self._model_blocked: dict[str, float] = {}
        self._window = 0
        self._win_sent = 0
        # Per window of ours: requests sent, and how many of them the server refused.
        self._sent_by: dict[int, int] = {0: 0}
        self._refused_by: dict[int, int] = {0: 0}
        self._probe: Ticket | None = None
        self._epoch = 0
        self._hintless_level = 0
        self._hintless_since = 0.0
        self._hintless_gap: float | None = None
        # Counters and the throttling log lines.
        self._admitted = 0
        self._rate_limited = 0
        self._throttled_since: float | None = None
        self._throttled_from = (0, 0)

    # ------------------------------------------------------------------ public view

    def status(self, requests_per_minute: int | None = None) -> RateLimitStatus:
        """A snapshot; ``requests_per_minute`` is echoed for the caller's client."""
        with self._lock:
            now = self._clock()
            return RateLimitStatus(
                requests_per_minute=requests_per_minute,
                learned_limit=self._limit,
                learned_window=self._win_len,
                waiting=len(self._waiters),
                blocked_for=max(0.0, self._blocked_until - now),
                rate_limited=self._rate_limited,
                admitted=self._admitted,
            )

    # -------------------------------------------------------------------- admission

    def acquire(self, turn: Turn, *, max_wait: float, front: bool = False) -> Ticket:
        """Wait (blocking this thread) for a turn; raise ``RateLimitError`` past ``max_wait``.

        ``front=True`` puts a call that was just refused ahead of the line, since it has
        waited longest.
        """
        ticket = self._try_now(turn)
        if ticket is not None:
            return ticket
        event = threading.Event()
        waiter = _Waiter(turn, event.set)
        deadline = self._join(waiter, front, max_wait)
        try:
            while True:
                event.clear()
                timeout = self._turn(waiter, deadline)
                if waiter.ticket is not None:
                    return waiter.ticket
                event.wait(timeout)
        except BaseException:
            self._leave(waiter)
            raise

    async def acquire_async(self, turn: Turn, *, max_wait: float, front: bool = False) -> Ticket:
        """The async form of :meth:`acquire`; cancelling it frees the place in line."""
        ticket = self._try_now(turn)
        if ticket is not None:
            return ticket
        loop = asyncio.get_running_loop()
        event = asyncio.Event()

        def wake() -> None:
            # A closed loop's waiter is gone with it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

        def alive() -> bool:
            # A stopped or closed loop cannot take its turn: the line must not wait on it.
            return loop.is_running() and not loop.is_closed()

        waiter = _Waiter(turn, wake, alive)
        deadline = self._join(waiter, front, max_wait)
        try:
            while True:
                event.clear()
                timeout = self._turn(waiter, deadline)
                if waiter.ticket is not None:
                    return waiter.ticket
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout)
        except BaseException:
            self._leave(waiter)
            raise

    def record(
        self,
        ticket: Ticket,
        status: int | None,
        retry_after: float | None = None,
        *,
        exact: bool = True,
        upstream: bool = False,
    ) -> None:
        """Report how an admitted request ended.

        ``status`` is the HTTP status (``None`` when no answer came back); ``retry_after``
        is the server's hint in seconds for a 429, if it sent one. ``exact``: the hint was
        a point in time (``x-rate-limit-reset-at-utc``), not a rounded delay, so window
        lengths may be learned from it. ``upstream``: the 429 is Google's own quota for
        the ticket's model (``RetryInfo``), which holds back that model, not the key.
        """
        if ticket.done:
            return
        with self._lock:
            ticket.done = True
            now = self._clock()
            if self._probe is ticket:
                self._probe = None
            if status == 429 and upstream and ticket.model is not None:
                self._rate_limited += 1
                until = now + (retry_after if retry_after is not None else _HINTLESS_FIRST)
                self._model_blocked[ticket.model] = max(
                    self._model_blocked.get(ticket.model, 0.0), until
                )
            elif status == 429:
                self._refused(ticket, retry_after, now, exact)
            elif status is not None and ticket.counted:
                self._accepted_one(ticket, now)
            wakes = self._pump(now, None)
            self._maybe_log_end(now)
        for wake in wakes:
            wake()

    def release(self, ticket: Ticket) -> None:
        """Give back a turn that was never used (the call was cancelled before sending)."""
        if ticket.done:
            return
        with self._lock:
            ticket.done = True
            if self._probe is ticket:
                self._probe = None
            if ticket.counted:
                if ticket.window == self._window and self._win_sent > 0:
                    self._win_sent -= 1
                index = bisect.bisect_left(self._sent, ticket.admitted_at)
                if index < len(self._sent) and self._sent[index] == ticket.admitted_at:
                    del self._sent[index]
            wakes = self._pump(self._clock(), None)
        for wake in wakes:
            wake()

    def next_turn_in(self, turn: Turn = Turn()) -> float:
        """Seconds until a call at the head of the line could go (0 when it could now)."""
        with self._lock:
            now = self._clock()
            return max(0.0, self._free_at(now, turn) - now)

    # ------------------------------------------------------------------- internals

    def _try_now(self, turn: Turn) -> Ticket | None:
        with self._lock:
            if turn.requests_per_minute is not None:
                self._log_sends = True
            if self._waiters:
                return None
            now = self._clock()
            if self._free_at(now, turn) > now:
                return None
            return self._admit(now, turn)

    def _join(self, waiter: _Waiter, front: bool, max_wait: float) -> float:
        """Put ``waiter`` in line; return its deadline."""
        deadline = self._clock() + max_wait
        self._enqueue(waiter, front)
        return deadline

    def _enqueue(self, waiter: _Waiter, front: bool) -> None:
        with self._lock:
            if front:
                self._waiters.appendleft(waiter)
            else:
                self._waiters.append(waiter)
            if self._throttled_since is None:
                now = self._clock()
                self._throttled_since = now
                self._throttled_from = (self._admitted, self._rate_limited)
                logger.info(
                    "segmind_gemini: rate limit on %s: calls now wait their turn (%s)",
                    self.name or "this key",
                    self._describe(now),
                )

    def _leave(self, waiter: _Waiter) -> None:
        with self._lock:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            ticket, waiter.ticket = waiter.ticket, None
        if ticket is not None:
            self.release(ticket)
        else:
            with self._lock:
                wakes = self._pump(self._clock(), None)
                self._maybe_log_end(self._clock())
            for wake in wakes:
                wake()

    def _turn(self, waiter: _Waiter, deadline: float) -> float:
        """Try to admit; return how long ``waiter`` may sleep, or raise when it cannot wait."""
        with self._lock:
            now = self._clock()
            if waiter.evicted:
                # Its loop stopped while it waited and the line moved on; it is back.
                waiter.evicted = False
                self._waiters.appendleft(waiter)
            wakes = self._pump(now, waiter)
            if waiter.ticket is None:
                free_at = self._free_at(now, waiter.turn)
                if self._waiters and self._waiters[0] is waiter:
                    sleep = free_at - now
                    if free_at > deadline:
                        self._waiters.remove(waiter)
                        wakes.extend(self._pump(now, None))
                        error = self._too_long(sleep, deadline - now)
                    else:
                        error = None
                else:
                    # Not at the head: the head's caller wakes us in order, but look in
                    # now and then in case the head's event loop stopped.
                    sleep = min(deadline - now, _LINE_POLL)
                    if deadline - now <= 0:
                        self._waiters.remove(waiter)
                        wakes.extend(self._pump(now, None))
                        error = self._too_long(max(free_at - now, 0.001), 0.0)
                    else:
                        error = None
            else:
                sleep, error = 0.0, None
        for wake in wakes:
            wake()
        if error is not None:
            raise error
        return max(sleep, 0.0)

    def _too_long(self, needed: float, left: float) -> RateLimitError:
        needed = max(needed, 0.0)
        return RateLimitError(
            f"Rate limited: the next turn for this key is {needed:.1f} s away, longer than "
            f"the {max(left, 0.0):.1f} s this call may still wait (max_rate_limit_wait); "
            "try again later or raise max_rate_limit_wait",
            status_code=429,
            retry_after=needed,
        )

    def _pump(self, now: float, caller: _Waiter | None) -> list[Callable[[], None]]:
        """Admit waiters from the head while they may go; return whom to wake."""
        wakes: list[Callable[[], None]] = []
        while self._waiters:
            head = self._waiters[0]
            if head is not caller and not head.alive():
                self._waiters.popleft()
                head.evicted = True
                continue
            if self._free_at(now, head.turn) > now:
                if head is not caller:
                    wakes.append(head.wake)  # it sets its own timer
                break
            self._waiters.popleft()
            head.ticket = self._admit(now, head.turn)
            head.ticket.queued = True
            if head is not caller:
                wakes.append(head.wake)
        return wakes

    def _free_at(self, now: float, turn: Turn) -> float:
        """The earliest time a request may be admitted."""
        model, rpm, window = turn.model, turn.requests_per_minute, turn.window
        at = max(now, self._blocked_until)
        if model is not None and self._model_blocked:
            at = max(at, self._model_blocked.get(model, 0.0))
        if self._probe is not None and now - self._probe.admitted_at > _PROBE_STALE:
            self._probe = None
        if not turn.counted:
            return at
        if rpm is not None:
            # Room for the jitter between our admission and the server's arrival time.
            margin = min(0.25, 0.002 * window + 0.05)
            first = bisect.bisect_right(self._sent, at - window - margin)
            if len(self._sent) - first >= rpm:
                at = max(at, self._sent[len(self._sent) - rpm] + window + margin)
        if self._limit is not None:
            end = self._win_end
            if end is not None and at >= self._opening(end):
                return at  # a new window starts by then
            if self._win_sent >= self._limit:
                if end is not None:
                    return max(at, self._opening(end))
                if self._probe is not None:
                    return max(at, now + _PROBE_POLL)  # the probe's answer wakes the line
                return max(at, self._probe_not_before)
        return at

    def _margin_cap(self) -> float:
        return min(_MAX_MARGIN, 0.5 * self._win_len) if self._win_len else _MAX_MARGIN

    def _opening(self, end: float) -> float:
        """When to send after a window ending at ``end``: just after it, not on it."""
        return end + self._reset_margin + 0.002 * (self._win_len or 1.0)

    def _roll(self, now: float) -> None:
        end = self._win_end
        if end is None or now < self._opening(end):
            return
        if self._win_len:
            skipped = int((now - end) // self._win_len)
            end += skipped * self._win_len
            self._win_end = end + self._win_len
        else:
            self._win_end = None
        self._opened_at = end
        self._new_window()

    def _new_window(self) -> None:
        closing = self._window
        if (
            self._limit is not None
            and self._waiters
            and self._refused_by.get(closing, 0) == 0
            and self._sent_by.get(closing, 0) >= self._limit
        ):
            # The server took a full window without refusing: the pace may be low (a
            # stray 429 taught it). Grow it back quickly, but never past the most a
            # recently refused window took, so the true limit is not overshot.
            ceiling = max((t for t in self._taken if t > 0), default=self._limit)
            self._limit = min(ceiling, self._limit + max(1, self._limit // 2))
        self._window += 1
        self._win_sent = 0
        self._sent_by[self._window] = 0
        self._refused_by[self._window] = 0
        for old in [w for w in self._sent_by if w < self._window - 4]:
            del self._sent_by[old]
            self._refused_by.pop(old, None)

    def _admit(self, now: float, turn: Turn) -> Ticket:
        ticket = Ticket(now, turn.counted, self._window, self._epoch)
        ticket.model = turn.model
        if not turn.counted:
            return ticket
        self._roll(now)
        ticket.window = self._window
        if (
            self._limit is not None
            and self._win_sent >= self._limit
            and self._win_end is None
            and self._probe is None
        ):
            ticket.probe = True
            self._probe = ticket
        self._win_sent += 1
        self._sent_by[self._window] = self._sent_by.get(self._window, 0) + 1
        self._admitted += 1
        if self._log_sends:
            if turn.window > self._keep:
                self._keep = turn.window
            self._sent.append(now)
            if len(self._sent) > 64 and self._sent[0] < now - self._keep - 1:
                del self._sent[: bisect.bisect_left(self._sent, now - self._keep - 1)]
        return ticket

    def _accepted_one(self, ticket: Ticket, now: float) -> None:
        if ticket.probe and ticket.window == self._window:
            # The server took one more than the last window held: a new window began
            # (if the limit is higher instead, the next refusal counts it).
            if self._hintless_level:
                self._hintless_gap = max(_HINTLESS_FIRST, ticket.admitted_at - self._hintless_since)
                self._hintless_level = 0
                if self._early and self._opened_at is not None:
                    # The reset we trusted was early: the server took this one this much
                    # later, so later windows open that much after their reset.
                    late = ticket.admitted_at - self._opened_at
                    self._reset_margin = min(self._margin_cap(), max(self._reset_margin, late))
                self._early = False
            # The next probe waits for most of a window: one sent at once would only
            # land in the window just opened.
            self._probe_not_before = ticket.admitted_at + 0.9 * (
                self._hintless_gap or _HINTLESS_FIRST
            )
            self._sent_by[self._window] -= 1
            self._new_window()
            self._win_sent = 1
            self._sent_by[self._window] = 1
            ticket.window = self._window

    def _refused(
        self, ticket: Ticket, retry_after: float | None, now: float, exact: bool = True
    ) -> None:
        self._rate_limited += 1
        if ticket.counted and self._log_sends:
            # The server did not count a refused call: neither does requests_per_minute.
            index = bisect.bisect_left(self._sent, ticket.admitted_at)
            if index < len(self._sent) and self._sent[index] == ticket.admitted_at:
                del self._sent[index]
        window = ticket.window
        if ticket.counted and window in self._refused_by:
            self._refused_by[window] += 1
            if window >= self._limit_window and (window == self._window or self._limit is None):
                # What the server took from this window: everything sent but what it
                # refused. Counting refusals (which come back fast) rather than answers
                # (which may take 40 s) keeps the estimate right under any latency.
                taken = self._sent_by[window] - self._refused_by[window]
                if window != self._limit_window:
                    self._taken.append(taken)
                else:
                    self._taken[-1] = taken
                self._limit_window = window
                # A window that took nothing was not open yet (we came early): that says
                # when, not how many. Of the others, the (lower) median of the last three:
                # one window cut by a boundary (too few) or spanning two (too many) does
                # not set the pace for long, and a clean window grows it back (below).
                counts = sorted(t for t in self._taken if t > 0)
                if counts:
                    self._limit = counts[(len(counts) - 1) // 2]
                elif self._limit is None:
                    self._limit = 1
        if retry_after is not None:
            if retry_after > 0.01:
                self._reset_at(now + retry_after, exact=exact)
                return
            if ticket.window != self._window:
                return  # a late answer from a window that has ended
            # The reset is already past by our clock: the hint was rounded down or the
            # clocks disagree. Open later windows a little later, and probe for this one.
            if (
                not self._early
                and self._opened_at is not None
                and ticket.admitted_at >= self._opened_at
            ):
                self._early = True
                self._reset_margin = min(self._margin_cap(), max(0.05, 2 * self._reset_margin))
        # No usable hint: back off, then let one probe find when the server accepts again.
        if ticket.window == self._window:
            self._win_end = None
            if self._limit is not None:
                self._win_sent = max(self._win_sent, self._limit)
        if ticket.epoch < self._epoch:
            return  # admitted before the current back-off began: nothing new to learn
        self._epoch += 1
        if self._hintless_level == 0:
            self._hintless_since = now
            wait = 0.9 * self._hintless_gap if self._hintless_gap else _HINTLESS_FIRST
        else:
            step = max(_HINTLESS_FIRST, 0.1 * (self._hintless_gap or 0.0))
            wait = min(_HINTLESS_MAX, step * 1.5 ** (self._hintless_level - 1))
        self._hintless_level += 1
        self._blocked_until = max(self._blocked_until, now + wait)

    def _reset_at(self, reset: float, *, exact: bool = True) -> None:
        """The server said its window ends at ``reset`` (monotonic seconds)."""
        # A delay (Retry-After, retryDelay) is rounded and shifted by latency: it may
        # block, but two of them are too rough to measure a window's length with.
        same = _SAME_RESET if exact else _SAME_RESET + 1.0
        if self._last_reset is not None and reset < self._last_reset - same:
            return  # a late answer about a window that has ended
        if self._last_reset is None or reset > self._last_reset + same:
            if self._last_reset is not None and exact:
                gap = reset - self._last_reset
                self._win_len = gap if self._win_len is None else min(self._win_len, gap)
            self._last_reset = reset
            self._epoch += 1
        self._hintless_level = 0
        self._win_end = max(reset, self._win_end or 0.0)
        if self._limit is not None:
            self._win_sent = max(self._win_sent, self._limit)
        # Land just after the server's reset, not on it (the hint may be rounded down).
        self._blocked_until = max(self._blocked_until, self._opening(reset))

    def _describe(self, now: float) -> str:
        parts = [f"{len(self._waiters)} waiting"]
        if self._blocked_until > now:
            parts.append(f"server reset in {self._blocked_until - now:.1f} s")
        if self._limit is not None:
            per = f"{self._win_len:.3g} s" if self._win_len else "window"
            parts.append(f"admitting {self._limit} per {per}")
        return ", ".join(parts)

    def _maybe_log_end(self, now: float) -> None:
        if self._throttled_since is None or self._waiters:
            return
        admitted = self._admitted - self._throttled_from[0]
        refused = self._rate_limited - self._throttled_from[1]
        logger.info(
            "segmind_gemini: rate limit on %s: no call waiting any more after %.1f s "
            "(%d admitted, %d answered 429%s)",
            self.name or "this key",
            now - self._throttled_since,
            admitted,
            refused,
            f"; learned {self._limit} per {self._win_len:.3g} s"
            if self._limit is not None and self._win_len
            else "",
        )
        self._throttled_since = None


_registry: dict[tuple[str, str], RateGovernor] = {}
_registry_lock = threading.Lock()


def governor_for(api_key: str, origin: str) -> RateGovernor:
    """The process-wide governor of ``api_key`` at ``origin`` (created on first use).

    Keyed by a hash of the key, so the registry holds no secret.
    """
    digest = hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).hexdigest()
    key = (digest, origin.lower())
    with _registry_lock:
        governor = _registry.get(key)
        if governor is None:
            governor = _registry[key] = RateGovernor(origin)
        return governor


def forget_rate_limits(origin: str | None = None) -> None:
    """Make every governor (or those of ``origin``) forget what it learned.

    For tests: a 429 scripted in one test must not hold back the next one.
    :meth:`SegmindEmulator.reset() <segmind_gemini.testing.SegmindEmulator.reset>` calls it
    for its own origin.
    """
    with _registry_lock:
        governors = [g for (_, o), g in _registry.items() if origin is None or o == origin.lower()]
    for governor in governors:
        governor.forget()


def _forget_after_fork() -> None:
    # A child must not inherit a lock held by a thread that no longer exists.
    global _registry_lock
    _registry_lock = threading.Lock()
    _registry.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)

"""The waiting line: one governor per (API key, origin, store) in a process.

The policy (``policy.py``) says when a call may go; the store (``store.py``) keeps that
policy where every process sharing it sees it; this module makes calls wait for their
turn. Sync callers wait on a ``threading.Event``, async callers on an ``asyncio.Event``
of their own loop, so threads and any number of event loops share one governor. Only
the call at the head of the line keeps a timer; the others sleep until woken, in order.
With a shared store the head also looks in every :data:`SHARED_POLL` seconds, since
another process may have changed the state.

Waiting is not failing: it uses no retries and no HTTP timeout. It is bounded by the
caller's ``max_wait``; a turn further away fails at once with
:class:`~segmind_gemini.errors.RateLimitError` and its ``retry_after``.

A store that fails (Redis gone, a file that cannot be written) makes the governor carry
on alone from the last state it saw, with one WARNING; it tries the store again every
:data:`STORE_RETRY` seconds and says INFO when it rejoins.

Once a limit is learned, every counted call is counted in the store *before* it is sent,
so the store's count of a window is never behind what the server saw, and a pace learned
from a refusal is the server's. While nothing is learned, calls go without asking the store
for ``RateStore.idle_recheck`` seconds after a look (SQLite 10 ms, Redis 50 ms) and are
counted there on the next look: a transaction a call would cost a third of a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from segmind_gemini.errors import RateLimitError
from segmind_gemini.ratelimit.policy import LONGEST_BLOCK, Ticket, Turn, WindowPolicy
from segmind_gemini.ratelimit.store import ProcessStore, RateStore, StoreUnavailable

__all__ = ["RateGovernor", "RateLimitStatus"]

logger = logging.getLogger("segmind_gemini")
T = TypeVar("T")

#: How often a caller behind the head looks in, in case the head's event loop stopped.
LINE_POLL = 1.0
#: How long the head sleeps at most with a shared store (another process may act).
SHARED_POLL = 0.25
#: How long after a store failed it is tried again.
STORE_RETRY = 5.0


@dataclass(frozen=True)
class RateLimitStatus:
    """What the governor of one key and origin knows and is doing.

    Attributes:
        requests_per_minute: the pace the calling client configured, if any.
        learned_limit: requests the server accepted in the last window it refused.
        learned_window: the server's window in seconds, once two window ends were seen.
        waiting: calls waiting for their turn right now (in this process).
        blocked_for: seconds until the server's reset (0 when calls may go).
        rate_limited: 429 answers this process saw since the governor was created.
        admitted: requests this process admitted since the governor was created.
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


_ANY_TURN = Turn()


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


@dataclass
class _Plan:
    """What one pass over the line decided inside a store transaction."""

    admitted: list[tuple[_Waiter, Ticket]]
    head_wait: float  # seconds until the first waiter left could go
    claimed: float = 0.0  # seconds until the reset a server claimed, when capped


class RateGovernor:
    """Admits requests for one API key and origin; see the module docstring.

    >>> gov = RateGovernor()
    >>> ticket = gov.acquire(Turn(), max_wait=900)
    >>> gov.record(ticket, 200)
    >>> gov.status().admitted
    1
    """

    def __init__(
        self,
        name: str = "",
        *,
        clock: Callable[[], float] = time.monotonic,
        store: RateStore | None = None,
        key: str = "",
    ) -> None:
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()
        self._store = store
        self._key = key
        self._origin = name.lower()
        # Carrying on alone: the last state seen, on the wall clock for a shared store
        # (what SQLite uses; Redis's clock is as close as the machines' NTP).
        self._alone = ProcessStore(clock if store is None else time.time)
        self._down_until = 0.0
        self._warned = False
        # The idle fast path: admissions not yet counted in the store.
        self._idle_until = 0.0
        self._idle_window = 0
        self._idle_epoch = 0
        self._pending = 0
        self.last_used = time.monotonic()
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._admitted = 0
        self._rate_limited = 0
        self._throttled_since: float | None = None
        self._throttled_from = (0, 0)

    def idle_since(self, now: float) -> float:
        """Seconds since this governor was last used (0 while calls wait)."""
        return 0.0 if self._waiters else now - self.last_used

    @property
    def store(self) -> RateStore | None:
        """The shared store, or ``None`` when this governor shares nothing."""
        return self._store

    def forget(self) -> None:
        """Drop everything learned and counted (waiting calls keep their places)."""
        with self._lock:
            self._apply(lambda policy, now: policy.forget())
            self._alone.forget()
            self._idle_until = 0.0
            self._pending = 0
            self._reset_counters()
            wakes = [waiter.wake for waiter in self._waiters]
        for wake in wakes:
            wake()

    # ------------------------------------------------------------------- the store

    def _apply(self, change: Callable[[WindowPolicy, float], T], *, write: bool = True) -> T:
        """Run ``change`` on the state (under ``self._lock``), in the store if it works."""
        store = self._store
        if store is not None and time.monotonic() >= self._down_until:
            pending, idle_window = self._pending, self._idle_window
            last: list[WindowPolicy] = []

            def shared(policy: WindowPolicy, now: float) -> T:
                if pending and policy.window == idle_window:
                    policy.count_late(pending)
                result = change(policy, now)
                last[:] = [policy]
                return result

            try:
                result = store.transact(self._key, self._origin, shared, write=write or pending > 0)
            except StoreUnavailable as exc:
                self._down_until = time.monotonic() + STORE_RETRY
                if not self._warned:
                    self._warned = True
                    logger.warning(
                        "rate limit store %s is unavailable (%s); %s carries "
                        "on alone and tries the store again every %.0f s",
                        store,
                        exc,
                        self.name or "this key",
                        STORE_RETRY,
                    )
            else:
                self._pending = 0
                if self._warned:
                    self._warned = False
                    logger.info(
                        "rate limit store %s is back; %s shares it again",
                        store,
                        self.name or "this key",
                    )
                policy = last[0]
                # Keep the state seen, to carry on from it if the store fails.
                self._alone.put(self._key, self._origin, policy)
                if store.idle_recheck and policy.idle and policy.blocked_until <= time.time():
                    self._idle_until = time.monotonic() + store.idle_recheck
                    self._idle_window, self._idle_epoch = policy.window, policy.epoch
                else:
                    self._idle_until = 0.0
                return result
        return self._alone.transact(self._key, self._origin, change)

    def _plan(self, policy: WindowPolicy, now: float, caller: _Waiter | None) -> _Plan:
        """Admit waiters from the head while they may go (no change outside ``policy``)."""
        admitted: list[tuple[_Waiter, Ticket]] = []
        line = [w for w in self._waiters if w is caller or w.alive()]
        for index, waiter in enumerate(line):
            free_at = policy.free_at(now, waiter.turn)
            if free_at > now:
                return _Plan(admitted, free_at - now, max(0.0, policy.claimed_until - now))
            ticket = policy.admit(now, waiter.turn, busy=index < len(line) - 1)
            ticket.shared = self._store is not None
            admitted.append((waiter, ticket))
        return _Plan(admitted, 0.0)

    def _carry_out(self, plan: _Plan, caller: _Waiter | None) -> list[Callable[[], None]]:
        """Hand out the plan's tickets; return whom to wake."""
        wakes: list[Callable[[], None]] = []
        for waiter in list(self._waiters):
            if waiter is not caller and not waiter.alive():
                self._waiters.remove(waiter)
                waiter.evicted = True
        for waiter, ticket in plan.admitted:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            ticket.queued = True
            waiter.ticket = ticket
            self._admitted += ticket.counted
            if waiter is not caller:
                wakes.append(waiter.wake)
        if self._waiters and self._waiters[0] is not caller:
            wakes.append(self._waiters[0].wake)  # it sets its own timer
        return wakes

    def _pump(self, caller: _Waiter | None) -> tuple[list[Callable[[], None]], float, float]:
        if not self._waiters:
            return [], 0.0, 0.0
        plan = self._apply(lambda policy, now: self._plan(policy, now, caller))
        return self._carry_out(plan, caller), plan.head_wait, plan.claimed

    # ------------------------------------------------------------------ public view

    def status(self, requests_per_minute: int | None = None) -> RateLimitStatus:
        """A snapshot; ``requests_per_minute`` is echoed for the caller's client."""
        with self._lock:
            limit, window, blocked_for = self._apply(
                lambda p, now: (p.limit, p.window_length, max(0.0, p.blocked_until - now)),
                write=False,
            )
            return RateLimitStatus(
                requests_per_minute=requests_per_minute,
                learned_limit=limit,
                learned_window=window,
                waiting=len(self._waiters),
                blocked_for=blocked_for,
                rate_limited=self._rate_limited,
                admitted=self._admitted,
            )

    def next_turn_in(self, turn: Turn = _ANY_TURN) -> float:
        """Seconds until a call at the head of the line could go (0 when it could now)."""
        with self._lock:
            return self._apply(lambda p, now: max(0.0, p.free_at(now, turn) - now), write=False)

    # -------------------------------------------------------------------- admission

    def try_acquire(self, turn: Turn) -> Ticket | None:
        """A turn now if one is free and nobody waits, else ``None`` (never waits)."""
        with self._lock:
            self.last_used = time.monotonic()
            if self._waiters:
                return None
            if (
                turn.requests_per_minute is None
                and self._idle_until
                and self.last_used < self._idle_until
            ):
                # Nothing learned a moment ago: go, and count it in the store later.
                ticket = Ticket(time.time(), turn.counted, self._idle_window, self._idle_epoch)
                ticket.model = turn.model
                ticket.shared = True
                self._pending += turn.counted
                self._admitted += turn.counted
                return ticket

            def change(policy: WindowPolicy, now: float) -> Ticket | None:
                if turn.requests_per_minute is not None:
                    policy.note_rpm()
                if policy.free_at(now, turn) > now:
                    return None
                ticket = policy.admit(now, turn)
                ticket.shared = self._store is not None
                return ticket

            admitted = self._apply(change, write=True)
            if admitted is not None:
                self._admitted += admitted.counted
            return admitted

    def acquire(self, turn: Turn, *, max_wait: float, front: bool = False) -> Ticket:
        """Wait (blocking this thread) for a turn; raise ``RateLimitError`` past ``max_wait``.

        ``front=True`` puts a call that was just refused ahead of the line, since it has
        waited longest.
        """
        ticket = self.try_acquire(turn)
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
        ticket = self.try_acquire(turn)
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
        is the server's hint in seconds for a 429, if it sent one (a hint further away
        than :data:`~segmind_gemini.ratelimit.policy.LONGEST_BLOCK` blocks only that
        long). ``exact``: the hint was a point in time (``x-rate-limit-reset-at-utc``),
        not a rounded delay, so window lengths may be learned from it; such a hint is
        negative when the reset passed while the answer travelled. ``upstream``: the
        429 is Google's own quota for the ticket's model (``RetryInfo``), which holds
        back that model, not the key.
        """
        if ticket.done:
            return
        with self._lock:
            ticket.done = True
            if status == 429:
                self._rate_limited += 1
            elif not ticket.probe and not self._waiters:
                if self._pending and time.monotonic() >= self._idle_until:
                    # Calls that went without the store are counted there now, so the
                    # others learn the window's true count from their own refusals.
                    self._apply(lambda policy, now: None)
                self._maybe_log_end()
                return  # nothing to learn and nobody to admit

            def change(policy: WindowPolicy, now: float) -> _Plan:
                busy = bool(self._waiters)
                policy.record(
                    ticket, status, retry_after, now, exact=exact, upstream=upstream, busy=busy
                )
                return self._plan(policy, now, None)

            wakes = self._carry_out(self._apply(change), None)
            self._maybe_log_end()
        for wake in wakes:
            wake()

    def release(self, ticket: Ticket) -> None:
        """Give back a turn that was never used (the call was cancelled before sending)."""
        if ticket.done:
            return
        with self._lock:
            ticket.done = True

            def change(policy: WindowPolicy, now: float) -> _Plan:
                policy.release(ticket)
                return self._plan(policy, now, None)

            wakes = self._carry_out(self._apply(change), None)
        for wake in wakes:
            wake()

    # -------------------------------------------------------------------- the line

    def _join(self, waiter: _Waiter, front: bool, max_wait: float) -> float:
        """Put ``waiter`` in line; return its deadline."""
        deadline = self._clock() + max_wait
        with self._lock:
            if front:
                self._waiters.appendleft(waiter)
            else:
                self._waiters.append(waiter)
            if self._throttled_since is None:
                self._throttled_since = self._clock()
                self._throttled_from = (self._admitted, self._rate_limited)
                logger.info(
                    "rate limit on %s: calls now wait their turn (%s)",
                    self.name or "this key",
                    self._describe(),
                )
        return deadline

    def _leave(self, waiter: _Waiter) -> None:
        with self._lock:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            ticket, waiter.ticket = waiter.ticket, None
        if ticket is not None:
            self.release(ticket)
        else:
            with self._lock:
                wakes = self._pump(None)[0]
                self._maybe_log_end()
            for wake in wakes:
                wake()

    def _turn(self, waiter: _Waiter, deadline: float) -> float:
        """Try to admit; return how long ``waiter`` may sleep, or raise when it cannot wait."""
        error: RateLimitError | None = None
        with self._lock:
            now = self._clock()
            if waiter.evicted:
                # Its loop stopped while it waited and the line moved on; it is back.
                waiter.evicted = False
                self._waiters.appendleft(waiter)
            wakes, head_wait, claimed = self._pump(waiter)
            sleep = 0.0
            if waiter.ticket is None:
                if self._waiters and self._waiters[0] is waiter:
                    sleep = head_wait
                    if now + head_wait > deadline:
                        self._waiters.remove(waiter)
                        wakes.extend(self._pump(None)[0])
                        error = self._too_long(head_wait, deadline - now, claimed)
                    elif self._store is not None:
                        sleep = min(sleep, SHARED_POLL)
                else:
                    # Not at the head: the head's caller wakes us in order, but look in
                    # now and then in case the head's event loop stopped.
                    sleep = min(deadline - now, LINE_POLL)
                    if deadline - now <= 0:
                        self._waiters.remove(waiter)
                        wakes.extend(self._pump(None)[0])
                        error = self._too_long(max(head_wait, 0.001), 0.0, claimed)
        for wake in wakes:
            wake()
        if error is not None:
            raise error
        return max(sleep, 0.0)

    @staticmethod
    def _too_long(needed: float, left: float, claimed: float = 0.0) -> RateLimitError:
        needed = max(needed, 0.0)
        said = (
            f" (the server said its limit resets in {claimed:.0f} s; a hint that far is "
            f"trusted for {LONGEST_BLOCK:.0f} s, then one call goes to ask again)"
            if claimed > needed + 1.0
            else ""
        )
        return RateLimitError(
            f"Rate limited: the next turn for this key is {needed:.1f} s away{said}, longer "
            f"than the {max(left, 0.0):.1f} s this call may still wait (max_rate_limit_wait); "
            "try again later or raise max_rate_limit_wait",
            status_code=429,
            retry_after=needed,
        )

    # ----------------------------------------------------------------------- logging

    def _describe(self) -> str:
        parts = [f"{len(self._waiters)} waiting"]
        policy = self._alone.transact(self._key, self._origin, lambda p, now: (p, now))
        state, now = policy
        if state.blocked_until > now:
            parts.append(f"server reset in {state.blocked_until - now:.1f} s")
        if state.limit is not None:
            per = f"{state.window_length:.3g} s" if state.window_length else "window"
            parts.append(f"admitting {state.limit} per {per}")
        return ", ".join(parts)

    def _maybe_log_end(self) -> None:
        if self._throttled_since is None or self._waiters:
            return
        admitted = self._admitted - self._throttled_from[0]
        refused = self._rate_limited - self._throttled_from[1]
        state, _ = self._alone.transact(self._key, self._origin, lambda p, now: (p, now))
        logger.info(
            "rate limit on %s: no call waiting any more after %.1f s "
            "(%d admitted, %d answered 429%s)",
            self.name or "this key",
            self._clock() - self._throttled_since,
            admitted,
            refused,
            f"; learned {state.limit} per {state.window_length:.3g} s"
            if state.limit is not None and state.window_length
            else "",
        )
        self._throttled_since = None

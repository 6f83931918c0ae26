"""What the server taught us about one key's limit: pure state, no lock, no clock.

Every method takes ``now`` (seconds on the store's clock: this process's monotonic
clock, the machine's wall clock, or Redis's ``TIME``) and returns what follows from it,
so the same object serves one process or, serialised with :meth:`WindowPolicy.to_doc`,
every process that shares a store.

Six mechanisms, each with its own fields:

* **server block** (``blocked_until``): a 429's hint; nothing counted goes before it.
  A hint further away than :data:`LONGEST_BLOCK` is capped there (then one call probes).
* **window learning** (``limit``, ``window_end``, ``window_length``, ``window``,
  ``sent_by``/``refused_by``, ``taken``): after a refusal, ``limit`` is what the server
  took in the refused window (the lower median of the last three, but at least half the
  pace before it: others on the key make a process back off, not collapse); a window
  that took none of ours says when, not how many (shut out of an open window: half the
  pace); once two resets were seen, ``window_length`` is their gap and calls go at each
  window's ``opening``. A reset that passed while its 429 travelled (a negative hint,
  from a point in time) still names a window's start.
* **taking shares back** (``crowded``, ``window_ok``, ``room``, ``climb_wait``,
  ``climbing``; the trying ticket's ``asks``): a limit learned while others send may be
  only a share. On a crowded key (a window took none of ours, or two full windows timed
  by resets took different numbers of them), once every call of the open window went
  through, one more asks for room and, answered, lets 1, 2, 4, ... more go in the same
  window (refused, the key is taken as ours alone until new evidence); at a confirmed
  limit, one more is tried after 1, 2, 4, ... (at most 64) full windows (answered, the
  pace is learned afresh from the next full window), so a process
  alone pays a 429 ever more rarely and one whose neighbours finished takes their share
  back. A window counts as full and clean only once its answers have begun to return
  (slower answers may still carry its refusals). Without reset hints windows are guessed
  from probes: the pace grows by half, up to the most a refused window took.
* **hint-less probe** (``probe_id``, ``hintless_level``, ``hintless_gap``): with no
  reset hint, one probe at a time finds when the server accepts again.
* **per-model blocks** (``model_blocked``): Google's long quotas hold back one model.
* **requests_per_minute log** (``sent``): admission times, kept once a client paces.

States of a key: *open* (nothing learned: every call goes), *blocked* (before
``blocked_until``), *paced* (``limit`` known: at most ``limit`` per window, the next
window at ``opening(window_end)``), *probing* (limit reached, window end unknown: one
probe out). Transitions: a 429 with a hint -> blocked, then paced; a 429 without one ->
blocked briefly, then probing; a probe answered -> a new window (paced); a full window
taken without a refusal -> the limit grows back (twice over); a try past the limit
answered -> the limit was a share: learned afresh; :meth:`WindowPolicy.forget` -> open.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import os
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["LONGEST_BLOCK", "Ticket", "Turn", "WindowPolicy"]

#: How long a caller at the head of the line sleeps while a probe is out, at most.
PROBE_POLL = 0.5
#: A probe unanswered this long is forgotten (its caller may have died with it).
PROBE_STALE = 150.0
#: Two reset times closer than this name the same window end (a whole second more when
#: the hint came in whole seconds, as ``Retry-After`` does).
SAME_RESET = 0.1
#: The most a learned reset margin may grow to: how late the server's reset really is.
MAX_MARGIN = 2.0
#: The first and the longest wait after a 429 that carried no hint.
HINTLESS_FIRST = 0.1
HINTLESS_MAX = 10.0
#: The most full windows a process at its confirmed limit waits before trying one more.
MAX_CLIMB_WAIT = 64
#: The longest any hint may hold a key or model back (a reset "in year 9999" included);
#: after it one call goes and the server's next answer says more.
LONGEST_BLOCK = 3600.0

_ids = itertools.count(1)


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

    __slots__ = (
        "admitted_at",
        "asks",
        "counted",
        "done",
        "epoch",
        "id",
        "model",
        "probe",
        "queued",
        "shared",
        "window",
    )

    def __init__(self, admitted_at: float, counted: bool, window: int, epoch: int) -> None:
        self.id = f"{os.getpid()}-{next(_ids)}"
        self.model: str | None = None
        self.admitted_at = admitted_at
        self.counted = counted
        self.window = window
        self.epoch = epoch
        #: Its answer teaches the policy (a hint-less probe or a try past the limit).
        self.probe = False
        #: A try past the limit: ``"room"`` (in the open window, on a crowded key) or
        #: ``"climb"`` (past a confirmed limit); ``None`` otherwise.
        self.asks: str | None = None
        self.done = False
        #: It waited in line (it was not admitted on arrival).
        self.queued = False
        #: Admitted through the shared store (not the local fallback).
        self.shared = False


def _window_of(known: float, gap: float, tolerance: float) -> float:
    """The window length that both ``known`` and ``gap`` are whole multiples of.

    A process that shares its key sees refusals only in some windows, so the gap between
    two resets it saw may be several windows: 5 s and 3 s between resets mean 1 s windows.
    A result shorter than 5 tolerances, or than a quarter of the shorter gap, is more
    likely jitter (hints rounded to the second) than a window: the shorter gap is kept.
    """
    a, b = max(known, gap), min(known, gap)
    while b > tolerance:
        rest = a % b
        if rest > b - tolerance:
            rest = 0.0  # a whole multiple, give or take the jitter
        a, b = b, rest
    shorter = min(known, gap)
    return a if a >= max(5 * tolerance, 0.25 * shorter) else shorter


#: Each scalar field's declared type, read from the dataclass itself: a store's document
#: is checked field by field, so a field added later is checked without a new line here.
_SCALARS: dict[str, tuple[type, bool]] = {
    "int": (int, False),
    "int | None": (int, True),
    "float": (float, False),
    "float | None": (float, True),
    "bool": (bool, False),
    "str | None": (str, True),
}


def _scalar(value: Any, kind: type, optional: bool) -> Any:
    """``value`` as ``kind``; anything else (a string for a number, NaN, infinity) raises."""
    if value is None and optional:
        return None
    if kind is bool or kind is str:
        if not isinstance(value, kind):
            raise TypeError(f"not a {kind.__name__}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("not a number")
    if not math.isfinite(value):
        raise ValueError("not finite")
    return kind(value)


def _ints(value: Any) -> dict[int, int]:
    if not isinstance(value, dict):
        raise ValueError("not a mapping")
    return {int(k): int(v) for k, v in value.items()}


@dataclass
class WindowPolicy:
    """The learned limit of one key and origin; see the module docstring."""

    sent: list[float] = field(default_factory=list)
    keep: float = 60.0
    log_sends: bool = False
    blocked_until: float = 0.0
    limit: int | None = None
    limit_window: int = -1
    #: The pace before the refusals of ``limit_window`` began to teach one.
    limit_before: int | None = None
    taken: list[int] = field(default_factory=list)
    probe_not_before: float = 0.0
    window_length: float | None = None
    window_end: float | None = None
    last_reset: float | None = None
    opened_at: float | None = None
    reset_margin: float = 0.01
    early: bool = False
    model_blocked: dict[str, float] = field(default_factory=dict)
    window: int = 0
    window_sent: int = 0
    sent_by: dict[int, int] = field(default_factory=lambda: {0: 0})
    refused_by: dict[int, int] = field(default_factory=lambda: {0: 0})
    probe_id: str | None = None
    probe_at: float = 0.0
    epoch: int = 0
    hintless_level: int = 0
    hintless_since: float = 0.0
    hintless_gap: float | None = None
    #: The furthest reset a hint claimed, before :data:`LONGEST_BLOCK` capped it.
    claimed_until: float = 0.0
    #: Full windows in a row at the confirmed limit without a refusal.
    quiet: int = 0
    #: Another client uses the key: a window we were refused in took nothing of ours, or
    #: two full windows took different numbers of our calls.
    crowded: bool = False
    #: Full windows at the confirmed limit before one more call is tried; doubles with
    #: each refused try.
    climb_wait: int = 1
    #: This window tries one call past the confirmed limit.
    climbing: bool = False
    #: Calls of this window that went through.
    window_ok: int = 0
    #: How many more to send after the next call past the limit goes through.
    room: int = 1

    # ------------------------------------------------------------------ persistence

    def to_doc(self) -> str:
        """This state as one JSON document (what a shared store keeps)."""
        return json.dumps(self.__dict__, separators=(",", ":"))

    @classmethod
    def from_doc(cls, doc: str | bytes | None, now: float | None = None) -> WindowPolicy:
        """The state in ``doc``; a fresh one when it is missing or not ours (garbage).

        Every field is checked against its declared type and a possible value: counts
        not negative, numbers finite, and (given the store's ``now``) no time further
        ahead than :data:`LONGEST_BLOCK`, so a stray document cannot hold a key, a
        model or a probe for ever. Fields this version does not know (a newer one wrote
        them) are dropped, so two versions sharing a store keep each other's learning.
        """
        if not doc:
            return cls()
        try:
            data = json.loads(doc)
            known = {item.name for item in fields(cls)}
            policy = cls(**{key: value for key, value in data.items() if key in known})
            policy.sent_by = _ints(policy.sent_by)
            policy.refused_by = _ints(policy.refused_by)
            policy.sent = sorted(_scalar(t, float, False) for t in policy.sent)
            policy.taken = [_scalar(t, int, False) for t in policy.taken][-3:]
            policy.model_blocked = {
                str(k): _scalar(v, float, False) for k, v in policy.model_blocked.items()
            }
            for item in fields(cls):
                kind = _SCALARS.get(str(item.type))
                if kind is not None:
                    setattr(policy, item.name, _scalar(getattr(policy, item.name), *kind))
            if policy.window not in policy.sent_by:
                policy.sent_by[policy.window] = 0
                policy.refused_by[policy.window] = 0
            policy._check(now)
            return policy
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError):
            return cls()

    def _check(self, now: float | None) -> None:
        """Raise ``ValueError`` when a field holds a value this policy never writes."""
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit")
        counts = (self.window_sent, self.window_ok, self.quiet, self.hintless_level, self.epoch)
        if min(counts) < 0 or not 1 <= self.climb_wait <= MAX_CLIMB_WAIT or self.room < 1:
            raise ValueError("count")
        if min(self.taken, default=0) < 0:
            raise ValueError("taken")
        if now is not None:
            latest = now + LONGEST_BLOCK + 60.0
            times = [
                self.blocked_until,
                self.probe_at,
                self.probe_not_before,
                self.window_end or 0.0,
                self.last_reset or 0.0,
                self.opened_at or 0.0,
                self.hintless_since,
                *self.model_blocked.values(),
                *self.sent[-1:],
            ]
            if max(times) > latest:
                raise ValueError("a time too far ahead")

    # ---------------------------------------------------------------------- queries

    @property
    def idle(self) -> bool:
        """Nothing learned and nothing pacing: any call may go without asking the store."""
        return (
            self.limit is None
            and not self.log_sends
            and not self.model_blocked
            and self.probe_id is None
        )

    def free_at(self, now: float, turn: Turn) -> float:
        """The earliest time a request for ``turn`` may be admitted (no change made)."""
        at = max(now, self.blocked_until)
        if turn.model is not None and self.model_blocked:
            at = max(at, self.model_blocked.get(turn.model, 0.0))
        probe_out = self.probe_id is not None and now - self.probe_at <= PROBE_STALE
        if not turn.counted:
            return at
        rpm, window = turn.requests_per_minute, turn.window
        if rpm is not None:
            # Room for the jitter between our admission and the server's arrival time.
            margin = min(0.25, 0.002 * window + 0.05)
            first = bisect.bisect_right(self.sent, at - window - margin)
            if len(self.sent) - first >= rpm:
                at = max(at, self.sent[len(self.sent) - rpm] + window + margin)
        if self.limit is not None:
            end = self.window_end
            if end is not None and at >= self.opening(end):
                return at  # a new window starts by then
            if self.window_sent >= self.limit:
                if end is not None:
                    return at if self._room_to_try(now, end) else max(at, self.opening(end))
                if probe_out:
                    return max(at, now + PROBE_POLL)  # the probe's answer wakes the line
                return max(at, self.probe_not_before)
        return at

    def opening(self, end: float) -> float:
        """When to send after a window ending at ``end``: just after it, not on it."""
        return end + self.reset_margin + 0.002 * (self.window_length or 1.0)

    # -------------------------------------------------------------------- changes

    def forget(self) -> None:
        """Back to the open state: nothing learned."""
        self.__dict__.update(WindowPolicy().__dict__)

    def note_rpm(self) -> None:
        """A client paces by requests_per_minute: keep the send log from now on."""
        self.log_sends = True

    def admit(self, now: float, turn: Turn, *, busy: bool = False) -> Ticket:
        """Count one request admitted at ``now`` (call only when ``free_at <= now``).

        ``busy``: more calls are waiting (a window that ends now was in demand).
        """
        ticket = Ticket(now, turn.counted, self.window, self.epoch)
        ticket.model = turn.model
        if not turn.counted:
            return ticket
        self._roll(now, busy)
        if self.probe_id is not None and now - self.probe_at > PROBE_STALE:
            self.probe_id = None
        ticket.window = self.window
        if (
            self.limit is not None
            and self.window_sent >= self.limit
            and self.window_end is None
            and self.probe_id is None
        ):
            ticket.probe = True
            self.probe_id, self.probe_at = ticket.id, now
        elif (
            self.limit is not None
            and self.window_end is not None
            and self.window_sent >= self.limit
            and self.probe_id is None
        ):
            # Past the limit while the window is open: one call asks whether others
            # on the key left room (see _room_to_try).
            ticket.probe, ticket.asks = True, "room"
            self.probe_id, self.probe_at = ticket.id, now
        elif self.climbing and self.limit is not None and self.window_sent + 1 == self.limit:
            # The one call past the confirmed limit: its answer says at once whether the
            # window had room (see _accepted), not only when the window closes.
            ticket.probe, ticket.asks = True, "climb"
        self.count_sent(1)
        if self.log_sends:
            if turn.window > self.keep:
                self.keep = turn.window
            bisect.insort(self.sent, now)
            if len(self.sent) > 64 and self.sent[0] < now - self.keep - 1:
                del self.sent[: bisect.bisect_left(self.sent, now - self.keep - 1)]
        return ticket

    def count_sent(self, count: int) -> None:
        """Count requests sent in the current window."""
        self.window_sent += count
        self.sent_by[self.window] = self.sent_by.get(self.window, 0) + count

    def count_late(self, count: int) -> None:
        """Count requests another process sent in this window without asking the store.

        When the window was already refused, what the server took from it is now known
        better: the pace is learned again.
        """
        self.count_sent(count)
        if self.window == self.limit_window and self.taken:
            self.taken[-1] = self.sent_by[self.window] - self.refused_by.get(self.window, 0)
            self._learn()

    def _learn(self, hinted: bool = False, shut_out: int = 0) -> None:
        """The pace from what refused windows took; ``shut_out``: we sent that many into
        an open window that others filled, and none went through."""
        counts = sorted(t for t in self.taken if t > 0)
        if counts:
            self.limit = counts[(len(counts) - 1) // 2]
            if self.limit_before is not None:
                # Others on the key took the rest: back off by half at most in one
                # window (multiplicative decrease), not down to the share one burst
                # left us, so that processes converge on fair shares.
                self.limit = max(self.limit, (self.limit_before + 1) // 2)
        elif hinted or shut_out:
            # Windows that took nothing of ours, with a reset named, say when rather than
            # how many (learning 1 here left a process that lost the first burst at one
            # call a window while the others finished). Came early: keep the pace we had.
            # Shut out of an open window: half of it, or of what we sent (multiplicative
            # decrease; a full window grows it back), so that independent processes
            # converge on shares instead of one burst taking the next window too.
            self.limit = self.limit_before
            if shut_out:
                self.limit = max(1, (self.limit_before or shut_out) // 2)
        elif self.limit is None:
            self.limit = 1

    def release(self, ticket: Ticket) -> None:
        """A turn given back unused."""
        if self.probe_id == ticket.id:
            self.probe_id = None
        if ticket.counted:
            if ticket.window == self.window and self.window_sent > 0:
                self.window_sent -= 1
            self._unlog(ticket)

    def record(
        self,
        ticket: Ticket,
        status: int | None,
        retry_after: float | None,
        now: float,
        *,
        exact: bool = True,
        upstream: bool = False,
        busy: bool = False,
    ) -> None:
        """How an admitted request ended (see :meth:`RateGovernor.record`).

        ``busy``: calls are waiting (a window that ends now was in demand).
        """
        if self.probe_id == ticket.id:
            self.probe_id = None
        if retry_after is not None and retry_after > LONGEST_BLOCK:
            self.claimed_until = max(self.claimed_until, now + retry_after)
            retry_after = LONGEST_BLOCK
        if status == 429 and upstream and ticket.model is not None:
            until = now + (retry_after if retry_after is not None else HINTLESS_FIRST)
            self.model_blocked[ticket.model] = max(self.model_blocked.get(ticket.model, 0.0), until)
        elif status == 429:
            self._refused(ticket, retry_after, now, exact)
        elif status is not None and ticket.counted:
            self._accepted(ticket, busy)
        if self.model_blocked:
            for model in [m for m, until in self.model_blocked.items() if until < now]:
                del self.model_blocked[model]

    # ------------------------------------------------------------------- internals

    def _unlog(self, ticket: Ticket) -> None:
        index = bisect.bisect_left(self.sent, ticket.admitted_at)
        if index < len(self.sent) and self.sent[index] == ticket.admitted_at:
            del self.sent[index]

    def _margin_cap(self) -> float:
        return min(MAX_MARGIN, 0.5 * self.window_length) if self.window_length else MAX_MARGIN

    def _roll(self, now: float, busy: bool) -> None:
        end = self.window_end
        if end is None or now < self.opening(end):
            return
        if self.window_length:
            skipped = int((now - end) // self.window_length)
            end += skipped * self.window_length
            self.window_end = end + self.window_length
        else:
            self.window_end = None
        self.opened_at = end
        self._new_window(busy)

    def _new_window(self, busy: bool = False) -> None:
        closing = self.window
        if (
            self.refused_by.get(closing, 0)
            and closing == self.limit_window
            # Windows timed by the server's resets, not guessed by probes (without
            # hints a "window" may span two of the server's and take twice as many).
            and self.window_length is not None
            and len(self.taken) >= 2
            and 0 < self.taken[-1] != self.taken[-2] > 0
        ):
            # Two full windows took different numbers of our calls: a process alone meets
            # the same limit each time, so others share the key.
            self.crowded = True
        if (
            busy
            and self.limit is not None
            and self.refused_by.get(closing, 0) == 0
            and self.sent_by.get(closing, 0) >= self.limit
            # Its answers have begun to come back: with answers slower than a window,
            # none has, its refusals may still be on their way, and growing then
            # compounds (the limit doubled each window while the 429s were in transit).
            and self.window_ok > 0
        ):
            # The server took a full window without refusing: the pace may be low (a
            # stray 429 taught it, or another client took the rest of the windows that
            # taught it and has stopped). Grow it back by half, up to the most a refused
            # window took; past it only when the key is crowded and no count repeated.
            counts = [t for t in self.taken if t > 0]
            # Windows timed by the server's resets are whole windows: the pace may
            # double. Without hints a "window" is guessed from probes and may span two
            # of the server's: grow by half, and do not climb past a confirmed limit.
            timed = self.window_length is not None
            grown = 2 * self.limit if timed else self.limit + max(1, self.limit // 2)
            ceiling = max(counts, default=None)
            confirmed = len(counts) >= 2 and counts[-1] == counts[-2]
            self.climbing = False
            if ceiling is None or (self.crowded and not confirmed):
                self.limit = grown
            elif not timed and not self.crowded:
                # Refusals without hints count guessed windows: up to the most one took.
                self.limit = max(self.limit, min(ceiling, grown))
            elif self.limit > ceiling:
                # One more than any refused window took went through: that was a share,
                # not the limit (others on the key have stopped). Learn afresh, fast.
                self.taken, self.limit, self.climb_wait = [], grown, 1
            elif self.limit == ceiling:
                # What looks like the limit may be a share of it (nothing tells the two
                # apart while others send): now and then one more, in case the others
                # stopped. Each refused climb doubles the wait, so a process alone at
                # its limit sees one 429 in 1, 2, 4, ... up to MAX_CLIMB_WAIT windows.
                self.quiet += 1
                if self.quiet >= self.climb_wait:
                    self.quiet, self.limit, self.climbing = 0, self.limit + 1, True
            else:
                self.limit = max(self.limit, min(ceiling, grown))
        self.window += 1
        self.window_sent = self.window_ok = 0
        self.room = 1
        self.sent_by[self.window] = 0
        self.refused_by[self.window] = 0
        for old in [w for w in self.sent_by if w < self.window - 4]:
            del self.sent_by[old]
            self.refused_by.pop(old, None)

    def _room_to_try(self, now: float, end: float) -> bool:
        """Whether one call past the limit may ask for room in the open window: the key
        is crowded (others took windows from us, so the limit we learned is a share and
        theirs may end), every call of this window went through, and none is out asking."""
        return (
            self.crowded
            and now < end
            and self.probe_id is None
            and self.refused_by.get(self.window, 0) == 0
            and self.window_ok >= self.window_sent
        )

    def _accepted(self, ticket: Ticket, busy: bool) -> None:
        if ticket.counted and ticket.window == self.window:
            self.window_ok += 1
        if not (ticket.probe and ticket.window == self.window):
            return
        if ticket.asks == "room":
            # A call past the limit went through in an open window: room was left.
            # Take more at once, twice as many each round (a refusal says where it ends).
            self.limit = self.window_sent + self.room
            self.room *= 2
            return
        if ticket.asks == "climb":
            if self.climbing and self.limit is not None:
                # The call past the confirmed limit went through: that limit was a share
                # (others on the key have stopped), or a call was counted late. Learn
                # afresh: a clean full window at this pace doubles it; a refused one
                # teaches the limit again (doubling now cost a burst of 429s when it was
                # only a late count, with processes sharing a store).
                self.climbing = False
                self.taken, self.climb_wait = [], 1
            return
        if (
            self.last_reset is not None
            and self.window_length is None
            and not self.hintless_level
            and not self.early
        ):
            # A reset time was seen and the next refusal will name the next one: this
            # window had room for one more (another process's call was refused, or the
            # pace is low). Say so, rather than guess that a new window began.
            # More room may follow: grow by half at once (a refusal says how much there
            # was) rather than one probe a round trip.
            self.limit = max(self.limit or 0, self.window_sent + max(1, self.window_sent // 2))
            return
        # The server took one more than the last window held: a new window began
        # (if the limit is higher instead, the next refusal counts it).
        if self.hintless_level:
            self.hintless_gap = max(HINTLESS_FIRST, ticket.admitted_at - self.hintless_since)
            self.hintless_level = 0
            if self.early and self.opened_at is not None:
                # The reset we trusted was early: the server took this one this much
                # later, so later windows open that much after their reset.
                late = ticket.admitted_at - self.opened_at
                self.reset_margin = min(self._margin_cap(), max(self.reset_margin, late))
            self.early = False
        # The next probe waits for most of a window: one sent at once would only land
        # in the window just opened.
        self.probe_not_before = ticket.admitted_at + 0.9 * (self.hintless_gap or HINTLESS_FIRST)
        self.sent_by[self.window] -= 1
        self._new_window(busy)
        self.window_sent = 1
        self.sent_by[self.window] = 1
        ticket.window = self.window

    def _refused(self, ticket: Ticket, retry_after: float | None, now: float, exact: bool) -> None:
        self.quiet = 0
        if self.climbing:
            self.climbing = False
            self.climb_wait = min(MAX_CLIMB_WAIT, 2 * self.climb_wait)
        if ticket.asks == "room":
            # No room: the key may well be ours alone now. Ask again only once new
            # evidence says it is shared; meanwhile climbing finds room, ever more rarely.
            self.crowded = False
        if ticket.counted and self.log_sends:
            # The server did not count a refused call: neither does requests_per_minute.
            self._unlog(ticket)
        window = ticket.window
        if ticket.counted and window in self.refused_by:
            self.refused_by[window] += 1
            if window >= self.limit_window and (window == self.window or self.limit is None):
                # What the server took from this window: everything sent but what it
                # refused. Counting refusals (which come back fast) rather than answers
                # (which may take 40 s) keeps the estimate right under any latency.
                taken = self.sent_by.get(window, 0) - self.refused_by[window]
                hinted = retry_after is not None and (
                    retry_after > 0.01 or (exact and now + retry_after > ticket.admitted_at)
                )
                shut_out = 0
                if taken == 0 and retry_after is not None and hinted:
                    # Not a call that came before the window we thought had opened (a
                    # hint that names that window's end): the window was open and others
                    # filled it.
                    opened = self.opened_at
                    early = opened is not None and now + retry_after <= opened + 1.0 + SAME_RESET
                    self.crowded = self.crowded or not early
                    shut_out = 0 if early else self.sent_by.get(window, 0)
                elif taken == 0 and self.opened_at is None:
                    # No hint (it came after the reset), but no window was known to open:
                    # the first one was open and others filled it.
                    shut_out = self.sent_by.get(window, 0)
                if window != self.limit_window or not self.taken:
                    self.limit_before = self.limit
                    self.taken = [*self.taken, taken][-3:]
                else:
                    self.taken[-1] = taken
                self.limit_window = window
                # A window that took nothing was not open yet (we came early): that says
                # when, not how many. Of the others, the (lower) median of the last three:
                # one window cut by a boundary (too few) or spanning two (too many) does
                # not set the pace for long, and a clean window grows it back.
                self._learn(hinted, shut_out)
        if retry_after is not None:
            if retry_after > 0.01:
                self._reset_at(now + retry_after, exact=exact, sent_at=ticket.admitted_at)
                return
            if exact and now + retry_after > ticket.admitted_at:
                # The reset passed while the answer travelled (a point in time, after the
                # call left): a window began then. Still a reset time to learn from.
                self._reset_at(now + retry_after, exact=exact, sent_at=ticket.admitted_at)
                return
            if ticket.window != self.window:
                return  # a late answer from a window that has ended
            # The reset is already past by our clock: the hint was rounded down or the
            # clocks disagree. Open later windows a little later, and probe for this one.
            if (
                not self.early
                and self.opened_at is not None
                and ticket.admitted_at >= self.opened_at
            ):
                self.early = True
                self.reset_margin = min(self._margin_cap(), max(0.05, 2 * self.reset_margin))
        # No usable hint: back off, then let one probe find when the server accepts again.
        if ticket.window == self.window:
            self.window_end = None
            if self.limit is not None:
                self.window_sent = max(self.window_sent, self.limit)
        if ticket.epoch < self.epoch:
            return  # admitted before the current back-off began: nothing new to learn
        self.epoch += 1
        if self.hintless_level == 0:
            self.hintless_since = now
            wait = 0.9 * self.hintless_gap if self.hintless_gap else HINTLESS_FIRST
        else:
            step = max(HINTLESS_FIRST, 0.1 * (self.hintless_gap or 0.0))
            wait = min(HINTLESS_MAX, step * 1.5 ** (self.hintless_level - 1))
        self.hintless_level += 1
        self.blocked_until = max(self.blocked_until, now + wait)

    def _reset_at(self, reset: float, *, exact: bool = True, sent_at: float | None = None) -> None:
        """The server said its window ends at ``reset`` (to a call sent at ``sent_at``)."""
        # A delay (Retry-After, retryDelay) is rounded and shifted by latency: it may
        # block, but two of them are too rough to measure a window's length with.
        same = SAME_RESET if exact else SAME_RESET + 1.0
        if self.last_reset is not None and reset < self.last_reset - same:
            return  # a late answer about a window that has ended
        opened = self.opened_at
        if (
            sent_at is not None
            and opened is not None
            and sent_at < opened
            and abs(reset - opened) <= same
        ):
            # A call sent before this window opened, refused with the end of the window
            # before it, read late (a busy event loop hands 429s back after their reset):
            # naming that end again reopened a window at each one, and the calls waiting
            # went in a storm. (Sent after the opening, the same answer means we opened
            # early, and it blocks.)
            return
        if self.last_reset is None or reset > self.last_reset + same:
            if self.last_reset is not None and exact:
                gap = reset - self.last_reset
                self.window_length = (
                    gap if self.window_length is None else _window_of(self.window_length, gap, same)
                )
            self.last_reset = reset
            self.epoch += 1
        self.hintless_level = 0
        self.window_end = max(reset, self.window_end or 0.0)
        if self.limit is not None:
            self.window_sent = max(self.window_sent, self.limit)
        # Land just after the server's reset, not on it (the hint may be rounded down).
        self.blocked_until = max(self.blocked_until, self.opening(reset))

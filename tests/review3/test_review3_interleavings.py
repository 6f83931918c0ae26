"""Review 3: random interleavings of admit / record / release on one WindowPolicy."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from segmind_gemini.ratelimit.policy import PROBE_STALE, Ticket, Turn, WindowPolicy

OPS = st.lists(
    st.tuples(
        st.sampled_from(["admit", "admit", "admit", "ok", "ok", "429", "release", "none", "tick"]),
        st.integers(0, 50),  # which outstanding ticket
        st.floats(-3.0, 3.0),  # a signed hint
        st.booleans(),  # exact
        st.floats(0.0, 2.0),  # time step
    ),
    max_size=200,
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(ops=OPS, crowded=st.booleans())
def test_no_leaked_probe_and_no_deadlock(
    ops: list[tuple[str, int, float, bool, float]], crowded: bool
) -> None:
    p = WindowPolicy(crowded=crowded)
    now = 0.0
    out: list[Ticket] = []
    for op, which, hint, exact, step in ops:
        if op == "tick":
            now += step
        elif op == "admit":
            if p.free_at(now, Turn()) <= now:
                out.append(p.admit(now, Turn(), busy=True))
        elif out:
            t = out.pop(which % len(out))
            now += 0.01
            if op == "ok":
                p.record(t, 200, None, now, busy=True)
            elif op == "429":
                p.record(t, 429, hint, now, exact=exact, busy=True)
            elif op == "none":
                p.record(t, None, None, now, busy=True)
            else:
                p.release(t)
        # invariants
        ids = {t.id for t in out}
        assert p.probe_id is None or p.probe_id in ids, ("leaked probe", p.probe_id)
        assert p.limit is None or p.limit >= 1, p.limit
        assert p.window_sent >= 0 and p.room >= 1 and p.window_ok >= 0
        at = p.free_at(now, Turn())
        assert math.isfinite(at)
    # With nothing outstanding, a call goes within a bounded time (no deadlock).
    for t in out:
        p.release(t)
    at = p.free_at(now, Turn())
    assert at - now <= PROBE_STALE + 60, (at - now, p)
    later = max(at, now)
    assert p.free_at(later, Turn()) <= later + 1e-9
    p.admit(later, Turn(), busy=True)

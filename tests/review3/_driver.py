"""Adversarial fake-clock driver for WindowPolicy (review 3).

Like tests/test_rate_limits.simulate_independent, with knobs: per-process backlog and start
time, random per-call latency (answers out of order), a server limit that changes mid-run,
processes that stop mid-run (their tickets never answered), tickets released, a server
window already used by someone else at the start, and a log of 429s per server window.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from segmind_gemini.ratelimit.policy import Turn, WindowPolicy


@dataclass
class Run:
    wall: float
    refused: int
    refused_by_window: dict[int, int]
    sent_by_window: dict[int, int]
    done: int
    policies: list[WindowPolicy]
    stuck: bool = False
    notes: list[str] = field(default_factory=list)


def drive(
    backlogs: list[int],
    limit: int | Callable[[int], int],
    window: float,
    *,
    latency: Callable[[random.Random], float] | float = 0.0,
    starts: list[float] | None = None,
    seed: int = 0,
    pre_used: dict[int, int] | None = None,
    release_share: float = 0.0,
    stop_at: dict[int, float] | None = None,
    horizon: float | None = None,
    hints: bool = True,
    signed: bool = True,
    more: dict[int, list[tuple[float, int]]] | None = None,
    skew: float = 0.0,
    service: Callable[[random.Random], float] | float = 0.0,
    floor_s: bool = False,
) -> Run:
    rng = random.Random(seed)
    n = len(backlogs)
    starts = starts or [0.0] * n
    stop_at = stop_at or {}
    more = {p: sorted(v) for p, v in (more or {}).items()}
    policies = [WindowPolicy() for _ in range(n)]
    backlog = list(backlogs)
    total = sum(backlogs) + sum(c for v in more.values() for _, c in v)
    used: dict[int, int] = dict(pre_used or {})
    sent_by: dict[int, int] = {}
    refused_by: dict[int, int] = {}
    refused = 0
    answers: list[tuple[float, int, int, Any, int, float | None]] = []
    seq = 0
    done = 0
    lost = 0
    now = min(starts)
    lim = limit if callable(limit) else (lambda _i, v=limit: v)
    horizon = horizon if horizon is not None else 400 * window * (total / max(lim(0), 1) + 2)

    def alive(p: int) -> bool:
        return now >= starts[p] and now < stop_at.get(p, math.inf)

    def lat() -> float:
        return latency(rng) if callable(latency) else latency

    while True:
        for p, extra in more.items():
            while extra and extra[0][0] <= now:
                backlog[p] += extra.pop(0)[1]
        target = total - lost - sum(backlog[p] for p in stop_at if now >= stop_at[p])
        if done >= target and not any(more.values()):
            break
        progressed = True
        while progressed:
            progressed = False
            for p in range(n):
                if not (backlog[p] and alive(p)):
                    continue
                pol = policies[p]
                if pol.free_at(now, Turn()) > now:
                    continue
                ticket = pol.admit(now, Turn(), busy=backlog[p] > 1)
                progressed = True
                if release_share and rng.random() < release_share:
                    pol.release(ticket)  # cancelled before sending
                    continue
                backlog[p] -= 1
                there = lat()
                arrival = now + there
                index = math.floor(arrival / window)
                sent_by[index] = sent_by.get(index, 0) + 1
                status, hint = 200, None
                if used.get(index, 0) < lim(index):
                    used[index] = used.get(index, 0) + 1
                else:
                    back = lat()
                    status = 429
                    refused += 1
                    refused_by[index] = refused_by.get(index, 0) + 1
                    if hints:
                        reset = (index + 1) * window - skew
                        if floor_s:
                            reset = math.floor(reset)
                        hint = reset - (arrival + back)
                        if not signed:
                            hint = max(0.0, hint)
                    seq += 1
                    heapq.heappush(answers, (arrival + back, seq, p, ticket, status, hint))
                    continue
                seq += 1
                serve = service(rng) if callable(service) else service
                heapq.heappush(answers, (arrival + lat() + serve, seq, p, ticket, status, hint))
        upcoming = answers[0][0] if answers else math.inf
        for p, pol in enumerate(policies):
            if backlog[p] and now < stop_at.get(p, math.inf):
                if now < starts[p]:
                    upcoming = min(upcoming, starts[p])
                else:
                    upcoming = min(upcoming, max(pol.free_at(now, Turn()), now + 1e-6))
        for extra in more.values():
            if extra:
                upcoming = min(upcoming, extra[0][0])
        for t in stop_at.values():
            if t > now:
                upcoming = min(upcoming, t)
        if upcoming == math.inf:
            return Run(now, refused, refused_by, sent_by, done, policies, stuck=True)
        now = upcoming
        if now > horizon:
            return Run(now, refused, refused_by, sent_by, done, policies, stuck=True)
        while answers and answers[0][0] <= now:
            _, _, p, ticket, status, hint = heapq.heappop(answers)
            if now >= stop_at.get(p, math.inf):
                lost += 1
                continue  # the process is gone: nobody hears the answer
            policies[p].record(ticket, status, hint, now, busy=backlog[p] > 0)
            if status == 429:
                backlog[p] += 1
            else:
                done += 1
    return Run(now, refused, refused_by, sent_by, done, policies)


def per_window(run: Run, first: int, last: int) -> list[int]:
    return [run.refused_by_window.get(i, 0) for i in range(first, last)]

"""Rate limits: 200 calls against a server that admits 20 per 1-second window.

A stub in its own process enforces fixed windows per key, the way Segmind does
(``429 {"error": ...}`` with ``x-rate-limit-reset-at-utc``, or with no hint at all),
and counts what it answered. Side by side, in one run:

* the governor with nothing configured (it learns from the 429s);
* the governor with ``requests_per_minute`` set to the limit;
* the governor when the server sends no reset hint;
* per-call retries only: the package as released before the governor (c254dbb),
  imported from ``git archive`` into a temporary folder;
* LangChain's ``InMemoryRateLimiter`` set to the limit, on that same earlier release.

    python benchmarks/bench_rate_limits.py           # prints the table
    python benchmarks/bench_rate_limits.py --write   # also writes benchmarks/results/rate_limits.md

Goals (issue #8): 200/200 answers with the governor; wall time within 1.15x the floor
(the 10th window opens 9 s after the first); after the first window, 429s under 10% of
the limit per window, and with ``requests_per_minute`` set almost none.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _stub import BODY, HEADERS, serve_in_process

LIMIT, WINDOW, CALLS = 20, 1.0, 200
KEY = "bench-key"
REQUEST = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
BEFORE_GOVERNOR = "c254dbb"
ROOT = Path(__file__).resolve().parent.parent


def _serve(port: int, limit: int, window: float, hints: bool) -> None:
    from datetime import datetime, timezone

    from aiohttp import web

    counts: dict[tuple[str, int], int] = {}
    stats = {"ok": 0, "429": 0, "429_by_window": {}}

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        key = request.headers.get("x-api-key", "")
        index = int(time.time() // window)
        used = counts.get((key, index), 0)
        if used >= limit:
            stats["429"] += 1
            by = stats["429_by_window"]
            by[str(index)] = by.get(str(index), 0) + 1
            headers = {}
            if hints:
                reset = datetime.fromtimestamp((index + 1) * window, timezone.utc)
                headers["x-rate-limit-reset-at-utc"] = reset.isoformat(timespec="milliseconds")
            return web.json_response({"error": "Rate limit exceeded"}, status=429, headers=headers)
        counts[(key, index)] = used + 1
        stats["ok"] += 1
        return web.Response(body=BODY, headers=HEADERS)

    async def read_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    async def reset(request: web.Request) -> web.Response:
        counts.clear()
        stats.update({"ok": 0, "429": 0, "429_by_window": {}})
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/v1/{slug}", answer)
    app.router.add_get("/stats", read_stats)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, backlog=1024, access_log=None)


@contextmanager
def limited_stub(hints: bool) -> Iterator[str]:
    with serve_in_process(_serve, LIMIT, WINDOW, hints) as origin:
        yield origin


def _stats(origin: str) -> dict[str, object]:
    import httpx

    return dict(httpx.get(f"{origin}/stats").json())


def _reset(origin: str) -> None:
    import httpx

    httpx.post(f"{origin}/reset")
    # Start each run at the beginning of a window, so every row sees the same phase.
    time.sleep(WINDOW - (time.time() % WINDOW) + 0.01)


# The calls themselves run in a child interpreter, so each row has a fresh process
# (no governor state carried over) and the earlier release can be imported instead.
RUNNER = r"""
import asyncio, json, sys, time
mode, base, key, limit, window, calls = sys.argv[1:7]
limit, window, calls = int(limit), float(window), int(calls)
request = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}

async def main():
    if mode == "langchain-limiter":
        from langchain_core.rate_limiters import InMemoryRateLimiter
        from langchain_segmind_gemini import ChatSegmindGemini
        limiter = InMemoryRateLimiter(
            requests_per_second=limit / window, check_every_n_seconds=0.01, max_bucket_size=limit
        )
        chat = ChatSegmindGemini(
            model="gemini-2.5-flash", api_key=key, base_url=base, rate_limiter=limiter
        )
        results = await chat.abatch(
            ["hi"] * calls, config={"max_concurrency": calls}, return_exceptions=True
        )
        return results
    from segmind_gemini import SegmindGeminiClient
    kw = {}
    if mode == "rpm":
        kw = {"requests_per_minute": limit, "rate_limit_window": window}
    async with SegmindGeminiClient(key, model="gemini-2.5-flash", base_url=base, **kw) as c:
        return await asyncio.gather(
            *(c.agenerate_content(request) for _ in range(calls)), return_exceptions=True
        )

start = time.perf_counter()
results = asyncio.run(main())
wall = time.perf_counter() - start
errors = [r for r in results if isinstance(r, BaseException)]
import segmind_gemini
print(json.dumps({"answers": len(results) - len(errors), "errors": len(errors), "wall": wall,
                  "package": segmind_gemini.__file__}))
"""


def _run(mode: str, origin: str, pythonpath: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    env.pop("SEGMIND_REQUESTS_PER_MINUTE", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            mode,
            f"{origin}/v1",
            KEY,
            str(LIMIT),
            str(WINDOW),
            str(CALLS),
        ],
        env=env,
        cwd=tempfile.gettempdir(),  # not the checkout: `python -c` puts the cwd first
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    if not str(result.pop("package")).startswith(pythonpath):
        raise RuntimeError(f"the run for {mode!r} imported the wrong package")
    return result


@contextmanager
def earlier_release() -> Iterator[str]:
    """The three packages as they were before the governor, in a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "archive",
                BEFORE_GOVERNOR,
                "segmind_gemini",
                "langchain_segmind_gemini",
                "llama_index_segmind_gemini",
            ],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield tmp


def _floor() -> float:
    """When the last window the calls need opens: runs start on a window's first instant."""
    return (math.ceil(CALLS / LIMIT) - 1) * WINDOW


def _row(label: str, result: dict[str, float], stats: dict[str, object]) -> str:
    floor = _floor()
    by_window = sorted((int(k), int(v)) for k, v in dict(stats["429_by_window"]).items())
    later = sum(v for _, v in by_window[1:])
    windows_after = max(1, math.ceil(result["wall"] / WINDOW) - 1)
    per_window = later / windows_after
    return (
        f"| {label} | {int(result['answers'])}/{CALLS} | {result['wall']:.2f} s "
        f"({result['wall'] / floor:.2f}x) | {stats['429']} | {per_window:.1f} "
        f"({per_window / LIMIT:.0%} of the limit) |"
    )


def main() -> None:
    rows = []
    ours = str(ROOT)
    with earlier_release() as before:
        for label, hints, mode, path in [
            ("governor, nothing configured", True, "learn", ours),
            ("governor, `requests_per_minute=20` (per 1 s window)", True, "rpm", ours),
            ("governor, server sends no reset hint", False, "learn", ours),
            ("per-call retries only (release before the governor)", True, "learn", before),
            (
                "LangChain `InMemoryRateLimiter(20/s)` (release before)",
                True,
                "langchain-limiter",
                before,
            ),
        ]:
            with limited_stub(hints) as origin:
                _reset(origin)
                result = _run(mode, origin, path)
                rows.append(_row(label, result, _stats(origin)))
                print(rows[-1], flush=True)
    floor = _floor()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}; stub in its own process admitting {LIMIT} requests per "
        f"{WINDOW:g} s window per key; {CALLS} concurrent calls started at a window's "
        f"start; floor {floor:.0f} s (the {math.ceil(CALLS / LIMIT)}th window opens then).",
        "",
        "| strategy | answers | wall time (x floor) | 429s in all | 429s per window after "
        "the first |",
        "|---|---|---|---|---|",
        *rows,
    ]
    text = "\n".join(lines)
    print()
    print(text)
    if "--write" in sys.argv:
        out = Path(__file__).parent / "results" / "rate_limits.md"
        out.write_text(text + "\n")


if __name__ == "__main__":
    main()

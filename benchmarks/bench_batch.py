"""Bulk jobs: 1,000 jobs through ``run_batch`` against a stub admitting 50 calls a second.

The stub runs in its own process and enforces fixed 1-second windows per key, as Segmind
does per minute (``429 {"error": ...}`` with ``x-rate-limit-reset-at-utc``). Rows:

* ``requests_per_minute=50`` over a 1 s window (``rate_limit_window=1.0``): paced from
  the first call;
* nothing configured: the governor learns the limit from the stub's 429s.

Measured: wall time against the floor the rate implies (the last window the 1,000 calls
need must have begun: ``ceil(1000 / 50) - 1`` windows after the one the first call falls
in, so the floor depends on where in its window the run starts), the 429s the stub sent,
and the batch process's own CPU time per job (runner, rate governor, HTTP client and
output writing; the stub is another process).

    python benchmarks/bench_batch.py           # prints the table
    python benchmarks/bench_batch.py --write   # also writes benchmarks/results/batch.md

Goal (issue #13): wall time within 1.1x the floor.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import platform
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _stub import serve_in_process
from bench_rate_limits import _serve

LIMIT, WINDOW, JOBS, CONCURRENCY = 50, 1.0, 1000, 32
KEY = "bench-key"


def limited_stub() -> AbstractContextManager[str]:
    # The rate-limit benchmark's stub: fixed windows per key, 429s with the reset time.
    return serve_in_process(_serve, LIMIT, WINDOW, True)


def _floor(started_at: float) -> float:
    """Seconds from ``started_at`` (Unix time) until the last needed window begins."""
    first_window = math.floor(started_at / WINDOW)
    last_window = first_window + math.ceil(JOBS / LIMIT) - 1
    return last_window * WINDOW - started_at


def run_row(origin: str, jobs_file: Path, rpm: int | None) -> dict[str, float]:
    import httpx

    from segmind_gemini.batch import run_batch
    from segmind_gemini.governor import forget_rate_limits

    forget_rate_limits()
    httpx.post(f"{origin}/reset")
    out = jobs_file.with_name(f"out-{rpm}.jsonl")
    out.unlink(missing_ok=True)
    cpu0, wall0, unix0 = time.process_time(), time.perf_counter(), time.time()
    summary = run_batch(
        jobs_file,
        out,
        api_key=KEY,
        base_url=f"{origin}/v1",
        model="gemini-2.5-flash",
        concurrency=CONCURRENCY,
        requests_per_minute=rpm,
        rate_limit_window=WINDOW,
        progress=False,
    )
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    lines = out.read_text().splitlines()
    ids = {json.loads(line)["id"] for line in lines}
    stats = httpx.get(f"{origin}/stats").json()
    return {
        "answered": summary.succeeded,
        "lines": len(lines),
        "unique": len(ids),
        "wall": wall,
        "floor": _floor(unix0),
        "cpu_per_job_ms": cpu / JOBS * 1000,
        "429": stats["429"],
    }


def main() -> None:
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, limited_stub() as origin:
        jobs_file = Path(tmp) / "jobs.jsonl"
        jobs_file.write_text(
            "".join(
                json.dumps({"id": f"j{i}", "prompt": f"question {i}"}) + "\n" for i in range(JOBS)
            )
        )
        for label, rpm in (
            ("requests_per_minute=50 (1 s window)", LIMIT),
            ("learned from 429s", None),
        ):
            r = run_row(origin, jobs_file, rpm)
            rows.append(
                f"| {label} | {r['answered']:.0f}/{JOBS} "
                f"| {r['unique']:.0f} ids in {r['lines']:.0f} lines "
                f"| {r['wall']:.2f} s | {r['floor']:.2f} s | {r['wall'] / r['floor']:.3f}x "
                f"| {r['429']:.0f} | {r['cpu_per_job_ms']:.2f} ms |"
            )
    table = "\n".join(
        [
            "| pacing | answered | output | wall | floor | wall / floor | 429s | CPU per job |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]
    )
    print(table)
    if "--write" in sys.argv:
        out = Path(__file__).parent / "results" / "batch.md"
        out.write_text(
            "# Bulk jobs: 1,000 jobs against a stub admitting 50 calls per 1 s window\n\n"
            f"`python benchmarks/bench_batch.py --write`; {platform.python_version()}, "
            f"{mp.cpu_count()} cores, concurrency {CONCURRENCY}. The floor is the time until "
            "the last window the calls need begins; CPU per job is the batch process's "
            "(runner, governor, HTTP client, output), the stub being another process.\n\n"
            f"{table}\n"
        )
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

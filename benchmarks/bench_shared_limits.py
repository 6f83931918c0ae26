"""One key shared by 1, 2, 4 and 8 processes, with each rate store (issue 16).

Real processes (``tests/rate_worker.py``) call one ``SegmindEmulator`` that admits 20
calls per 2-second window per key (Segmind's fixed windows, ``--rate-limit 20/2``), over
sockets, all starting together at a window boundary once every interpreter is ready.
The floor is when the last window the calls need opens. For each store: wall time as a
multiple of the floor, answers, and 429s per window.

    python benchmarks/bench_shared_limits.py                  # 200 calls, every store
    python benchmarks/bench_shared_limits.py --calls 100 --stores machine redis
    python benchmarks/bench_shared_limits.py --write   # also writes benchmarks/results/
    python benchmarks/bench_shared_limits.py --per-call  # the store's cost when nothing limits

Redis runs start a private ``redis-server`` on a free port (skipped when it is missing).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from test_shared_rate_limits import LIMIT, WINDOW, start_together, start_workers  # noqa: E402

from segmind_gemini.testing import SegmindEmulator  # noqa: E402


def _redis(folder: Path) -> tuple[str, subprocess.Popen[bytes]] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return f"redis://127.0.0.1:{port}/0", proc


def run(store: str, processes: int, calls: int, folder: Path) -> dict[str, float | int]:
    each = calls // processes
    env = {"SEGMIND_GEMINI_CACHE_DIR": str(folder / f"cache-{store[:5]}-{processes}")}
    env["SEGMIND_RATE_LIMIT_STORE"] = "" if store == "machine" else store
    with SegmindEmulator(api_key="shared-key", rate_limit=(LIMIT, WINDOW)) as emulator:
        procs = start_workers(emulator, [(each, "core", env)] * processes)
        start_at = start_together(procs)
        outs = [json.loads(p.communicate(timeout=900)[0].strip().splitlines()[-1]) for p in procs]
        refused = emulator.rate_limited
    total = each * processes
    floor = (math.ceil(total / LIMIT) - 1) * WINDOW
    wall = max(out["end"] for out in outs) - start_at
    return {
        "answered": sum(out["answers"] for out in outs),
        "calls": total,
        "wall": wall,
        "x_floor": wall / floor,
        "refused_per_window": refused / max(1.0, wall / WINDOW),
        "refused": refused,
    }


def per_call(folder: Path, rounds: int = 5, calls: int = 2000) -> None:
    """The governor's cost per call while no limit is in play: ``try_acquire`` + ``record``
    in a loop, no server, best of ``rounds`` (each store counts every call it admits)."""
    from segmind_gemini.ratelimit.governor import RateGovernor
    from segmind_gemini.ratelimit.policy import Turn
    from segmind_gemini.ratelimit.store import SqliteStore

    stores = {"process": None, "machine": SqliteStore("machine", folder / "per-call.sqlite3")}
    for name, store in stores.items():
        governor = RateGovernor("bench", store=store, key="k")
        best = math.inf
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(calls):
                ticket = governor.try_acquire(Turn())
                assert ticket is not None
                governor.record(ticket, 200)
            best = min(best, (time.perf_counter() - start) / calls)
        print(f"per call, {name} store, nothing limited: {best * 1e6:.1f} us", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 2, 4, 8])
    parser.add_argument("--stores", nargs="*", default=["machine", "sqlite", "redis", "process"])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--per-call", action="store_true")
    args = parser.parse_args()
    if args.per_call:
        with tempfile.TemporaryDirectory() as tmp:
            per_call(Path(tmp))
        return
    rows = [
        "| store | processes x calls | answered | wall | x floor | 429s | 429s per window |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        redis = _redis(folder) if "redis" in args.stores else None
        try:
            for name in args.stores:
                if name == "redis" and redis is None:
                    print("redis: skipped, redis-server is not installed")
                    continue
                spec = {
                    "sqlite": f"sqlite:///{folder / 'shared.sqlite3'}",
                    "redis": redis[0] if redis else "",
                }.get(name, name)
                for n in args.processes:
                    result = run(spec, n, args.calls, folder)
                    answered = f"{result['answered']}/{result['calls']}"
                    row = (
                        f"| {name} | {n} x {args.calls // n} | {answered}"
                        f" | {result['wall']:.1f} s | {result['x_floor']:.2f} | {result['refused']}"
                        f" | {result['refused_per_window']:.1f} |"
                    )
                    rows.append(row)
                    print(row, flush=True)
        finally:
            if redis is not None:
                redis[1].kill()
    table = "\n".join(rows)
    print(table)
    if args.write:
        out = ROOT / "benchmarks" / "results" / "shared_limits.md"
        out.write_text(
            "# Shared rate limits (benchmarks/bench_shared_limits.py)\n\n"
            f"Emulator: {LIMIT} calls per {WINDOW:g} s window per key; {args.calls} calls.\n\n"
            + table
            + "\n"
        )


if __name__ == "__main__":
    main()

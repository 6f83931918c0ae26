"""Independent processes on one key, no shared store: the fake-clock grid (issue 16).

Drives ``simulate_independent`` from ``tests/test_rate_limits.py`` (N policies that share
nothing against one fixed-window server) over a grid: 1-8 processes, limits 2-40, windows
of 1, 10 and 60 s, latency 0-30% of a window, first-burst-first and five interleavings.
Prints, per process count and run length (in windows' worth of calls), the worst wall
time as a multiple of the floor: the earliest a sender that knew everything could finish.

    python benchmarks/bench_fairness_simulation.py            # started at a window boundary
    python benchmarks/bench_fairness_simulation.py --anywhere # started anywhere in a window
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from test_rate_limits import simulate_independent  # noqa: E402

RUNS = (2, 3, 4, 5, 8, 16)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--anywhere", action="store_true", help="phases 0, 0.37, 0.8")
    args = parser.parse_args()
    phases = (0.0, 0.37, 0.8) if args.anywhere else (0.0,)
    print("processes | " + " | ".join(f"{w} windows" for w in RUNS))
    print("|".join(["---"] * (len(RUNS) + 1)))
    for processes in range(1, 9):
        worst = []
        for windows in RUNS:
            ratios = [
                simulate_independent(
                    processes, limit, window, limit * windows, lat * window, phase * window, order
                )[0]
                for limit in (2, 5, 13, 20, 40)
                for window in (1.0, 10.0, 60.0)
                for lat in (0.0, 0.03, 0.1, 0.2, 0.3)
                for phase in phases
                for order in (None, 1, 2, 3, 4, 5)
            ]
            worst.append(max(ratios))
        print(f"{processes} | " + " | ".join(f"{r:.2f}x" for r in worst), flush=True)


if __name__ == "__main__":
    main()

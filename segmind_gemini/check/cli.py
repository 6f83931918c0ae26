"""``segmind-gemini check``: ask, run the probes, print and save the report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from segmind_gemini.check import DEFAULT_MODEL, format_table, planned_calls, run_checks
from segmind_gemini.check.report import target_of
from segmind_gemini.client.gemini_client import SegmindGeminiClient
from segmind_gemini.settings import API_KEY_ENV, BASE_URL_ENV, resolve_base_url

__all__ = ["add_parser", "estimate_cost", "run"]

# One model's full check at Google's list prices (USD), rounded up: about 2,500 input and
# at most 1,500 output tokens (mostly the thinking probe's budget). Segmind bills its own
# x-cost per call, which the total at the end reports.
_ESTIMATES = (("lite", 0.001), ("flash", 0.005), ("pro", 0.02))


def estimate_cost(models: list[str]) -> float:
    """An upper estimate of what checking ``models`` costs (unknown families as pro)."""
    total = 0.0
    for slug in models:
        total += next((usd for family, usd in _ESTIMATES if family in slug), _ESTIMATES[-1][1])
    return total


def add_parser(sub: Any) -> None:
    """Add the ``check`` subcommand to the CLI's subparsers."""
    check = sub.add_parser(
        "check",
        help="measure what the live gateway does with each Gemini feature (billed)",
    )
    check.add_argument(
        "--model",
        action="append",
        metavar="SLUG",
        help=f"a slug to check (repeatable; {DEFAULT_MODEL} when none is given)",
    )
    check.add_argument("--record", metavar="DIR", help="write vcrpy cassettes under DIR/check/")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--yes", action="store_true", help="do not ask before sending")
    check.add_argument(
        "--base-url", default=None, help=f"the API base (default: ${BASE_URL_ENV}, else Segmind's)"
    )
    check.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per call (default: 120)"
    )
    check.set_defaults(run=run)


def _plan(models: list[str], base_url: str, target: str) -> str:
    calls = planned_calls(models)
    head = (
        f"segmind-gemini check will make {calls} calls to {base_url} "
        f"({len(models)} model{'s' if len(models) > 1 else ''}: {', '.join(models)}), "
        "plus a few status polls for the queue probe."
    )
    if target == "emulator":
        return (
            f"{head}\nTarget: an EMULATOR (a loopback address), not Segmind: nothing is billed, "
            "its x-cost figures are made up, and what it does with images, PDFs, audio or "
            "system instructions says nothing about Segmind."
        )
    return (
        f"{head} Estimated cost: at most about ${estimate_cost(models):.3f} at Google's list "
        "prices; Segmind bills its own price per call (x-cost), and the total printed at the "
        "end is what you pay."
    )


def _total(cost: float, models: list[str], target: str) -> str:
    if target == "emulator":
        return f"x-cost total reported by the emulator: ${cost:.6f} (made up; nothing billed)"
    estimate = estimate_cost(models)
    line = f"Total cost from x-cost: ${cost:.6f} (estimated at most about ${estimate:.3f})"
    if cost > estimate:
        line += "; above the estimate: Segmind's price per call is above Google's list price"
    return line


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The ``check`` subcommand; returns the exit code."""
    from segmind_gemini.reports import save_report

    key = (os.environ.get(API_KEY_ENV) or "").strip()
    if not key:
        print(
            f"segmind-gemini check needs a Segmind API key: set {API_KEY_ENV} "
            "(keys are at https://cloud.segmind.com/console/api-keys), then run it again. "
            "Nothing was sent.",
            file=err,
        )
        return 2
    models = list(dict.fromkeys(args.model or [DEFAULT_MODEL]))
    base_url = resolve_base_url(args.base_url)
    plan = _plan(models, base_url, target_of(base_url))
    if not args.yes:
        if not sys.stdin.isatty():
            print(
                f"{plan}\nNot asking without a terminal: pass --yes to run. Nothing was sent.",
                file=err,
            )
            return 2
        print(f"{plan}\nContinue? [y/N] ", end="", file=err, flush=True)
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            print("Cancelled. Nothing was sent.", file=err)
            return 1
    else:
        print(plan, file=err)

    def progress(slug: str, probe: str, result: Any) -> None:
        print(f"  {slug} {probe}: {result.status}", file=err, flush=True)

    with SegmindGeminiClient(base_url=base_url, timeout=args.timeout, max_retries=4) as client:
        report = run_checks(
            client, models, record_dir=args.record, progress=progress, secrets=[key]
        )
    # A gateway may echo the key in an error in any spelling; none reaches the output.
    report = report.scrubbed([key])
    data = report.as_json()
    saved = save_report(data)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False), file=out)
    else:
        print(format_table(report), file=out)
    banner = report.banner()
    if banner:
        print(banner, file=err)
    print(_total(report.cost, models, report.target), file=err)
    print(f"Report saved to {saved}", file=err)
    if args.record:
        print(f"Cassettes written under {Path(args.record) / 'check'}", file=err)
    if report.stopped:
        print(f"Stopped early: {report.stopped}", file=err)
        return 1
    return 0

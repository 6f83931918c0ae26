"""What a run did (:class:`BatchSummary`), its exit code, and what to do next."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

__all__ = [
    "EXIT_BUDGET",
    "EXIT_FAILED",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OUTPUT",
    "RERUN_ERRORS",
    "BatchSummary",
    "retry_may_fix",
]

Stopped = Literal["budget", "interrupted", "fatal", "output"]

#: Exit codes of ``segmind-gemini batch`` (also :attr:`BatchSummary.exit_code`).
EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_BUDGET, EXIT_OUTPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

#: Errors that are the run's, not the job's (a wrong key, an empty balance): a plain
#: rerun of the same command redoes their lines, without ``--retry-errors``.
RERUN_ERRORS = frozenset({"AuthenticationError", "MissingAPIKeyError", "InsufficientCreditsError"})
# Errors the same request gets again: only a changed input fixes them.
_INPUT_ERRORS = frozenset(
    {
        "InvalidRequestError",
        "MediaError",
        "BadRequestError",
        "NotFoundError",
        "ModelRetiredError",
        "PermissionDeniedError",
        "InvalidContentTypeError",
        "ContentBlockedError",
    }
)


def retry_may_fix(error_type: str) -> bool:
    """Whether ``--retry-errors`` can turn an error line of this type into an answer."""
    return error_type not in _INPUT_ERRORS


@dataclass
class BatchSummary:
    """What a batch run did. ``stopped`` says why it ended early, if it did."""

    output: str
    total: int = 0
    skipped: int = 0
    succeeded: int = 0
    failed: int = 0
    bad_lines: int = 0
    not_started: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    #: USD from ``x-cost``, summed exactly (see :attr:`exact_cost`).
    cost: float = 0.0
    wall_time: float = 0.0
    stopped: Stopped | None = None
    max_cost: float | None = None
    dry_run: bool = False
    estimated_input_tokens: int = 0
    estimated_seconds: float | None = None
    requests_per_minute: int | None = None
    #: Ids left with an error line from an earlier run (not redone without retry_errors).
    earlier_errors: int = 0
    #: Why the run stopped starting jobs when ``stopped`` is ``"fatal"`` or ``"output"``.
    fatal: str | None = None
    #: The error types of :attr:`earlier_errors`.
    earlier_error_types: dict[str, int] = field(default_factory=dict)
    #: The exact spend of this run.
    exact_cost: Decimal = Decimal(0)
    #: Calls whose ``x-cost`` was missing or unreadable (their cost is ``null``).
    unpriced_calls: int = 0
    #: Finished jobs whose line could not be written (``stopped == "output"``).
    lost: int = 0

    def count_error(self, error_type: str, *, bad_line: bool = False) -> None:
        """Count one job that ended in an error line."""
        self.failed += 1
        self.bad_lines += bad_line
        self.errors[error_type] = self.errors.get(error_type, 0) + 1

    @property
    def exit_code(self) -> int:
        """0 all answered, 1 some errors, 2 bad input in a dry run, 3 budget, 4 output
        unwritable, 130 interrupted."""
        if self.stopped == "interrupted":
            return EXIT_INTERRUPTED
        if self.stopped == "output":
            return EXIT_OUTPUT
        if self.stopped == "budget":
            return EXIT_BUDGET
        if self.dry_run:
            return EXIT_INPUT if self.bad_lines else EXIT_OK
        return EXIT_FAILED if self.failed or self.earlier_errors or self.fatal else EXIT_OK

    def format(self) -> str:
        """A few lines for a person: counts by outcome, tokens, cost, wall time."""
        if self.dry_run:
            return _format_dry_run(self)
        lines = [
            f"Batch: {self.succeeded} answered, {self.failed} failed"
            + (f" ({self.bad_lines} bad input lines)" if self.bad_lines else "")
            + f", {self.skipped} already done, {self.not_started} not started"
            + f" (of {self.total} jobs) in {self.wall_time:.1f} s",
            f"Tokens: {self.input_tokens} in, {self.output_tokens} out; "
            f"cost ${self.exact_cost} (from x-cost)",
        ]
        if self.unpriced_calls:
            lines.append(
                f"Warning: {self.unpriced_calls} call(s) had no readable x-cost; their cost is "
                "null in the output and not counted above or against --max-cost."
            )
        if self.errors:
            lines.append("Errors: " + ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())))
        lines.extend(_stop_lines(self))
        if self.earlier_errors:
            lines.append(
                f"{self.earlier_errors} job(s) still have an error line from an earlier run."
            )
        lines.extend(_next_steps(self))
        lines.append(f"Output: {self.output}")
        return "\n".join(lines)


def _stop_lines(s: BatchSummary) -> list[str]:
    if s.stopped == "budget":
        return [
            f"Stopped: the budget of ${s.max_cost:g} would have been passed by the next job; "
            "in-flight jobs were finished. --max-cost is per run: the same command run again "
            f"continues with the {s.not_started} job(s) left and may spend up to "
            f"${s.max_cost:g} more."
        ]
    if s.stopped == "interrupted":
        return ["Interrupted: jobs that were not finished have no line yet."]
    if s.stopped == "fatal":
        return [
            f"Stopped: {s.fatal}. No more jobs were started (every other job would fail "
            "the same way); fix it and run the same command again to continue (it redoes "
            "the jobs this stopped)."
        ]
    if s.stopped == "output":
        lost = f"; {s.lost} finished job(s) could not be written" if s.lost else ""
        return [
            f"Stopped: {s.fatal}. No more jobs were started{lost}. Every line in the file is "
            "whole; free space and run the same command again: jobs without a line run then."
        ]
    return []


def _next_steps(s: BatchSummary) -> list[str]:
    if s.stopped in ("fatal", "output"):
        return []  # the stop line says what to do first
    types = dict(s.earlier_error_types)
    for name, count in s.errors.items():
        types[name] = types.get(name, 0) + count
    fixable = sum(n for k, n in types.items() if retry_may_fix(k) and k not in RERUN_ERRORS)
    rerun = sum(n for k, n in types.items() if k in RERUN_ERRORS)
    kept = sum(types.values()) - fixable - rerun
    lines = []
    if fixable:
        lines.append(
            f"Run again with --retry-errors to redo the {fixable} error(s) a retry may fix."
        )
    if rerun:
        lines.append(
            f"{rerun} job(s) failed on the key or the balance: fix that and run the same "
            "command again (they are redone)."
        )
    if kept:
        lines.append(
            f"{kept} error(s) come from the input (a bad line, file, parameter or prompt): "
            "a retry gets the same answer; fix the input and use --retry-errors."
        )
    return lines


def _format_dry_run(s: BatchSummary) -> str:
    to_send = s.total - s.skipped - s.bad_lines
    lines = [
        f"Dry run (nothing sent): {s.total} jobs, {s.skipped} already answered in "
        f"{s.output}, {s.bad_lines} bad, {to_send} to send.",
        f"Estimated input tokens: {s.estimated_input_tokens} "
        "(segmind_gemini.tokens; output tokens are not known in advance).",
    ]
    if s.requests_per_minute:
        lines.append(
            f"At {s.requests_per_minute} requests per minute: at least "
            f"{duration(s.estimated_seconds or 0.0)} (structured jobs that need a repair "
            "take a second call)."
        )
    else:
        lines.append(
            "No requests-per-minute set: the pace is learned from the server. At Segmind's "
            f"Pro plan (50/min) at least {duration(floor_seconds(to_send, 50))}, "
            f"on the free plan (5/min) {duration(floor_seconds(to_send, 5))}."
        )
    return "\n".join(lines)


def floor_seconds(calls: int, rpm: int) -> float:
    """The least time ``calls`` take at ``rpm``: the last call starts this long after the first."""
    return max(0, math.ceil(calls / rpm) - 1) * 60.0 if calls else 0.0


def duration(seconds: float) -> str:
    """``seconds`` for a person: seconds, minutes or hours."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"

"""Progress while a run goes: a live bar on a terminal, a line at intervals, or nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TextIO

from segmind_gemini.batch.summary import duration

__all__ = ["ProgressMode", "Reporter", "Stats", "make_reporter"]

ProgressMode = Literal["auto", "bar", "plain", "none"]


@dataclass
class Stats:
    """The running counts a reporter shows."""

    total: int
    done: int = 0
    failed: int = 0
    in_flight: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)
    started: float = field(default_factory=time.monotonic)

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed

    def eta(self) -> float | None:
        finished = self.done + self.failed
        elapsed = time.monotonic() - self.started
        if not finished or elapsed <= 0:
            return None
        return self.remaining / (finished / elapsed)


class Reporter:
    """Shows progress; the base class shows nothing (``--quiet``)."""

    def start(self, stats: Stats) -> None:
        pass

    def update(self, stats: Stats) -> None:
        pass

    def stop(self) -> None:
        pass


class PlainReporter(Reporter):
    """One line every ``interval`` seconds, for logs and pipes."""

    def __init__(self, stream: TextIO, interval: float) -> None:
        self.stream, self.interval = stream, interval
        self._last = 0.0

    def start(self, stats: Stats) -> None:
        self._last = time.monotonic()
        print(f"batch: {stats.total} jobs to run", file=self.stream, flush=True)

    def update(self, stats: Stats) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        eta = stats.eta()
        print(
            f"batch: {stats.done} done, {stats.failed} failed, {stats.remaining} remaining"
            f" ({stats.in_flight} in flight); tokens {stats.input_tokens} in /"
            f" {stats.output_tokens} out; cost ${stats.cost:.4f}"
            + (f"; ETA {duration(eta)}" if eta is not None else ""),
            file=self.stream,
            flush=True,
        )


class RichReporter(Reporter):
    """A live bar (rich) on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=stream),
            refresh_per_second=4,
        )
        self._task: Any = None

    @staticmethod
    def _detail(stats: Stats) -> str:
        return (
            f"[green]{stats.done} done[/] [red]{stats.failed} failed[/] "
            f"{stats.remaining} left · {stats.input_tokens}/{stats.output_tokens} tok · "
            f"${stats.cost:.4f}"
        )

    def start(self, stats: Stats) -> None:
        self._progress.start()
        self._task = self._progress.add_task("batch", total=stats.total, detail=self._detail(stats))

    def update(self, stats: Stats) -> None:
        self._progress.update(
            self._task, completed=stats.done + stats.failed, detail=self._detail(stats)
        )

    def stop(self) -> None:
        self._progress.stop()


def make_reporter(mode: ProgressMode | bool, stream: TextIO, interval: float) -> Reporter:
    if mode is False or mode == "none":
        return Reporter()
    want_bar = mode == "bar" or ((mode is True or mode == "auto") and stream.isatty())
    if want_bar:
        try:
            return RichReporter(stream)
        except ImportError:
            print(
                "batch: install segmind-gemini[batch] (rich) for a progress bar; "
                "printing progress lines instead",
                file=stream,
            )
    return PlainReporter(stream, interval)

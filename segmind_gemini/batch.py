"""Bulk jobs: run a file of prompts (or a folder of images) once, resumably.

    segmind-gemini batch jobs.jsonl -o answers.jsonl --max-cost 2
    segmind-gemini batch --images photos/ --prompt "Describe this image" -o captions.jsonl

From Python or a notebook, :func:`run_batch` does the same and returns a
:class:`BatchSummary`:

>>> summary = run_batch("jobs.jsonl", "answers.jsonl", model="gemini-2.5-flash")
>>> summary.succeeded, summary.failed, summary.cost

The output is JSONL with exactly one line per job id, written whole (one ``write``
call per line) as each job finishes. Rerunning the same command skips the ids that
already have a line; ``retry_errors`` redoes the ids whose line is an error (their
old lines are removed first by rewriting the file atomically). Input problems
(invalid JSON, no prompt, an unreadable file, an unsupported media type) become
error lines for their id, and the rest of the run goes on; duplicate ids stop the
run before anything is sent, since no output could then say which job an answer
belongs to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import mimetypes
import os
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from .client import SegmindGeminiClient
from .errors import (
    AuthenticationError,
    InsufficientCreditsError,
    InvalidRequestError,
    MediaError,
    SegmindError,
)
from .media import inline_part_from_bytes, part_from_url
from .request import build_request
from .response import GenerateContentResult
from .settings import resolve_requests_per_minute
from .structured import (
    Repair,
    StructuredOutputError,
    arun_repairing,
    extract_json,
    schema_instruction,
    validate_json,
    with_repair_turns,
)
from .tokens import count_request_tokens

__all__ = [
    "IMAGE_SUFFIXES",
    "BatchInputError",
    "BatchSummary",
    "Job",
    "read_jobs",
    "run_batch",
]

#: File name endings ``--images DIR`` picks up (GIF, BMP and TIFF are taken so that
#: they are reported as unsupported rather than silently skipped).
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".heic", ".heif", ".gif", ".bmp", ".tif", ".tiff"}
)
_JOB_KEYS = frozenset(
    {"id", "prompt", "system", "images", "files", "model", "schema", "generation_config"}
)
Stopped = Literal["budget", "interrupted", "fatal"]
ProgressMode = Literal["auto", "bar", "plain", "none"]

#: Exit codes of ``segmind-gemini batch`` (also :attr:`BatchSummary.exit_code`).
EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_BUDGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class BatchInputError(InvalidRequestError):
    """The job list cannot be run as given (duplicate ids, no jobs, bad arguments).

    Raised before anything is sent.
    """


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Job:
    """One line of the input: a prompt, optional media and settings.

    ``error`` is set for a line that cannot be run (its output line will be that error).
    """

    id: str
    line: int
    prompt: str = ""
    system: str | None = None
    images: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    model: str | None = None
    schema: Mapping[str, Any] | None = None
    generation_config: Mapping[str, Any] | None = None
    base_dir: Path = Path(".")
    error: str | None = None


def _line_id(line: int) -> str:
    return f"line:{line}"


def _bad(job_id: str, line: int, message: str) -> Job:
    return Job(id=job_id, line=line, error=message)


def _job_from_dict(obj: Any, line: int, base_dir: Path) -> Job:
    """A :class:`Job` from one parsed input object; problems give a job with ``error``."""
    if not isinstance(obj, Mapping):
        return _bad(_line_id(line), line, f"line {line} is not a JSON object")
    raw_id = obj.get("id")
    if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str) or not raw_id.strip():
        return _bad(_line_id(line), line, f'line {line} has no "id" (a non-empty string)')
    job_id = raw_id

    def bad(message: str) -> Job:
        return _bad(job_id, line, f"line {line} (id {job_id!r}): {message}")

    unknown = sorted(set(obj) - _JOB_KEYS)
    if unknown:
        return bad(
            f"unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(_JOB_KEYS))}"
        )
    prompt = obj.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return bad('"prompt" is missing or empty')
    system = obj.get("system")
    if system is not None and not isinstance(system, str):
        return bad('"system" must be a string')
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("images", "files"):
        value = obj.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return bad(f'"{key}" must be a list of paths or http(s) URLs')
        lists[key] = tuple(value)
    model = obj.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        return bad('"model" must be a Segmind slug such as "gemini-2.5-flash"')
    for key in ("schema", "generation_config"):
        if obj.get(key) is not None and not isinstance(obj.get(key), Mapping):
            return bad(f'"{key}" must be a JSON object')
    return Job(
        id=job_id,
        line=line,
        prompt=prompt,
        system=system,
        images=lists["images"],
        files=lists["files"],
        model=model,
        schema=obj.get("schema"),
        generation_config=obj.get("generation_config"),
        base_dir=base_dir,
    )


def read_jobs(path: str | Path) -> list[Job]:
    """Parse a JSONL job file; bad lines come back as jobs with ``error`` set.

    Blank lines are skipped. Relative media paths are taken from the file's folder.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchInputError(f"cannot read the job file {source}: {exc}") from exc
    jobs: list[Job] = []
    base_dir = source.resolve().parent
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            jobs.append(_bad(_line_id(number), number, f"line {number} is not valid JSON: {exc}"))
            continue
        except RecursionError:
            jobs.append(_bad(_line_id(number), number, f"line {number} nests too deeply"))
            continue
        jobs.append(_job_from_dict(obj, number, base_dir))
    return jobs


def image_jobs(
    folder: str | Path,
    prompt: str,
    *,
    system: str | None = None,
    model: str | None = None,
    schema: Mapping[str, Any] | None = None,
) -> list[Job]:
    """One job per image under ``folder`` (recursively, sorted); the id is the relative path."""
    root = Path(folder)
    if not root.is_dir():
        raise BatchInputError(f"--images needs a folder; {root} is not one")
    if not prompt or not prompt.strip():
        raise BatchInputError("--images needs --prompt TEXT: the question asked of every image")
    paths = sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    return [
        Job(
            id=p.relative_to(root).as_posix(),
            line=n,
            prompt=prompt,
            system=system,
            images=(p.relative_to(root).as_posix(),),
            model=model,
            schema=schema,
            base_dir=root.resolve(),
        )
        for n, p in enumerate(paths, start=1)
    ]


def _check_ids(jobs: list[Job]) -> None:
    seen: dict[str, list[int]] = {}
    for job in jobs:
        seen.setdefault(job.id, []).append(job.line)
    dupes = {k: v for k, v in seen.items() if len(v) > 1}
    if dupes:
        shown = "; ".join(
            f"{k!r} on lines {', '.join(map(str, v))}" for k, v in list(dupes.items())[:10]
        )
        more = f" (and {len(dupes) - 10} more)" if len(dupes) > 10 else ""
        raise BatchInputError(
            f"{len(dupes)} duplicate id(s) in the input: {shown}{more}. Every job needs its "
            "own id, since the output has one line per id. Nothing was sent."
        )


# --------------------------------------------------------------------------- requests


def _is_url(ref: str) -> bool:
    return ref[:7].lower() == "http://" or ref[:8].lower() == "https://"


def _load_part(ref: str, base_dir: Path) -> dict[str, Any]:
    if _is_url(ref):
        return part_from_url(ref)
    path = Path(ref).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read {ref}: {exc.strerror or exc}") from exc
    guessed = mimetypes.guess_type(path.name)[0]
    try:
        return inline_part_from_bytes(data, guessed)
    except MediaError as exc:
        raise MediaError(f"{ref}: {exc}") from exc


def build_job_request(job: Job) -> dict[str, Any]:
    """The Gemini request for ``job``, with every image and file loaded.

    Raises:
        MediaError: a file cannot be read or has a type Gemini does not accept.
    """
    parts: list[dict[str, Any]] = [{"text": job.prompt}]
    for ref in (*job.images, *job.files):
        parts.append(_load_part(ref, job.base_dir))
    system: list[str] = [job.system] if job.system else []
    if job.schema is not None:
        system.append(schema_instruction(job.schema))
    return build_request(
        [{"role": "user", "parts": parts}],
        system=system or None,
        generation_config=job.generation_config,
    )


def _parse_structured(text: str, schema: Mapping[str, Any]) -> Any:
    value = extract_json(text)
    problems = validate_json(value, schema)
    if problems:
        raise StructuredOutputError("; ".join(problems), raw_text=text)
    return value


# --------------------------------------------------------------------------- output


def _dumps(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


class _Output:
    """Appends whole lines to the output, each in one ``write`` call, unbuffered."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, record: Mapping[str, Any]) -> None:
        data = _dumps(record)
        with self._lock:
            written = os.write(self._fd, data)
            while written < len(data):  # only on a full disk or a signal mid-write
                written += os.write(self._fd, data[written:])

    def close(self) -> None:
        with self._lock:
            os.close(self._fd)


def _read_output(path: Path) -> tuple[dict[str, dict[str, Any]], bool]:
    """The answers already in ``path`` by id, and whether the file needs rewriting.

    A file needs rewriting when it holds anything but one valid line per id (a cut
    last line, a line that is not a JSON object with an id, or two lines for one id).
    Of two lines for one id an answer wins over an error, else the later one.
    """
    if not path.exists():
        return {}, False
    records: dict[str, dict[str, Any]] = {}
    dirty = False
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        dirty = True
    for raw in data.splitlines():
        if not raw.strip():
            dirty = True
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            dirty = True
            continue
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            dirty = True
            continue
        old = records.get(record["id"])
        if old is not None:
            dirty = True
            if "error" not in old and "error" in record:
                continue
        records[record["id"]] = record
    return records, dirty


def _rewrite(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Replace ``path`` with ``records`` atomically (a crash leaves the old or the new file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for record in records:
                out.write(_dumps(record))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _usage_dict(result: GenerateContentResult) -> dict[str, int]:
    u = result.usage
    return {
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "thoughts_tokens": u.thoughts_tokens,
        "total_tokens": u.total_tokens,
    }


def _error_record(job_id: str, exc: BaseException, **extra: Any) -> dict[str, Any]:
    status = getattr(exc, "status_code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return {
        "id": job_id,
        **extra,
        "error": {"type": type(exc).__name__, "message": str(message), "status": status},
    }


# --------------------------------------------------------------------------- summary


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
    #: Why the run stopped starting jobs when ``stopped == "fatal"`` (a bad key, no credits).
    fatal: str | None = None

    @property
    def exit_code(self) -> int:
        """0 all answered, 1 some errors, 2 bad input in a dry run, 3 budget, 130 interrupted."""
        if self.stopped == "interrupted":
            return EXIT_INTERRUPTED
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
            f"cost ${self.cost:.6f} (from x-cost)",
        ]
        if self.errors:
            lines.append("Errors: " + ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())))
        if self.stopped == "budget":
            lines.append(
                f"Stopped: the budget of ${self.max_cost:g} would have been passed by the "
                "next job; in-flight jobs were finished. Raise --max-cost (max_cost=) and "
                "run again to continue."
            )
        elif self.stopped == "interrupted":
            lines.append("Interrupted: jobs that were not finished have no line yet.")
        elif self.stopped == "fatal":
            lines.append(
                f"Stopped: {self.fatal}. No more jobs were started (every other job would fail "
                "the same way); fix it and run the same command again to continue."
            )
        if self.earlier_errors:
            lines.append(
                f"{self.earlier_errors} job(s) still have an error line from an earlier run."
            )
        if (self.failed or self.earlier_errors) and self.stopped is None:
            lines.append("Run again with --retry-errors to redo the errors.")
        lines.append(f"Output: {self.output}")
        return "\n".join(lines)


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
            f"{_duration(s.estimated_seconds or 0.0)} (structured jobs that need a repair "
            "take a second call)."
        )
    else:
        lines.append(
            "No requests-per-minute set: the pace is learned from the server. At Segmind's "
            f"Pro plan (50/min) at least {_duration(_floor_seconds(to_send, 50))}, "
            f"on the free plan (5/min) {_duration(_floor_seconds(to_send, 5))}."
        )
    return "\n".join(lines)


def _floor_seconds(calls: int, rpm: int) -> float:
    """The least time ``calls`` take at ``rpm``: the last call starts this long after the first."""
    return max(0, math.ceil(calls / rpm) - 1) * 60.0 if calls else 0.0


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


# --------------------------------------------------------------------------- progress


@dataclass
class _Stats:
    total: int
    done: int = 0
    failed: int = 0
    in_flight: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
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


class _Reporter:
    """Shows progress; the base class shows nothing (``--quiet``)."""

    def start(self, stats: _Stats) -> None:
        pass

    def update(self, stats: _Stats) -> None:
        pass

    def stop(self) -> None:
        pass


class _PlainReporter(_Reporter):
    """One line every ``interval`` seconds, for logs and pipes."""

    def __init__(self, stream: TextIO, interval: float) -> None:
        self.stream, self.interval = stream, interval
        self._last = 0.0

    def start(self, stats: _Stats) -> None:
        self._last = time.monotonic()
        print(f"batch: {stats.total} jobs to run", file=self.stream, flush=True)

    def update(self, stats: _Stats) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        eta = stats.eta()
        print(
            f"batch: {stats.done} done, {stats.failed} failed, {stats.remaining} remaining"
            f" ({stats.in_flight} in flight); tokens {stats.input_tokens} in /"
            f" {stats.output_tokens} out; cost ${stats.cost:.4f}"
            + (f"; ETA {_duration(eta)}" if eta is not None else ""),
            file=self.stream,
            flush=True,
        )


class _RichReporter(_Reporter):
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
    def _detail(stats: _Stats) -> str:
        return (
            f"[green]{stats.done} done[/] [red]{stats.failed} failed[/] "
            f"{stats.remaining} left · {stats.input_tokens}/{stats.output_tokens} tok · "
            f"${stats.cost:.4f}"
        )

    def start(self, stats: _Stats) -> None:
        self._progress.start()
        self._task = self._progress.add_task("batch", total=stats.total, detail=self._detail(stats))

    def update(self, stats: _Stats) -> None:
        self._progress.update(
            self._task, completed=stats.done + stats.failed, detail=self._detail(stats)
        )

    def stop(self) -> None:
        self._progress.stop()


def _reporter(mode: ProgressMode | bool, stream: TextIO, interval: float) -> _Reporter:
    if mode is False or mode == "none":
        return _Reporter()
    want_bar = mode == "bar" or ((mode is True or mode == "auto") and stream.isatty())
    if want_bar:
        try:
            return _RichReporter(stream)
        except ImportError:
            print(
                "batch: install segmind-gemini[batch] (rich) for a progress bar; "
                "printing progress lines instead",
                file=stream,
            )
    return _PlainReporter(stream, interval)


# --------------------------------------------------------------------------- runner


class _Runner:
    """Starts jobs under the concurrency and budget limits; writes each result as it ends."""

    def __init__(
        self,
        client: SegmindGeminiClient,
        jobs: list[Job],
        out: _Output,
        summary: BatchSummary,
        *,
        concurrency: int,
        max_cost: float | None,
        stop_grace: float,
        reporter: _Reporter,
    ) -> None:
        self.client, self.out, self.summary = client, out, summary
        self.pending = deque(jobs)
        self.concurrency = concurrency
        self.max_cost = max_cost
        self.stop_grace = stop_grace
        self.reporter = reporter
        self.stats = _Stats(total=len(jobs))
        self.billed_jobs = 0
        self.billed_cost = 0.0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop_requested = 0
        self.cancelled = 0
        self._fatal: str | None = None

    # Called from another thread (the one that caught Ctrl-C).
    def request_stop(self) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._on_stop)

    def _on_stop(self) -> None:
        self._stop_requested += 1
        if self._wake is not None:
            self._wake.set()

    def _estimate(self) -> float | None:
        return self.billed_cost / self.billed_jobs if self.billed_jobs else None

    def _budget_allows(self, in_flight: int) -> bool | None:
        """True: start one more; False: the budget is spent; None: wait for a price."""
        if self.max_cost is None:
            return True
        if self.stats.cost >= self.max_cost:
            return False
        estimate = self._estimate()
        if estimate is None:
            # No price seen yet: one job at a time until the first answer shows it.
            return True if in_flight == 0 else None
        return self.stats.cost + (in_flight + 1) * estimate <= self.max_cost

    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()
        self.reporter.start(self.stats)
        try:
            while self.pending and not self._stop_requested and not self._fatal:
                # Counted as jobs start and end, in the same step as their cost is added,
                # so a finished job is never both spent and in flight.
                busy = self.stats.in_flight
                allowed = busy < self.concurrency and self._budget_allows(busy)
                if allowed is False and busy < self.concurrency:
                    self.summary.stopped = "budget"
                    break
                if not allowed:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                job = self.pending.popleft()
                self.stats.in_flight += 1
                task = asyncio.create_task(self._run_job(job))
                tasks.add(task)
                task.add_done_callback(self._finished(tasks))
                await asyncio.sleep(0)  # let the job reach the governor in start order
            await self._drain(tasks)
            # Also when every job had started before Ctrl-C: unfinished ones have no line.
            if self._stop_requested:
                self.summary.stopped = "interrupted"
            elif self._fatal and self.summary.stopped is None:
                self.summary.stopped = "fatal"
                self.summary.fatal = self._fatal
        finally:
            self.summary.not_started = len(self.pending) + self.cancelled
            self.reporter.update(self.stats)
            self.reporter.stop()

    def _finished(self, tasks: set[asyncio.Task[None]]) -> Any:
        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            if self._wake is not None:
                self._wake.set()

        return done

    async def _wait_some(self, waiting: set[asyncio.Task[None]], timeout: float | None) -> None:
        """Until one job ends, a stop is requested, or ``timeout`` passes."""
        assert self._wake is not None
        self._wake.clear()
        waker = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait([*waiting, waker], timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            waker.cancel()

    async def _drain(self, tasks: set[asyncio.Task[None]]) -> None:
        """Let in-flight jobs finish; after a stop request, give them ``stop_grace`` seconds."""
        waiting = {t for t in tasks if not t.done()}
        while waiting and not self._stop_requested:
            await self._wait_some(waiting, None)
            waiting = {t for t in waiting if not t.done()}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.stop_grace
        while waiting and self._stop_requested < 2 and loop.time() < deadline:
            await self._wait_some(waiting, deadline - loop.time())
            waiting = {t for t in waiting if not t.done()}
        for task in waiting:
            task.cancel()
        if waiting:
            await asyncio.gather(*waiting, return_exceptions=True)
        self.cancelled = len(waiting)

    async def _run_job(self, job: Job) -> None:
        model = job.model or self.client.model
        acc: dict[str, Any] = {"cost": 0.0, "calls": 0}
        try:
            record = await self._call(job, model, acc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure becomes this job's error line
            if isinstance(exc, (AuthenticationError, InsufficientCreditsError)) and not self._fatal:
                # A wrong key or an empty balance fails every job: start no more.
                self._fatal = f"{type(exc).__name__}: {exc}"
                if self._wake is not None:
                    self._wake.set()
            extra: dict[str, Any] = {"model": model}
            if acc["calls"]:
                extra["cost"] = acc["cost"]
            record = _error_record(job.id, exc, **extra)
        finally:
            self.stats.in_flight -= 1
        self._account(record, acc)
        self.out.write(record)
        self.reporter.update(self.stats)

    def _account(self, record: Mapping[str, Any], acc: Mapping[str, Any]) -> None:
        stats = self.stats
        if "error" in record:
            stats.failed += 1
            self.summary.failed += 1
            name = record["error"]["type"]
            self.summary.errors[name] = self.summary.errors.get(name, 0) + 1
        else:
            stats.done += 1
            self.summary.succeeded += 1
        if acc["calls"]:
            stats.cost += acc["cost"]
            self.billed_jobs += 1
            self.billed_cost += acc["cost"]
        usage = record.get("usage") or {}
        stats.input_tokens += int(usage.get("input_tokens", 0))
        stats.output_tokens += int(usage.get("output_tokens", 0))

    async def _send(
        self, request: Mapping[str, Any], model: str, acc: dict[str, Any]
    ) -> GenerateContentResult:
        result = await self.client.agenerate_content(request, model=model)
        acc["calls"] += 1
        acc["cost"] += result.cost or 0.0
        usage = _usage_dict(result)
        if "usage" in acc:
            usage = {k: acc["usage"][k] + v for k, v in usage.items()}
        acc["usage"] = usage
        return result

    async def _call(self, job: Job, model: str, acc: dict[str, Any]) -> dict[str, Any]:
        if job.error is not None:
            raise InvalidRequestError(job.error)
        if job.images or job.files:
            request = await asyncio.to_thread(build_job_request, job)
        else:
            request = build_job_request(job)
        result = await self._send(request, model, acc)
        record: dict[str, Any] = {"id": job.id, "model": model}
        if job.schema is None:
            record["text"] = result.text
        else:
            schema = job.schema
            replies = [result]

            async def send(repair: Repair | None) -> GenerateContentResult:
                if repair is not None:
                    replies.append(await self._send(with_repair_turns(request, repair), model, acc))
                return replies[-1]

            record["data"] = await arun_repairing(
                send, lambda r: _parse_structured(r.text, schema), schema
            )
            result = replies[-1]
        record.update(
            finish_reason=result.finish_reason,
            usage=acc["usage"],
            cost=acc["cost"],
            request_id=result.request_id,
        )
        return record


# --------------------------------------------------------------------------- entry


def _collect_jobs(
    input: str | Path | None,
    jobs: Iterable[Mapping[str, Any]] | None,
    images: str | Path | None,
    prompt: str | None,
    system: str | None,
    model: str | None,
) -> list[Job]:
    given = sum(x is not None for x in (input, jobs, images))
    if given != 1:
        raise BatchInputError("give exactly one of: an input JSONL file, jobs=[...], or images=DIR")
    if images is not None:
        return image_jobs(images, prompt or "", system=system, model=model)
    if prompt is not None or system is not None:
        raise BatchInputError(
            "prompt= and system= go with images=DIR; in a job file, each line has its own"
        )
    if input is not None:
        found = read_jobs(input)
    else:
        found = [_job_from_dict(obj, n, Path.cwd()) for n, obj in enumerate(jobs or [], start=1)]
    if model is not None:
        found = [j if j.model or j.error else _with_model(j, model) for j in found]
    return found


def _with_model(job: Job, model: str) -> Job:
    from dataclasses import replace

    return replace(job, model=model)


def run_batch(
    input: str | Path | None = None,
    output: str | Path | None = None,
    *,
    jobs: Iterable[Mapping[str, Any]] | None = None,
    images: str | Path | None = None,
    prompt: str | None = None,
    system: str | None = None,
    model: str | None = None,
    client: SegmindGeminiClient | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int = 8,
    requests_per_minute: int | None = None,
    rate_limit_window: float = 60.0,
    max_retries: int = 4,
    timeout: float = 120.0,
    max_cost: float | None = None,
    retry_errors: bool = False,
    dry_run: bool = False,
    progress: ProgressMode | bool = "auto",
    progress_interval: float = 10.0,
    stop_grace: float = 10.0,
    stream: TextIO | None = None,
) -> BatchSummary:
    """Run every job once, appending one JSON line per job id to ``output``.

    Jobs come from ``input`` (a JSONL file), ``jobs`` (dicts of the same shape) or
    ``images`` (a folder; each image with ``prompt``). Ids already answered in
    ``output`` are skipped; ``retry_errors`` redoes those that ended in an error.

    Args:
        model: the slug for jobs that name none.
        client: a configured client (else one is made from ``api_key``, ``base_url``,
            ``requests_per_minute``, ``rate_limit_window``, ``max_retries``, ``timeout``).
        concurrency: jobs in flight at once; the rate governor paces the calls.
        max_cost: USD this run may spend (from ``x-cost``): no job starts once what was
            spent plus an estimate for the jobs in flight would pass it. Until the first
            price is seen, jobs run one at a time.
        dry_run: check every line and load every file; send nothing; estimate tokens
            and time.
        progress: ``"auto"`` (a bar on a terminal, else a line every
            ``progress_interval`` seconds), ``"bar"``, ``"plain"``, or ``"none"``/``False``.
        stop_grace: seconds in-flight jobs get to finish after Ctrl-C (a second
            Ctrl-C stops at once); unfinished jobs get no line and run next time.
        stream: where progress and notes go (``sys.stderr``).

    Raises:
        BatchInputError: duplicate ids, no input, or bad arguments (nothing sent).
    """
    err = stream if stream is not None else sys.stderr
    if output is None:
        raise BatchInputError("an output path is needed (-o OUTPUT.jsonl)")
    if concurrency < 1:
        raise BatchInputError(f"concurrency must be 1 or more, got {concurrency}")
    if max_cost is not None and not max_cost > 0:
        raise BatchInputError(f"max_cost must be a positive number of USD, got {max_cost!r}")
    out_path = Path(output)
    all_jobs = _collect_jobs(input, jobs, images, prompt, system, model)
    _check_ids(all_jobs)
    summary = BatchSummary(output=str(out_path), total=len(all_jobs), max_cost=max_cost)
    missing = [j.line for j in all_jobs if j.id.startswith("line:") and j.error]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        print(
            f"batch: {len(missing)} line(s) have no usable id (lines {shown}); "
            'their error lines use the id "line:N"',
            file=err,
        )

    done, dirty = _read_output(out_path)
    redo = {k for k, r in done.items() if "error" in r} if retry_errors else set()
    todo = [j for j in all_jobs if j.id not in done or j.id in redo]
    summary.skipped = len(all_jobs) - len(todo)
    wanted = {j.id for j in all_jobs}
    summary.earlier_errors = sum(
        1 for k, r in done.items() if "error" in r and k in wanted and k not in redo
    )
    summary.bad_lines = sum(1 for j in todo if j.error)

    if dry_run:
        return _dry_run(todo, summary, client, requests_per_minute, rate_limit_window, model, err)

    if dirty or redo:
        # Leave exactly one line per id: drop the lines about to be redone and any junk.
        _rewrite(out_path, (r for k, r in done.items() if k not in redo))
    owned = client is None
    if client is None:
        client = SegmindGeminiClient(
            api_key,
            model=model or "gemini-2.5-flash",
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            requests_per_minute=requests_per_minute,
            rate_limit_window=rate_limit_window,
        )
    out = _Output(out_path)
    started = time.monotonic()
    try:
        # Input problems are answered first: they cost nothing and need no turn.
        for job in todo:
            if job.error:
                out.write(_error_record(job.id, InvalidRequestError(job.error), line=job.line))
                summary.failed += 1
                summary.errors["InvalidRequestError"] = (
                    summary.errors.get("InvalidRequestError", 0) + 1
                )
        runnable = [j for j in todo if not j.error]
        runner = _Runner(
            client,
            runnable,
            out,
            summary,
            concurrency=concurrency,
            max_cost=max_cost,
            stop_grace=stop_grace,
            reporter=_reporter(progress, err, progress_interval),
        )
        _run_in_thread(runner, client, owned)
    finally:
        out.close()
        summary.wall_time = time.monotonic() - started
    summary.input_tokens = runner.stats.input_tokens
    summary.output_tokens = runner.stats.output_tokens
    summary.cost = runner.stats.cost
    return summary


def _run_in_thread(runner: _Runner, client: SegmindGeminiClient, owned: bool) -> None:
    """Run the event loop in a worker thread so that Ctrl-C reaches this one.

    That works the same from a script, the CLI and a notebook (whose own loop is
    already running): a KeyboardInterrupt here asks the runner to stop.
    """
    failure: list[BaseException] = []
    finished = threading.Event()

    def work() -> None:
        async def main() -> None:
            try:
                await runner.run()
            finally:
                if owned:
                    await client.aclose()

        try:
            asyncio.run(main())
        except BaseException as exc:  # handed to the calling thread
            failure.append(exc)
        finally:
            finished.set()

    worker = threading.Thread(target=work, name="segmind-gemini-batch", daemon=True)
    worker.start()
    # Not Thread.join: a KeyboardInterrupt inside join() can leave is_alive() False
    # while the thread still runs.
    while True:
        try:
            if finished.wait(0.1):
                break
        except KeyboardInterrupt:
            runner.request_stop()
    worker.join()
    if failure:
        raise failure[0]


def _dry_run(
    todo: list[Job],
    summary: BatchSummary,
    client: SegmindGeminiClient | None,
    requests_per_minute: int | None,
    window: float,
    model: str | None,
    err: TextIO,
) -> BatchSummary:
    summary.dry_run = True
    started = time.monotonic()
    tokens = 0
    for job in todo:
        if job.error:
            print(f"bad: {job.error}", file=err)
            continue
        try:
            request = build_job_request(job)
        except SegmindError as exc:
            summary.bad_lines += 1
            print(f"bad: line {job.line} (id {job.id!r}): {exc}", file=err)
            continue
        tokens += count_request_tokens(request, model=job.model or model)
    summary.estimated_input_tokens = tokens
    rpm = requests_per_minute
    if client is not None:
        rpm = rpm or client.requests_per_minute
        window = client.rate_limit_window if rpm else window
    rpm = resolve_requests_per_minute(rpm)
    summary.requests_per_minute = rpm
    if rpm:
        to_send = len(todo) - summary.bad_lines
        summary.estimated_seconds = _floor_seconds(to_send, rpm) * (window / 60.0)
    summary.wall_time = time.monotonic() - started
    return summary

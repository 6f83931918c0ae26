"""``run_batch``: the whole run, from the job list to the summary."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from segmind_gemini.batch.jobs import BatchInputError, Job, collect_jobs
from segmind_gemini.batch.output import Output, OutputLock, read_output, resolve_output, rewrite
from segmind_gemini.batch.progress import ProgressMode, make_reporter
from segmind_gemini.batch.runner import Runner, prepare
from segmind_gemini.batch.settings import BatchSettings
from segmind_gemini.batch.summary import RERUN_ERRORS, BatchSummary, floor_seconds
from segmind_gemini.client.gemini_client import SegmindGeminiClient
from segmind_gemini.errors import InvalidRequestError, SegmindError
from segmind_gemini.settings import resolve_requests_per_minute
from segmind_gemini.tokens import count_request_tokens

__all__ = ["run_batch", "run_jobs"]


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
    rate_limit_store: str | None = None,
    max_retries: int = 4,
    timeout: float = 120.0,
    max_cost: float | str | Decimal | None = None,
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
    ``output`` are skipped; ``retry_errors`` redoes those that ended in an error
    (lines that failed on the key or the balance are redone by any rerun).

    Args:
        model: the slug for jobs that name none.
        client: a configured client (else one is made from ``api_key``, ``base_url``,
            ``requests_per_minute``, ``rate_limit_window``, ``rate_limit_store``,
            ``max_retries``, ``timeout``).
        concurrency: jobs in flight at once; the rate governor paces the calls.
        max_cost: USD this run may spend (from ``x-cost``, summed exactly): no job
            starts once what was spent plus an estimate for the jobs in flight would
            pass it. Until the first price is seen, jobs run one at a time. Per run:
            running again may spend as much again on the jobs left.
        dry_run: check every line and load every file; send nothing; estimate tokens
            and time.
        progress: ``"auto"`` (a bar on a terminal, else a line every
            ``progress_interval`` seconds), ``"bar"``, ``"plain"``, or ``"none"``/``False``.
        stop_grace: seconds in-flight jobs get to finish after Ctrl-C (a second
            Ctrl-C stops at once); unfinished jobs get no line and run next time.
        stream: where progress and notes go (``sys.stderr``).

    Raises:
        BatchInputError: duplicate ids, no input, bad arguments, an output that is a
            folder or in use by another run (nothing sent).
    """
    settings = BatchSettings(
        model=model,
        api_key=api_key,
        base_url=base_url,
        requests_per_minute=requests_per_minute,
        rate_limit_window=rate_limit_window,
        rate_limit_store=rate_limit_store,
        max_retries=max_retries,
        timeout=timeout,
        concurrency=concurrency,
        max_cost=BatchSettings.budget(max_cost),
        retry_errors=retry_errors,
        dry_run=dry_run,
        progress=progress,
        progress_interval=progress_interval,
        stop_grace=stop_grace,
        stream=stream,
    )
    if output is None:
        raise BatchInputError("an output path is needed (-o OUTPUT.jsonl)")
    found = collect_jobs(input, jobs, images, prompt, system, model)
    return run_jobs(found, output, settings, client=client)


def run_jobs(
    jobs: list[Job],
    output: str | Path,
    settings: BatchSettings,
    *,
    client: SegmindGeminiClient | None = None,
) -> BatchSummary:
    """Run parsed ``jobs`` into ``output`` with ``settings`` (``run_batch`` after parsing)."""
    err = settings.stream if settings.stream is not None else sys.stderr
    target = resolve_output(output)
    max_cost = None if settings.max_cost is None else float(settings.max_cost)
    summary = BatchSummary(output=str(output), total=len(jobs), max_cost=max_cost)
    _note_missing_ids(jobs, err)
    if settings.dry_run:
        todo = _todo(jobs, target, settings, summary)[0]
        return _dry_run(todo, summary, client, settings, err)
    lock = OutputLock(target, str(output))
    try:
        todo, keep, dirty = _todo(jobs, target, settings, summary)
        if dirty:
            # Leave exactly one line per id: drop the lines about to be redone and any junk.
            rewrite(target, keep)
        _run(todo, Output(target, str(output)), summary, settings, client, err)
    finally:
        lock.release()
    return summary


def _note_missing_ids(jobs: list[Job], err: TextIO) -> None:
    missing = [j.line for j in jobs if j.id.startswith("line:") and j.error]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        print(
            f"batch: {len(missing)} line(s) have no usable id (lines {shown}); "
            'their error lines use the id "line:N"',
            file=err,
        )


def _todo(
    jobs: list[Job], target: Path, settings: BatchSettings, summary: BatchSummary
) -> tuple[list[Job], list[dict[str, Any]], bool]:
    """The jobs to run, the output lines to keep, and whether the file needs rewriting."""
    done, dirty = read_output(target)
    errors = {k: _error_type(r["error"]) for k, r in done.items() if "error" in r}
    redo = {k for k, kind in errors.items() if settings.retry_errors or kind in RERUN_ERRORS}
    todo = [j for j in jobs if j.id not in done or j.id in redo]
    summary.skipped = len(jobs) - len(todo)
    wanted = {j.id for j in jobs}
    for key, kind in errors.items():
        if key in wanted and key not in redo:
            summary.earlier_errors += 1
            summary.earlier_error_types[kind] = summary.earlier_error_types.get(kind, 0) + 1
    keep = [r for k, r in done.items() if k not in redo]
    return todo, keep, dirty or bool(redo)


def _error_type(error: Any) -> str:
    kind = error.get("type") if isinstance(error, dict) else None
    return kind if isinstance(kind, str) else "unknown"


def _make_client(settings: BatchSettings) -> SegmindGeminiClient:
    extra: dict[str, Any] = {}
    if settings.rate_limit_store is not None:
        # Passed only when set, so a client without the option keeps working.
        extra["rate_limit_store"] = settings.rate_limit_store
    return SegmindGeminiClient(
        settings.api_key,
        model=settings.model or "gemini-2.5-flash",
        base_url=settings.base_url,
        max_retries=settings.max_retries,
        timeout=settings.timeout,
        requests_per_minute=settings.requests_per_minute,
        rate_limit_window=settings.rate_limit_window,
        **extra,
    )


def _run(
    todo: list[Job],
    out: Output,
    summary: BatchSummary,
    settings: BatchSettings,
    client: SegmindGeminiClient | None,
    err: TextIO,
) -> None:
    owned = client is None
    started = time.monotonic()
    runner: Runner | None = None
    try:
        client = client if client is not None else _make_client(settings)
        runner = Runner(
            client,
            todo,
            out,
            summary,
            concurrency=settings.concurrency,
            max_cost=settings.max_cost,
            stop_grace=settings.stop_grace,
            reporter=make_reporter(settings.progress, err, settings.progress_interval),
        )
        _run_in_thread(runner, client, owned, settings.stop_grace, err)
    finally:
        out.close()
        summary.wall_time = time.monotonic() - started
        if runner is not None:
            summary.input_tokens = runner.stats.input_tokens
            summary.output_tokens = runner.stats.output_tokens
            summary.exact_cost = runner.stats.cost
            summary.cost = float(runner.stats.cost)


def _run_in_thread(
    runner: Runner, client: SegmindGeminiClient, owned: bool, grace: float, err: TextIO
) -> None:
    """Run the event loop in a worker thread so that Ctrl-C reaches this one.

    That works the same from a script, the CLI and a notebook (whose own loop is
    already running): a KeyboardInterrupt here asks the runner to stop, and says so
    at once.
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
    presses = 0
    # Not Thread.join: a KeyboardInterrupt inside join() can leave is_alive() False
    # while the thread still runs.
    while True:
        try:
            if finished.wait(0.1):
                break
        except KeyboardInterrupt:
            presses += 1
            runner.request_stop()
            try:
                _say_stopping(presses, runner.stats.in_flight, grace, err)
            except KeyboardInterrupt:  # the next press came while saying so
                presses += 1
                runner.request_stop()
    worker.join()
    if failure:
        raise failure[0]


def _say_stopping(presses: int, in_flight: int, grace: float, err: TextIO) -> None:
    if presses == 1:
        message = (
            f"batch: stopping: finishing {in_flight} in flight (up to {grace:g} s); "
            "Ctrl-C again to stop now"
        )
    else:
        message = "batch: stopping now; unfinished jobs get no line and run next time"
    print(message, file=err, flush=True)


def _dry_run(
    todo: list[Job],
    summary: BatchSummary,
    client: SegmindGeminiClient | None,
    settings: BatchSettings,
    err: TextIO,
) -> BatchSummary:
    summary.dry_run = True
    started = time.monotonic()
    tokens = 0
    for job in todo:
        try:
            request = prepare(job)
        except InvalidRequestError as exc:  # what the real run counts as a bad line
            summary.bad_lines += 1
            shown = job.error or f"line {job.line} (id {job.id!r}): {exc}"
            print(f"bad: {shown}", file=err)
            continue
        except SegmindError as exc:
            print(f"cannot check line {job.line} (id {job.id!r}): {exc}", file=err)
            continue
        tokens += count_request_tokens(request, model=job.model or settings.model)
    summary.estimated_input_tokens = tokens
    rpm, window = settings.requests_per_minute, settings.rate_limit_window
    if client is not None:
        rpm = rpm or client.requests_per_minute
        window = client.rate_limit_window if rpm else window
    rpm = resolve_requests_per_minute(rpm)
    summary.requests_per_minute = rpm
    if rpm:
        to_send = len(todo) - summary.bad_lines
        summary.estimated_seconds = floor_seconds(to_send, rpm) * (window / 60.0)
    summary.wall_time = time.monotonic() - started
    return summary

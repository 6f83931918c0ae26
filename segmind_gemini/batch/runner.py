"""The event loop side of a run: starts jobs under the concurrency and budget limits,
writes each result as it ends, and stops cleanly (Ctrl-C, a wrong key, a full disk)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from segmind_gemini.batch.jobs import Job
from segmind_gemini.batch.money import Spend
from segmind_gemini.batch.output import Output, OutputWriteError, encode_line
from segmind_gemini.batch.progress import Reporter, Stats
from segmind_gemini.batch.requests import build_job_request, structured_answer
from segmind_gemini.batch.summary import BatchSummary, Stopped
from segmind_gemini.client.gemini_client import SegmindGeminiClient
from segmind_gemini.errors import (
    AuthenticationError,
    InsufficientCreditsError,
    InvalidRequestError,
    ResponseParseError,
)
from segmind_gemini.wire.response import GenerateContentResult

__all__ = ["Runner", "error_record", "prepare"]


def error_record(job_id: str, exc: BaseException, **extra: Any) -> dict[str, Any]:
    """The output line of a job that ended in ``exc``."""
    status = getattr(exc, "status_code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return {
        "id": job_id,
        **extra,
        "error": {"type": type(exc).__name__, "message": str(message), "status": status},
    }


def prepare(job: Job) -> dict[str, Any]:
    """The request for ``job``; a bad line or file raises :class:`InvalidRequestError`.

    The dry run and the real run both decide through here what a bad line is.
    """
    if job.error is not None:
        raise InvalidRequestError(job.error)
    return build_job_request(job)


async def _prepare(job: Job) -> dict[str, Any]:
    if job.images or job.files:  # file reads stay off the event loop
        return await asyncio.to_thread(prepare, job)
    return prepare(job)


class Runner:
    """Runs ``jobs``, writing one line per job to ``out`` and counting into ``summary``."""

    def __init__(
        self,
        client: SegmindGeminiClient,
        jobs: list[Job],
        out: Output,
        summary: BatchSummary,
        *,
        concurrency: int,
        max_cost: Decimal | None,
        stop_grace: float,
        reporter: Reporter,
    ) -> None:
        self.client, self.out, self.summary = client, out, summary
        self.pending = deque(jobs)
        self.concurrency = concurrency
        self.max_cost = max_cost
        self.stop_grace = stop_grace
        self.reporter = reporter
        self.stats = Stats(total=len(jobs))
        self.billed_jobs = 0
        self.billed_cost = Decimal(0)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop_requested = 0
        self.cancelled = 0
        self._halt: tuple[Stopped, str] | None = None

    # Called from another thread (the one that caught Ctrl-C).
    def request_stop(self) -> None:
        """Stop starting jobs (first call); cancel those in flight (second call)."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._on_stop)

    def _on_stop(self) -> None:
        self._stop_requested += 1
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _stop_for(self, why: Stopped, message: str) -> None:
        """Start no more jobs, for a reason every later job would share."""
        if self._halt is None:
            self._halt = (why, message)
            self._poke()

    def _budget_allows(self, in_flight: int) -> bool | None:
        """True: start one more; False: the budget is spent; None: wait for a price."""
        if self.max_cost is None:
            return True
        if self.stats.cost >= self.max_cost:
            return False
        if not self.billed_jobs:
            # No price seen yet: one job at a time until the first answer shows it.
            return True if in_flight == 0 else None
        estimate = self.billed_cost / self.billed_jobs
        return self.stats.cost + (in_flight + 1) * estimate <= self.max_cost

    async def run(self) -> None:
        """Run every job (or until a stop), then let those in flight end."""
        self.loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()
        self.reporter.start(self.stats)
        try:
            await self._start_jobs(tasks)
            await self._drain(tasks)
            # Also when every job had started before Ctrl-C: unfinished ones have no line.
            if self._stop_requested:
                self.summary.stopped = "interrupted"
            elif self._halt is not None and self.summary.stopped is None:
                self.summary.stopped, self.summary.fatal = self._halt
        finally:
            self.summary.not_started = len(self.pending) + self.cancelled
            self.reporter.update(self.stats)
            self.reporter.stop()

    async def _start_jobs(self, tasks: set[asyncio.Task[None]]) -> None:
        assert self._wake is not None
        # Lines that cannot be run are answered first: they cost nothing and need no turn.
        for job in [j for j in self.pending if j.error is not None]:
            problem = InvalidRequestError(job.error or "")
            self._write(job, error_record(job.id, problem, line=job.line), bad_line=True)
        self.pending = deque(j for j in self.pending if j.error is None)
        while self.pending and not self._stop_requested and self._halt is None:
            # Counted as jobs start and end, in the same step as their cost is added,
            # so a finished job is never both spent and in flight.
            busy = self.stats.in_flight
            allowed = busy < self.concurrency and self._budget_allows(busy)
            if allowed is False and busy < self.concurrency:
                self.summary.stopped = "budget"
                return
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

    def _finished(self, tasks: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            # _run_job turns every failure into a line; anything else stops the run
            # here rather than as "Task exception was never retrieved".
            if not task.cancelled() and (exc := task.exception()) is not None:
                self._stop_for("fatal", f"{type(exc).__name__}: {exc}")
            self._poke()

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
        spend = Spend()
        bad_line = False
        try:
            try:
                request = await _prepare(job)
            except InvalidRequestError:
                bad_line = True
                raise
            record = await self._answer(job, request, model, spend)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure becomes this job's error line
            record = self._failure(job, model, spend, exc, bad_line)
        finally:
            self.stats.in_flight -= 1
        self._count_spend(spend)
        self._write(job, record, bad_line)
        self.reporter.update(self.stats)

    def _failure(
        self, job: Job, model: str, spend: Spend, exc: Exception, bad_line: bool
    ) -> dict[str, Any]:
        if isinstance(exc, (AuthenticationError, InsufficientCreditsError)):
            # A wrong key or an empty balance fails every job: start no more.
            self._stop_for("fatal", f"{type(exc).__name__}: {exc}")
        if bad_line:
            return error_record(job.id, exc, line=job.line)
        extra: dict[str, Any] = {"model": model}
        if spend.calls:
            extra["cost"] = spend.cost_field()
        return error_record(job.id, exc, **extra)

    def _write(self, job: Job, record: dict[str, Any], bad_line: bool) -> None:
        try:
            line = encode_line(record)
        except ValueError:
            problem = ResponseParseError(
                "the answer holds NaN or Infinity, which strict JSON output cannot carry"
            )
            record = error_record(job.id, problem, model=record.get("model"))
            line = encode_line(record)
        try:
            self.out.write(line)
        except OutputWriteError as exc:
            self.summary.lost += 1
            self._stop_for("output", str(exc))
            return
        if "error" in record:
            self.stats.failed += 1
            self.summary.count_error(record["error"]["type"], bad_line=bad_line)
        else:
            self.stats.done += 1
            self.summary.succeeded += 1

    def _count_spend(self, spend: Spend) -> None:
        self.summary.unpriced_calls += spend.unpriced
        if spend.calls:
            self.stats.cost += spend.cost
            self.billed_jobs += 1
            self.billed_cost += spend.cost
        self.stats.input_tokens += spend.input_tokens
        self.stats.output_tokens += spend.output_tokens

    async def _answer(
        self, job: Job, request: dict[str, Any], model: str, spend: Spend
    ) -> dict[str, Any]:
        async def send(body: Mapping[str, Any]) -> GenerateContentResult:
            result = await self.client.agenerate_content(body, model=model)
            spend.add(result)
            return result

        result = await send(request)
        record: dict[str, Any] = {"id": job.id, "model": model}
        if job.schema is None:
            record["text"] = result.text
        else:
            record["data"], result = await structured_answer(send, request, result, job.schema)
        record.update(
            finish_reason=result.finish_reason,
            usage=spend.usage_field(),
            cost=spend.cost_field(),
            request_id=result.request_id,
        )
        return record

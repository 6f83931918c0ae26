"""The emulator's v2 queue jobs: submitted, polled through QUEUED/PROCESSING, then done."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from segmind_gemini.testing._replies import Outcome

__all__ = ["Job", "JobBoard"]


@dataclass
class Job:
    """One submitted job: its eventual answer and how far it got."""

    outcome: Outcome
    delay: float
    submitted: float
    polls: int = 0
    completed_after: float | None = None
    charged: bool = False


class JobBoard:
    """Jobs by id. A job answers QUEUED, then PROCESSING, for ``queue_polls`` polls and
    at least its ``delay``; then COMPLETED (a 2xx outcome) or FAILED."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def submit(self, outcome: Outcome, delay: float) -> str:
        job_id = str(uuid.uuid4())
        with self._lock:
            self._jobs[job_id] = Job(outcome, delay, time.monotonic())
        return job_id

    def poll(self, job_id: str, queue_polls: int) -> tuple[Job, str] | None:
        """Count a poll; the job and its state, or ``None`` for an unknown id."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            job.polls += 1
            if job.completed_after is None:
                waited = time.monotonic() - job.submitted
                if job.polls <= queue_polls or waited < job.delay:
                    return job, "QUEUED" if job.polls == 1 else "PROCESSING"
                job.completed_after = waited
        return job, "COMPLETED" if job.outcome.ok else "FAILED"

    def first_fetch(self, job: Job) -> bool:
        """True the first time a finished job's result is fetched (when it is billed)."""
        with self._lock:
            first, job.charged = not job.charged, True
        return first

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()

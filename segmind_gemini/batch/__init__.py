"""Bulk jobs: run a file of prompts (or a folder of images) once, resumably.

    segmind-gemini batch jobs.jsonl -o answers.jsonl --max-cost 2
    segmind-gemini batch --images photos/ --prompt "Describe this image" -o captions.jsonl

From Python or a notebook, :func:`run_batch` does the same and returns a
:class:`BatchSummary`:

>>> summary = run_batch("jobs.jsonl", "answers.jsonl", model="gemini-2.5-flash")
>>> summary.succeeded, summary.failed, summary.cost

The output is JSONL (strict JSON) with exactly one line per job id, written whole
(one ``write`` call per line) as each job finishes. Rerunning the same command skips
the ids that already have a line, except lines that failed on the key or the balance;
``retry_errors`` redoes every id whose line is an error (their old lines are removed
first by rewriting the file atomically). Input problems (invalid JSON or UTF-8, no
prompt, an unreadable, oversized or mislabelled file, an unsupported media type)
become error lines for their id, and the rest of the run goes on; duplicate ids stop
the run before anything is sent, since no output could then say which job an answer
belongs to. One run at a time may write an output (a lock file beside it).

The parts: :mod:`.jobs` (the job list), :mod:`.requests` (a job's request and its
structured answer), :mod:`.money` (exact spend), :mod:`.output` (the file),
:mod:`.progress`, :mod:`.runner` (the event loop side), :mod:`.summary`,
:mod:`.settings` and :mod:`.run` (``run_batch``).
"""

from __future__ import annotations

from segmind_gemini.batch.jobs import IMAGE_SUFFIXES, BatchInputError, Job, image_jobs, read_jobs
from segmind_gemini.batch.money import Spend
from segmind_gemini.batch.output import OutputWriteError
from segmind_gemini.batch.requests import build_job_request
from segmind_gemini.batch.run import run_batch, run_jobs
from segmind_gemini.batch.settings import BatchSettings
from segmind_gemini.batch.summary import (
    EXIT_BUDGET,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    BatchSummary,
)

__all__ = [
    "EXIT_BUDGET",
    "EXIT_FAILED",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OUTPUT",
    "IMAGE_SUFFIXES",
    "BatchInputError",
    "BatchSettings",
    "BatchSummary",
    "Job",
    "OutputWriteError",
    "Spend",
    "build_job_request",
    "image_jobs",
    "read_jobs",
    "run_batch",
    "run_jobs",
]

"""Live capability probes: what Segmind's gateway really does with each Gemini feature.

Everything this package assumes beyond Segmind's documented body (that ``tools`` are
dropped, that ``generationConfig`` is forwarded, which auth headers work, ...) came
from other people's code and docs. :func:`run_checks` turns each assumption into a
measurement: a fixed list of small requests per model, each classified as

- ``supported``: the gateway forwarded the feature and it took effect (for the error
  probes: the error came back as the package expects it);
- ``ignored``: the call succeeded but the feature had no effect (dropped on the way);
- ``rejected``: the gateway or Gemini refused the request (a 4xx);
- ``error``: no usable answer, or the answer could not tell.

with one line of evidence (status, finish reason, the part kinds that came back).
Against an emulator (a loopback host) the report says ``"target": "emulator"``: its
verdicts describe the emulator's switches, not Segmind.

>>> with SegmindGeminiClient() as client:
...     report = run_checks(client, models=["gemini-2.5-flash-lite"])
...     report.models["gemini-2.5-flash-lite"]["native_tools"].status
'ignored'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from segmind_gemini.check.probes import (
    CALLS,
    CALLS_PER_MODEL,
    DEFAULT_MODEL,
    PROBES,
    REGISTRY,
    UNKNOWN_SLUG,
    Prober,
    Stop,
)
from segmind_gemini.check.report import CheckReport, ProbeResult, Status, format_table, target_of
from segmind_gemini.errors import SegmindError
from segmind_gemini.registry import check_slug

__all__ = [
    "CALLS",
    "CALLS_PER_MODEL",
    "DEFAULT_MODEL",
    "PROBES",
    "UNKNOWN_SLUG",
    "CheckReport",
    "ProbeResult",
    "Status",
    "format_table",
    "planned_calls",
    "run_checks",
]


def planned_calls(models: Sequence[str], probes: Sequence[str] = PROBES) -> int:
    """How many model calls :func:`run_checks` will make for these models and probes."""
    return len(models) * sum(CALLS[name] for name in probes)


ProbeHook = Callable[[str, str], AbstractContextManager[Any]]
Progress = Callable[[str, str, ProbeResult], None]


def run_checks(
    client: Any,
    models: Sequence[str] = (DEFAULT_MODEL,),
    *,
    probes: Sequence[str] = PROBES,
    record_dir: str | Path | None = None,
    progress: Progress | None = None,
    around_probe: ProbeHook | None = None,
    secrets: Sequence[str] = (),
) -> CheckReport:
    """Run the live probes against ``client``'s base URL for each slug in ``models``.

    Args:
        client: a :class:`~segmind_gemini.SegmindGeminiClient` (its key, base URL,
            timeout, retries and rate governor are used).
        models: slugs to check; the package's default model by default.
        probes: a subset of :data:`PROBES`, in any order (they run in PROBES order).
        record_dir: write every exchange as a vcrpy cassette, key filtered, to
            ``<record_dir>/check/<slug>/<probe>.yaml`` and the report to
            ``<record_dir>/check/report.json`` (needs ``segmind-gemini[record]``).
        progress: called with ``(slug, probe, result)`` as each probe finishes.
        around_probe: a context manager factory wrapped around each probe (``(slug,
            probe)``), for callers that record or time exchanges themselves.
        secrets: the key(s), to mask in every spelling (JSON escapes, URL-encoding,
            base64) wherever a gateway echoes them. The client already masks the key
            as written and JSON-escaped; recording adds the key its requests carry.

    The run stops at the first 401 or 406 (``report.stopped`` says which); nothing
    more is sent after it. Costs are summed from ``x-cost``.
    """
    unknown = [name for name in probes if name not in REGISTRY]
    if unknown:
        raise SegmindError(f"unknown probes {unknown}; known: {', '.join(PROBES)}")
    if not models:
        raise SegmindError("run_checks needs at least one model slug")
    models = [check_slug(slug) for slug in models]
    report = CheckReport(
        base_url=client.base_url,
        checked_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        target=target_of(client.base_url),
    )
    recorder: ProbeHook | None = around_probe
    known: list[str] = [s for s in secrets if s]
    if record_dir is not None:
        from segmind_gemini._record import cassette_recorder

        recorder = cassette_recorder(Path(record_dir) / "check")
        known = recorder.secrets  # fills with the keys the recorded requests carry
        known += [s for s in secrets if s and s not in known]
    selected = [name for name in PROBES if name in probes]
    seen: list[Any] = []
    try:
        for slug in models:
            prober = Prober(client, slug, known)
            results = report.models.setdefault(slug, {})
            try:
                for name in selected:
                    with _around(recorder, slug, name):
                        results[name] = REGISTRY[name].run(prober)
                    if progress is not None:
                        progress(slug, name, results[name])
            finally:
                report.cost += prober.cost
                seen += prober.headers_seen
    except Stop as stop:
        report.stopped = str(stop)
        results[name] = ProbeResult("error", f"{stop}; stopped, nothing more was sent")
        if progress is not None:
            progress(slug, name, results[name])
    report.target = target_of(client.base_url, seen)
    if known:
        report = report.scrubbed(known)
    if record_dir is not None:
        out = Path(record_dir) / "check" / "report.json"
        out.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    return report


def _around(hook: ProbeHook | None, slug: str, name: str) -> AbstractContextManager[Any]:
    return hook(slug, name) if hook is not None else nullcontext()

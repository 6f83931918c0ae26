"""What a ``check`` run measured, where it measured it, and how it is shown."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from segmind_gemini._version import __version__

__all__ = [
    "EMULATOR_HEADER",
    "CheckReport",
    "ProbeResult",
    "Status",
    "Target",
    "format_table",
    "target_of",
]

Status = Literal["supported", "ignored", "rejected", "error"]
Target = Literal["segmind", "emulator", "other"]

#: A header an emulator may send to say what it is (any value).
EMULATOR_HEADER = "x-segmind-emulator"

#: Probes whose verdict says what Gemini did with a feature. An emulator's answer to
#: them is its own configuration, not Segmind's behaviour.
MODEL_BEHAVIOUR = frozenset(
    {"system_instruction", "generation_config", "thinking", "image", "pdf", "audio", "file_data"}
)


@dataclass(frozen=True)
class ProbeResult:
    """One probe's verdict and the line of evidence behind it."""

    status: Status
    evidence: str

    def as_json(self) -> dict[str, str]:
        return {"status": self.status, "evidence": self.evidence}


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def target_of(base_url: str, headers_seen: Iterable[Mapping[str, str]] = ()) -> Target:
    """``emulator`` for a loopback host or an answer carrying :data:`EMULATOR_HEADER`;
    ``segmind`` for a ``*.segmind.com`` host; ``other`` for anything else (a proxy)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if _is_loopback(host) or any(
        EMULATOR_HEADER in {k.lower() for k in headers} for headers in headers_seen
    ):
        return "emulator"
    if host == "segmind.com" or host.endswith(".segmind.com"):
        return "segmind"
    return "other"


@dataclass
class CheckReport:
    """What :func:`run_checks` measured; :meth:`as_json` is the ``--json`` output.

    ``target`` says who answered (``segmind``, ``emulator`` or ``other``);
    ``stopped`` says why the run ended early (a 401 or 406), else ``None``; the
    probes that did not run are absent from ``models``.
    """

    base_url: str
    checked_at: str
    package_version: str = __version__
    models: dict[str, dict[str, ProbeResult]] = field(default_factory=dict)
    cost: float = 0.0
    stopped: str | None = None
    target: Target = "segmind"

    def as_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "target": self.target,
            "checked_at": self.checked_at,
            "package_version": self.package_version,
            "models": {
                slug: {name: result.as_json() for name, result in probes.items()}
                for slug, probes in self.models.items()
            },
            "cost": round(self.cost, 6),
        }

    def scrubbed(self, secrets: Iterable[str]) -> CheckReport:
        """A copy whose evidence holds no spelling of ``secrets`` (an echoing gateway)."""
        from segmind_gemini._record import scrub

        keys = [s for s in secrets if s]
        models = {
            slug: {
                name: ProbeResult(r.status, scrub(r.evidence, keys)) for name, r in probes.items()
            }
            for slug, probes in self.models.items()
        }
        stopped = scrub(self.stopped, keys) if self.stopped else self.stopped
        return replace(self, models=models, stopped=stopped)

    def banner(self) -> str | None:
        """One line saying the answers are not Segmind's, or ``None`` when they are."""
        if self.target == "emulator":
            return (
                f"EMULATOR at {self.base_url}: these verdicts describe the emulator's "
                "configuration, not Segmind's gateway or Gemini; its x-cost is made up."
            )
        if self.target == "other":
            return (
                f"Not api.segmind.com ({self.base_url}): the verdicts describe that host, "
                "which may be a proxy in front of Segmind."
            )
        return None


def _iter_rows(report: CheckReport) -> Iterator[tuple[str, str, str, str]]:
    for slug, probes in report.models.items():
        for name, result in probes.items():
            status: str = result.status
            if report.target == "emulator":
                # A verdict about the model's behaviour is the emulator's, not Segmind's.
                status = f"{status} (emulated)" if name in MODEL_BEHAVIOUR else status
            yield slug, name, status, result.evidence


def format_table(report: CheckReport, width: int = 100) -> str:
    """The report as a plain-text table: model, probe, status, evidence (banner first)."""
    rows = list(_iter_rows(report))
    if not rows:
        return "(no probes ran)"
    w_model = max(len("model"), *(len(r[0]) for r in rows))
    w_probe = max(len("probe"), *(len(r[1]) for r in rows))
    w_status = max(len("status"), *(len(r[2]) for r in rows))
    room = max(width - w_model - w_probe - w_status - 6, 30)
    banner = report.banner()
    lines = [banner] if banner else []
    lines += [
        f"{'model':<{w_model}}  {'probe':<{w_probe}}  {'status':<{w_status}}  evidence",
        f"{'-' * w_model}  {'-' * w_probe}  {'-' * w_status}  {'-' * 8}",
    ]
    for slug, name, status, evidence in rows:
        shown = evidence if len(evidence) <= room else evidence[: room - 1] + "…"
        lines.append(f"{slug:<{w_model}}  {name:<{w_probe}}  {status:<{w_status}}  {shown}")
    return "\n".join(lines)

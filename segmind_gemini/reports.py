"""Where ``segmind-gemini check`` keeps its reports, and what the package reads back.

Only ``check`` writes reports (one JSON file per run); ``tool_calling="auto"`` reads
the newest one that covers a slug on the same base URL, so a check against the local
emulator never decides how the live API is called.

The directory is the per-user cache directory (``$SEGMIND_GEMINI_CACHE_DIR`` overrides
it): ``~/.cache/segmind-gemini`` on Linux (or ``$XDG_CACHE_HOME``),
``~/Library/Caches/segmind-gemini`` on macOS, ``%LOCALAPPDATA%\\segmind-gemini\\Cache``
on Windows. Those are the paths ``platformdirs.user_cache_dir("segmind-gemini")``
gives; they are spelled out here so the core keeps its two dependencies.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["CACHE_DIR_ENV", "latest_probe_status", "reports_dir", "save_report"]

CACHE_DIR_ENV = "SEGMIND_GEMINI_CACHE_DIR"
_APP = "segmind-gemini"


def user_cache_dir() -> Path:
    """The per-user cache directory of this package (see the module docstring)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / _APP / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / _APP
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return Path(xdg if xdg else home / ".cache") / _APP


def reports_dir() -> Path:
    """Where check reports are written: ``<cache dir>/reports``."""
    return user_cache_dir() / "reports"


def save_report(report: Mapping[str, Any]) -> Path:
    """Write one ``check`` report (its ``--json`` form) and return the file's path."""
    directory = reports_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = str(report.get("checked_at", "")).replace(":", "").replace("-", "")
    # The nanoseconds keep two runs in one second apart (and in order).
    path = directory / f"check-{stamp or 'undated'}-{time.time_ns()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a report
    return path


def _reports_newest_first() -> Iterator[dict[str, Any]]:
    try:
        files = sorted(reports_dir().glob("check-*.json"), reverse=True)
    except OSError:
        return
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a damaged report decides nothing
        if isinstance(data, dict):
            yield data


def latest_probe_status(slug: str, probe: str, base_url: str) -> str | None:
    """The status the newest saved report for ``slug`` on ``base_url`` gave ``probe``.

    ``None`` when no saved report measured it.
    """
    wanted = base_url.rstrip("/")
    for report in _reports_newest_first():
        if str(report.get("base_url", "")).rstrip("/") != wanted:
            continue
        models = report.get("models")
        probes = models.get(slug) if isinstance(models, dict) else None
        result = probes.get(probe) if isinstance(probes, dict) else None
        if isinstance(result, dict) and isinstance(result.get("status"), str):
            return str(result["status"])
    return None

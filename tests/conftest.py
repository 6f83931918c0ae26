"""Fixtures shared by the adapter test folders."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from segmind_gemini.governor import forget_rate_limits
from segmind_gemini.testing import SegmindEmulator


def pytest_configure(config: pytest.Config) -> None:
    """Rate limits learned in this run stay in this run: its own store, not the user's
    machine-wide one that other runs (and other programs) on this machine share."""
    folder = Path(tempfile.mkdtemp(prefix="segmind-rate-"))
    os.environ["SEGMIND_RATE_LIMIT_STORE"] = f"sqlite:///{folder / 'rate-limits.sqlite3'}"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Each test starts with governors that learned nothing (429s are scripted per test)."""
    forget_rate_limits()


@pytest.fixture(scope="module")
def _shared_emulator() -> Iterator[SegmindEmulator]:
    with SegmindEmulator() as emulator:
        yield emulator


@pytest.fixture
def emu(_shared_emulator: SegmindEmulator) -> Iterator[SegmindEmulator]:
    """The module's emulator, with an empty script and no recorded requests."""
    _shared_emulator.reset()
    yield _shared_emulator
    _shared_emulator.reset()


@pytest.fixture(autouse=True)
def _private_report_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the user's real `segmind-gemini check` reports."""
    monkeypatch.setenv("SEGMIND_GEMINI_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Skips grouped by reason, one line each with a count (``-rs`` lists every test).

    Fifty skips for the same missing key would otherwise bury the run's summary.
    """
    if terminalreporter.hasopt("s"):
        return  # -rs (or -ra): pytest lists every skipped test itself
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if reasons:
        terminalreporter.section("skipped, grouped by reason (-rs lists each test)")
        for reason, count in reasons.most_common():
            terminalreporter.line(f"{count:4d} x {reason}")

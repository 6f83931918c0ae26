"""Segmind's per-key fixed rate windows, as the emulator counts them (no HTTP here)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

__all__ = ["RateWindows"]


class RateWindows:
    """Counts model calls per key in fixed windows of ``window`` seconds of Unix time.

    Windows start on multiples of ``window`` (as a per-minute counter would); only the
    current window's counters are kept. Refused calls do not count.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}
        self._refused = 0

    @property
    def refused(self) -> int:
        """How many calls :meth:`admit` refused since the last :meth:`clear`."""
        with self._lock:
            return self._refused

    def admit(self, key: str, limit: int, window: float, now: float) -> datetime | None:
        """Count a call and return ``None``, or refuse it and return its window's reset time."""
        index = int(now // window)
        with self._lock:
            used = self._counts.get((key, index), 0)
            if used < limit:
                if used == 0:
                    for old in [k for k in self._counts if k[1] < index]:
                        del self._counts[old]
                self._counts[(key, index)] = used + 1
                return None
            self._refused += 1
        return datetime.fromtimestamp((index + 1) * window, timezone.utc)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._refused = 0

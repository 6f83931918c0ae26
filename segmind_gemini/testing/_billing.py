"""The emulator's credit balance: what ``x-cost`` and ``x-remaining-credits`` show."""

from __future__ import annotations

import threading

__all__ = ["Ledger", "money"]


def money(value: float) -> str:
    """A header amount: up to six decimals, no trailing zeros (``0.0012``, ``10``)."""
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


class Ledger:
    """A balance that 2xx model answers draw ``cost_per_call`` from."""

    def __init__(self, credits: float, cost_per_call: float) -> None:
        self._lock = threading.Lock()
        self._initial = credits
        self._credits = credits
        self.cost_per_call = cost_per_call

    @property
    def credits(self) -> float:
        with self._lock:
            return self._credits

    @credits.setter
    def credits(self, value: float) -> None:
        with self._lock:
            self._credits = value

    def short(self) -> bool:
        """Whether the balance cannot pay for one more call (Segmind answers 406)."""
        with self._lock:
            return self.cost_per_call > 0 and self._credits < self.cost_per_call

    def charge(self) -> float:
        """Bill one call; returns what it cost."""
        with self._lock:
            self._credits -= self.cost_per_call
            return self.cost_per_call

    def restore(self) -> None:
        """Back to the starting balance."""
        with self._lock:
            self._credits = self._initial

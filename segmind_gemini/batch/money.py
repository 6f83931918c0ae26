"""Exact money: what a job spent, counted in :class:`~decimal.Decimal` USD.

Float sums drift (``0.1 + 0.1 + 0.1 > 0.3``), which made a ``--max-cost 0.3`` run of
$0.10 jobs stop after two; decimal sums do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from segmind_gemini.wire.response import GenerateContentResult

__all__ = ["Spend", "to_money"]

ZERO = Decimal(0)


def to_money(value: float | str | Decimal | None) -> Decimal | None:
    """``value`` as exact USD; ``None`` when it is missing, not finite or negative.

    A float is taken by its shortest decimal form (``0.1`` is ``Decimal("0.1")``,
    as the ``x-cost`` header spelled it).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = repr(value)
    try:
        money = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return money if money.is_finite() and money >= 0 else None


@dataclass
class Spend:
    """What one job's calls cost and used (a structured job may make two calls)."""

    calls: int = 0
    cost: Decimal = ZERO
    #: Calls whose ``x-cost`` was missing or unreadable (not counted in ``cost``).
    unpriced: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    thoughts_tokens: int = 0
    total_tokens: int = 0

    def add(self, result: GenerateContentResult) -> None:
        """Count one answered call."""
        self.calls += 1
        cost = to_money(result.cost)
        if cost is None:
            self.unpriced += 1
        else:
            self.cost += cost
        usage = result.usage
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.thoughts_tokens += usage.thoughts_tokens
        self.total_tokens += usage.total_tokens

    def cost_field(self) -> float | None:
        """The output line's ``cost``: ``null`` when any call's price was unreadable."""
        return None if self.unpriced else float(self.cost)

    def usage_field(self) -> dict[str, int]:
        """The output line's ``usage``."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "thoughts_tokens": self.thoughts_tokens,
            "total_tokens": self.total_tokens,
        }

"""How a run goes: :class:`BatchSettings`, checked once, before anything is read or sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TextIO

from segmind_gemini.batch.jobs import BatchInputError
from segmind_gemini.batch.money import to_money
from segmind_gemini.batch.progress import ProgressMode

__all__ = ["BatchSettings"]


@dataclass(frozen=True)
class BatchSettings:
    """The settings of one run (``run_batch``'s keyword arguments, checked).

    The client settings (``api_key`` to ``rate_limit_store``) are used only when
    ``run_batch`` makes its own client.
    """

    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    requests_per_minute: int | None = None
    rate_limit_window: float = 60.0
    rate_limit_store: str | None = None
    max_retries: int = 4
    timeout: float = 120.0
    concurrency: int = 8
    #: USD this run may spend, exact; ``None`` for no limit.
    max_cost: Decimal | None = None
    retry_errors: bool = False
    dry_run: bool = False
    progress: ProgressMode | bool = "auto"
    progress_interval: float = 10.0
    stop_grace: float = 10.0
    stream: TextIO | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise BatchInputError(f"concurrency must be 1 or more, got {self.concurrency}")
        # Floats and strings are taken too, and kept as exact Decimal USD.
        object.__setattr__(self, "max_cost", self.budget(self.max_cost))

    @staticmethod
    def budget(max_cost: float | str | Decimal | None) -> Decimal | None:
        """``max_cost`` as exact USD (``0.3`` is three $0.10 jobs, not two).

        Raises:
            BatchInputError: not a positive, finite amount.
        """
        if max_cost is None:
            return None
        money = to_money(max_cost)
        if money is None or money <= 0:
            raise BatchInputError(f"max_cost must be a positive number of USD, got {max_cost!r}")
        return money

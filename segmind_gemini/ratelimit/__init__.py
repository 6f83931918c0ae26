"""Rate limits: one governor per API key and origin, its state shared through a store.

``policy`` decides (pure, takes ``now``), ``store`` keeps the decision's state where
other processes see it, ``governor`` makes calls wait their turn, ``registry`` hands
out one governor per key, origin and store. See each module's docstring.
"""

from __future__ import annotations

from segmind_gemini.ratelimit.governor import RateGovernor, RateLimitStatus
from segmind_gemini.ratelimit.policy import LONGEST_BLOCK, Ticket, Turn, WindowPolicy
from segmind_gemini.ratelimit.registry import forget_rate_limits, governor_for, live_governors
from segmind_gemini.ratelimit.store import (
    RATE_LIMIT_STORE_ENV,
    hide_store_password,
    resolve_rate_limit_store,
)

__all__ = [
    "LONGEST_BLOCK",
    "RATE_LIMIT_STORE_ENV",
    "RateGovernor",
    "RateLimitStatus",
    "Ticket",
    "Turn",
    "WindowPolicy",
    "forget_rate_limits",
    "governor_for",
    "hide_store_password",
    "live_governors",
    "resolve_rate_limit_store",
]

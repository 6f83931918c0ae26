"""The rate governor, now in :mod:`segmind_gemini.ratelimit` (this path keeps working)."""

from __future__ import annotations

from segmind_gemini.ratelimit import (
    RateGovernor,
    RateLimitStatus,
    Ticket,
    Turn,
    forget_rate_limits,
    governor_for,
)

__all__ = [
    "RateGovernor",
    "RateLimitStatus",
    "Ticket",
    "Turn",
    "forget_rate_limits",
    "governor_for",
]

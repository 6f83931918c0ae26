"""Moved to :mod:`segmind_gemini.wire.types`; kept: the README documented this path."""

from segmind_gemini.wire.types import *  # noqa: F403
from segmind_gemini.wire.types import __all__ as __all__

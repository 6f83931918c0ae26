"""Moved to :mod:`segmind_gemini.planning.structured`; kept: the README documented this path."""

from segmind_gemini.planning.structured import *  # noqa: F403
from segmind_gemini.planning.structured import __all__ as __all__

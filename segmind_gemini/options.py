"""Moved to :mod:`segmind_gemini.planning.options`; kept: the README documented this path."""

from segmind_gemini.planning.options import *  # noqa: F403
from segmind_gemini.planning.options import __all__ as __all__

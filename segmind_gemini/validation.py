"""Moved to :mod:`segmind_gemini.wire.validation`; kept: the README documented this path."""

from segmind_gemini.wire.validation import *  # noqa: F403
from segmind_gemini.wire.validation import __all__ as __all__

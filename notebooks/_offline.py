"""Small helpers the notebooks import: sample files made here, so nothing is downloaded.

Run the notebooks from this directory (Jupyter does by default) so ``import _offline``
finds this file.
"""

from __future__ import annotations

from segmind_gemini.testing.samples import tiny_pdf, tiny_png

__all__ = ["sample_pdf", "sample_png"]


def sample_png() -> bytes:
    """A 32x32 PNG filled with one red colour (RGB 220, 40, 40)."""
    return tiny_png(32, 32, (220, 40, 40))


def sample_pdf(text: str = "Invoice 7: the total is 42 euros.") -> bytes:
    """A valid one-page PDF that shows ``text`` in Helvetica."""
    return tiny_pdf(text)

"""The examples in the pure modules' docstrings run and give what they show.

Modules whose examples need a server or files (client, media, the adapters) are
illustrations and are not run here; their behaviour is tested elsewhere.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

PURE = [
    "wire.request",
    "tools",
    "tools.spec",
    "tools.prompted",
    "tools.json_scan",
    "wire.parts",
    "wire.depth",
    "planning.structured",
    "tools.native",
    "registry",
    "media.mime",
    "planning.options",
    "tokens",
    "tools.builtin",
    "media.file_refs",
]


@pytest.mark.parametrize("name", PURE)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"segmind_gemini.{name}")
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True
    )
    assert result.attempted > 0
    assert result.failed == 0

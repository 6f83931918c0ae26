"""Test helpers: a local emulator of the Segmind API and its pytest fixture.

Names are imported lazily, so importing this package (as the pytest plugin does) costs
nothing until the emulator is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segmind_gemini.testing._faults import Fault
    from segmind_gemini.testing._replies import SUPPORTED_MIME_TYPES
    from segmind_gemini.testing.emulator import (
        DEFAULT_API_KEY,
        RecordedRequest,
        SegmindEmulator,
        run_forever,
    )

__all__ = [
    "DEFAULT_API_KEY",
    "SUPPORTED_MIME_TYPES",
    "Fault",
    "RecordedRequest",
    "SegmindEmulator",
    "run_forever",
]

_HOMES = {
    "DEFAULT_API_KEY": "emulator",
    "RecordedRequest": "emulator",
    "SegmindEmulator": "emulator",
    "run_forever": "emulator",
    "Fault": "_faults",
    "SUPPORTED_MIME_TYPES": "_replies",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

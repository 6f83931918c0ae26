"""pytest plugin: the ``segmind_emulator`` fixture (registered as entry point ``segmind_gemini``).

Importing this module loads only pytest; the emulator (and aiohttp) load when a test
asks for the fixture. Options go through a marker::

    @pytest.mark.segmind_emulator(fault_rate=0.2, seed=7)
    def test_soak(segmind_emulator): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from segmind_gemini.testing.emulator import SegmindEmulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "segmind_emulator(**kwargs): keyword arguments for the segmind_emulator fixture's "
        "SegmindEmulator",
    )


@pytest.fixture
def segmind_emulator(request: pytest.FixtureRequest) -> Iterator[SegmindEmulator]:
    """A started :class:`~segmind_gemini.testing.SegmindEmulator`, stopped after the test."""
    from segmind_gemini.testing.emulator import SegmindEmulator

    marker = request.node.get_closest_marker("segmind_emulator")
    options = dict(marker.kwargs) if marker is not None else {}
    with SegmindEmulator(**options) as emulator:
        yield emulator

"""Acceptance tests: fixtures around the package's emulator (see ``_emulated.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _emulated import CORE_KEY, FileHost

from segmind_gemini.testing import SegmindEmulator


@pytest.fixture(scope="session")
def _core_server_session() -> Iterator[SegmindEmulator]:
    # Any slug: the tests script their own 404s. queue_polls=0: v2 jobs complete at once.
    with SegmindEmulator(api_key=CORE_KEY, allow_any_model=True, queue_polls=0) as emu:
        yield emu


@pytest.fixture
def core_server(
    _core_server_session: SegmindEmulator, request: pytest.FixtureRequest
) -> Iterator[SegmindEmulator]:
    """The emulator, with an empty script and no recorded requests.

    Tests marked ``verbatim`` script a gateway's exact exchanges (queue submits and
    polls, hostile answers): every request takes the next queued answer as is.
    """
    emu = _core_server_session
    emu.reset()
    emu.verbatim = request.node.get_closest_marker("verbatim") is not None
    try:
        yield emu
        leftover = emu.pending
    finally:
        emu.verbatim = False
        emu.reset()
    assert leftover == 0, f"{leftover} scripted replies were never requested"


@pytest.fixture
def files() -> Iterator[FileHost]:
    host = FileHost()
    yield host
    host.close()

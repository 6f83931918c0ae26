"""Acceptance tests: fixtures around a scripted HTTP server of our own (not the emulator)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _server_core import ScriptedServer


@pytest.fixture(scope="session")
def _core_server_session() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def core_server(_core_server_session: ScriptedServer) -> Iterator[ScriptedServer]:
    """The scripted server, with an empty script and no recorded requests."""
    _core_server_session.reset()
    yield _core_server_session
    leftover = _core_server_session.pending
    _core_server_session.reset()
    assert leftover == 0, f"{leftover} scripted replies were never requested"

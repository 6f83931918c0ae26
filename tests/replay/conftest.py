"""Cassette replay suite: fixtures, VCR settings and the no-network guard.

By default (no ``--record-mode``, or ``--record-mode=none``) every test replays its
cassette from ``tests/cassettes/replay/`` with sockets disabled (unix sockets stay
allowed: asyncio's event loop needs a socketpair), the models pointed at
``https://api.segmind.com/v1`` with a dummy key, and every recorded exchange must be
played. Recording needs ``SEGMIND_API_KEY`` (live) or ``SEGMIND_RECORD_TARGET=emulator``
(the bundled emulator, not a model); anything else is refused before a test runs.
See ``_replay_support`` and ``tests/cassettes/README.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_socket
from _replay_support import (
    CASSETTES,
    MODEL,
    REDACTED,
    REPLAY_API_KEY,
    REPLAY_BASE_URL,
    WRONG_API_KEY,
    RecordingRefused,
    Script,
    Target,
    match_json_body,
    request_scrubber,
    resolve_target,
    response_scrubber,
)

from segmind_gemini.settings import resolve_base_url
from segmind_gemini.testing import DEFAULT_API_KEY, SegmindEmulator

if TYPE_CHECKING:
    from langchain_segmind_gemini import ChatSegmindGemini
    from llama_index_segmind_gemini import SegmindGemini

HERE = Path(__file__).resolve().parent
_TARGET = pytest.StashKey[Target]()
_REFUSED = pytest.StashKey[str]()
_CALL_FAILED = pytest.StashKey[bool]()


def _here(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulator_only(reason): the exchange cannot be produced on demand by the live API; "
        "its cassette is recorded against the emulator and the test is skipped when "
        "recording live",
    )
    try:
        config.stash[_TARGET] = resolve_target(config.getoption("--record-mode", default=None))
    except RecordingRefused as exc:
        config.stash[_REFUSED] = str(exc)


def target_of(config: pytest.Config) -> Target:
    return config.stash.get(_TARGET, Target("replay"))


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    # Called for every VCR instance pytest-recording builds; registering a matcher
    # name is harmless for cassettes elsewhere that do not ask for it.
    vcr.register_matcher("segmind_json_body", match_json_body)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if _here(item)]
    if not mine:
        return
    refused = config.stash.get(_REFUSED, None)
    if refused is not None:
        raise pytest.UsageError(refused)
    if target_of(config).mode == "live":
        for item in mine:
            marker = item.get_closest_marker("emulator_only")
            if marker is not None:
                reason = marker.args[0] if marker.args else "emulator-only exchange"
                # A skip mark is applied before fixtures run, so --record-mode=rewrite
                # never deletes the emulator-recorded cassette of a skipped test.
                item.add_marker(
                    pytest.mark.skip(reason=f"recording live: {reason}; its cassette is kept")
                )


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Only conftest hooks of this directory see these items (item.ihook). pytest-socket
    # restores sockets after each test (its pytest_runtest_teardown).
    if target_of(item.config).mode == "replay":
        pytest_socket.disable_socket(allow_unix_socket=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


# --------------------------------------------------------------------------- targets


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    return target_of(pytestconfig)


@pytest.fixture(scope="session")
def record_mode(pytestconfig: pytest.Config) -> str:
    """Replay only unless ``--record-mode`` asks otherwise (overrides pytest-recording's
    fixture of the same name to make the default explicit here)."""
    return str(pytestconfig.getoption("--record-mode", default=None) or "none")


@pytest.fixture
def emulator(target: Target) -> Iterator[SegmindEmulator | None]:
    """A fresh emulator per test when recording against it, else ``None``."""
    if target.mode != "emulator":
        yield None
        return
    with SegmindEmulator() as emu:
        yield emu


@pytest.fixture
def script(emulator: SegmindEmulator | None) -> Script:
    return Script(emulator)


@pytest.fixture
def connection(target: Target, emulator: SegmindEmulator | None) -> dict[str, Any]:
    """``api_key``, ``base_url`` and ``max_retries`` for the target."""
    if target.mode == "emulator":
        assert emulator is not None
        return {"api_key": emulator.api_key, "base_url": emulator.base_url, "max_retries": 0}
    if target.mode == "live":
        return {
            "api_key": os.environ["SEGMIND_API_KEY"],
            "base_url": resolve_base_url(None),
            "max_retries": target.max_retries,
        }
    return {"api_key": REPLAY_API_KEY, "base_url": REPLAY_BASE_URL, "max_retries": 0}


# ----------------------------------------------------------------------- VCR settings


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """``tests/cassettes/replay/<module>``: test_replay_langchain.py -> langchain."""
    stem = Path(str(request.node.path)).stem.removeprefix("test_replay_")
    return str(CASSETTES / stem)


@pytest.fixture
def vcr_config(target: Target) -> dict[str, Any]:
    # No record_mode here: it comes from --record-mode only (pytest-recording: "none").
    secrets = [REPLAY_API_KEY, DEFAULT_API_KEY, WRONG_API_KEY]
    if target.mode == "live":
        secrets.append(os.environ["SEGMIND_API_KEY"])
    return {
        "filter_headers": [("x-api-key", REDACTED), ("authorization", REDACTED)],
        "match_on": ["method", "path", "segmind_json_body"],
        "before_record_request": request_scrubber(secrets),
        "before_record_response": response_scrubber(secrets, drop_transient=target.mode == "live"),
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
    }


@pytest.fixture(autouse=True)
def _every_exchange_played(request: pytest.FixtureRequest, target: Target) -> Iterator[None]:
    """In replay, a test must use every exchange its cassette holds, each once."""
    cassette = request.getfixturevalue("vcr")
    yield
    if request.node.stash.get(_CALL_FAILED, True):
        return  # the failure itself says what went wrong
    if target.mode == "replay" and cassette is not None:
        played = sum(cassette.play_counts.values())
        assert cassette.all_played, (
            f"{played} of {len(cassette)} recorded exchanges were replayed: the journey "
            "sent fewer requests than were recorded; re-record the cassette"
        )


# --------------------------------------------------------------------------- models


@pytest.fixture
def make_chat_model(connection: dict[str, Any]) -> Iterator[Callable[..., ChatSegmindGemini]]:
    """Build ``ChatSegmindGemini`` objects for the target; closed after the test."""
    from langchain_segmind_gemini import ChatSegmindGemini

    made: list[ChatSegmindGemini] = []

    def make(**overrides: Any) -> ChatSegmindGemini:
        model = ChatSegmindGemini(**{"model": MODEL, **connection, **overrides})
        made.append(model)
        return model

    yield make
    for model in made:
        model.close()


@pytest.fixture
def make_llm(connection: dict[str, Any]) -> Iterator[Callable[..., SegmindGemini]]:
    """Build ``SegmindGemini`` LLMs for the target; closed after the test."""
    from llama_index_segmind_gemini import SegmindGemini

    made: list[SegmindGemini] = []

    def make(**overrides: Any) -> SegmindGemini:
        llm = SegmindGemini(**{"model": MODEL, **connection, **overrides})
        made.append(llm)
        return llm

    yield make
    for llm in made:
        llm.close()

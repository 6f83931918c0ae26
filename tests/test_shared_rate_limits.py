"""One key shared by many processes and machines: the rate store (issue 16).

Worker processes (``tests/rate_worker.py``) start together at a window boundary and
call an emulator that admits 20 calls per 2-second window over real sockets. The floor
is when the last window the calls need opens; bounds leave room for a loaded 2-core
machine (the full-size runs are in ``benchmarks/bench_shared_limits.py``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmind_gemini import InvalidRequestError, SegmindGeminiClient
from segmind_gemini.ratelimit import (
    Turn,
    WindowPolicy,
    forget_rate_limits,
    governor_for,
    live_governors,
)
from segmind_gemini.testing import SegmindEmulator

LIMIT, WINDOW = 20, 2.0
KEY = "shared-key"
WORKER = Path(__file__).parent / "rate_worker.py"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


@pytest.fixture
def server() -> Iterator[SegmindEmulator]:
    with SegmindEmulator(api_key=KEY, rate_limit=(LIMIT, WINDOW)) as emulator:
        yield emulator


def start_workers(
    emulator: SegmindEmulator, plans: list[tuple[int, str, dict[str, str]]]
) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, str(WORKER), emulator.base_url, str(calls), front],
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for calls, front, env in plans
    ]


def start_together(procs: list[subprocess.Popen[str]]) -> float:
    """Once every worker is ready, start them all at the next window boundary."""
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    start_at = (math.floor(time.time() / WINDOW) + 1) * WINDOW
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start_at}\n")
        proc.stdin.flush()
    return start_at


def run_workers(
    emulator: SegmindEmulator, plans: list[tuple[int, str, dict[str, str]]]
) -> tuple[float, int]:
    """Start one process per ``(calls, front, env)``; return wall / floor and the 429s."""
    procs = start_workers(emulator, plans)
    start_at = start_together(procs)
    outs = [json.loads(proc.communicate(timeout=120)[0].strip().splitlines()[-1]) for proc in procs]
    total = sum(calls for calls, _, _ in plans)
    for out, (calls, front, _) in zip(outs, plans, strict=True):
        assert out["answers"] == calls, (front, out["errors"])
    floor = (math.ceil(total / LIMIT) - 1) * WINDOW
    wall = max(out["end"] for out in outs) - start_at
    return wall / floor, emulator.rate_limited


def _homes(tmp_path: Path, count: int, **env: str) -> list[dict[str, str]]:
    """Each worker its own machine: its own HOME and cache directory."""
    homes = []
    for index in range(count):
        home = tmp_path / f"machine{index}"
        homes.append({"HOME": str(home), "SEGMIND_GEMINI_CACHE_DIR": str(home / "cache"), **env})
    return homes


def test_four_processes_share_the_default_store(server: SegmindEmulator, tmp_path: Path) -> None:
    # The default store ("machine"): four processes of one user on one machine.
    env = {"SEGMIND_RATE_LIMIT_STORE": "", "SEGMIND_GEMINI_CACHE_DIR": str(tmp_path)}
    ratio, refused = run_workers(server, [(25, "core", env)] * 4)
    assert ratio <= 1.3
    assert (tmp_path / "rate-limits.sqlite3").exists()
    # The first burst is refused (nothing is known yet); after it, about one a window.
    assert refused <= (100 - LIMIT) + 2 * 5


def test_core_langchain_and_llama_index_processes_share_it(
    server: SegmindEmulator, tmp_path: Path
) -> None:
    env = {"SEGMIND_RATE_LIMIT_STORE": "", "SEGMIND_GEMINI_CACHE_DIR": str(tmp_path)}
    ratio, _ = run_workers(
        server, [(20, "core", env), (20, "langchain", env), (20, "llama_index", env)]
    )
    assert ratio <= 1.3


@pytest.mark.parametrize(
    ("processes", "spelling"), [(2, "environment"), (4, "environment"), (4, "argument")]
)
def test_processes_that_share_nothing_still_take_a_fair_share(
    server: SegmindEmulator, processes: int, spelling: str, tmp_path: Path
) -> None:
    # No store ("process"): each learns from its own 429s only. 80 calls in all (four
    # windows' worth, floor 6 s); within 2x the floor. Before stores: 1.7x to 10x from
    # run to run; before shares were taken back, 1.34x and one run in six 2.0x; since,
    # 1.00x-1.01x in 24 runs of 24 (2 and 4 processes). As the argument, it overrides
    # the default store, which each process here would otherwise share (its own cache
    # folder proves it did not).
    if spelling == "environment":
        env = {"SEGMIND_RATE_LIMIT_STORE": "process"}
    else:
        env = {
            "SEGMIND_RATE_LIMIT_STORE": "",
            "RATE_WORKER_STORE_ARG": "process",
            "SEGMIND_GEMINI_CACHE_DIR": str(tmp_path),
        }
    ratio, _ = run_workers(server, [(80 // processes, "core", env)] * processes)
    assert ratio <= 2.0
    assert not (tmp_path / "rate-limits.sqlite3").exists()


def test_an_unknown_store_is_refused_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidRequestError, match="'memcached://x'"):
        SegmindGeminiClient("k", rate_limit_store="memcached://x")
    monkeypatch.setenv("SEGMIND_RATE_LIMIT_STORE", "sqlite://relative")
    with pytest.raises(InvalidRequestError, match=r"SEGMIND_RATE_LIMIT_STORE.*'sqlite://relative'"):
        SegmindGeminiClient("k")
    with pytest.raises(InvalidRequestError) as error:
        SegmindGeminiClient("k", rate_limit_store="memcached://user:secret@host")
    assert "secret" not in str(error.value)


def test_a_store_with_garbage_is_ignored_and_rewritten(
    segmind_emulator: SegmindEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "rate.sqlite3"
    store = f"sqlite:///{path}"
    with SegmindGeminiClient(
        segmind_emulator.api_key, base_url=segmind_emulator.base_url, rate_limit_store=store
    ) as client:
        client.generate_content(HELLO)
        with sqlite3.connect(path) as db:
            db.execute("UPDATE rate_state SET doc = ?", ('{"limit": "lots", "window": [1]}',))
        time.sleep(0.1)  # past the idle fast path: the next call reads the store
        assert client.generate_content(HELLO).text
        assert client.rate_limit_status().learned_limit is None
    with sqlite3.connect(path) as db:
        (doc,) = db.execute("SELECT doc FROM rate_state").fetchone()
    assert json.loads(doc)["limit"] is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    changes=st.dictionaries(
        st.sampled_from([f.name for f in fields(WindowPolicy)]), _JSON, min_size=1, max_size=4
    )
)
def test_any_document_in_a_store_is_used_or_replaced_never_a_crash(
    changes: dict[str, Any],
) -> None:
    # Another version, another process's bug or a person with a SQL shell may leave any
    # JSON in the store: a field of the wrong kind, NaN or infinity makes the whole
    # document be ignored (then rewritten); one that passes drives every method.
    learned = WindowPolicy(limit=5, window_end=10.0, window_length=10.0, crowded=True)
    data = json.loads(learned.to_doc())
    data.update(changes)
    policy = WindowPolicy.from_doc(json.dumps(data))
    for now in (0.0, 5.0, 11.0):
        policy.free_at(now, Turn())
        ticket = policy.admit(now, Turn(), busy=True)
        policy.record(ticket, 429, -0.5, now + 0.1, busy=True)
        policy.record(policy.admit(now, Turn()), 200, None, now + 0.2, busy=True)
    WindowPolicy.from_doc(policy.to_doc())


OPENER = """
import sys, time
from pathlib import Path
from segmind_gemini.ratelimit.store import SqliteStore, StoreUnavailable
store = SqliteStore("machine", Path(sys.argv[1]))
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
failed = 0
for index in range(50):
    try:
        store.transact("k", "o", lambda policy, now: None, write=index % 3 > 0)
    except StoreUnavailable as exc:
        failed += 1
        print(exc, file=sys.stderr)
print(failed)
"""


def test_processes_opening_a_new_store_file_together_all_join_it(tmp_path: Path) -> None:
    # Four workers started together open one new file at once. SQLite answered the
    # switch to WAL "database is locked" without waiting (one run in two), and that
    # worker went on alone for 5 s, paying dozens of 429s the others had learned.
    for trial in range(6):
        path = tmp_path / f"rate{trial}.sqlite3"
        start_at = time.time() + 1.0
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(path), str(start_at)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert out.strip() == "0", err


def test_an_unusable_store_degrades_with_one_warning(
    segmind_emulator: SegmindEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    store = f"sqlite:///{blocker / 'rate.sqlite3'}"  # its folder is a file: never writable
    caplog.set_level(logging.INFO, logger="segmind_gemini")
    with SegmindGeminiClient(
        segmind_emulator.api_key, base_url=segmind_emulator.base_url, rate_limit_store=store
    ) as client:
        for _ in range(5):
            assert client.generate_content(HELLO).text
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "carries on alone" in warnings[0].getMessage()


@pytest.mark.parametrize(
    "store",
    [
        "redis://:hunter2-pw@127.0.0.1:{port}/0",
        "redis://bob:hunter2-pw@127.0.0.1:{port}/0",
        "redis://127.0.0.1:{port}/0?password=hunter2-pw",
    ],
)
def test_a_redis_password_is_never_logged(
    segmind_emulator: SegmindEmulator, caplog: pytest.LogCaptureFixture, store: str
) -> None:
    with socket.socket() as s:  # a port nothing listens on: the store is unavailable
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    caplog.set_level(logging.DEBUG, logger="segmind_gemini")
    with SegmindGeminiClient(
        segmind_emulator.api_key,
        base_url=segmind_emulator.base_url,
        rate_limit_store=store.format(port=port),
    ) as client:
        assert client.generate_content(HELLO).text
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    assert "hunter2" not in caplog.text


def test_a_redis_password_stays_out_of_both_adapters_reprs_dumps_and_traces(
    segmind_emulator: SegmindEmulator,
) -> None:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.load import dumps

    from langchain_segmind_gemini import ChatSegmindGemini
    from llama_index_segmind_gemini import SegmindGemini
    from segmind_gemini.ratelimit import resolve_rate_limit_store

    class Seen(BaseCallbackHandler):
        def __init__(self) -> None:
            self.text = ""

        def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            self.text += repr((serialized, kwargs))

    with socket.socket() as s:  # a port nothing listens on: the store is unavailable
        s.bind(("127.0.0.1", 0))
        url = f"redis://:hunter2-pw@127.0.0.1:{s.getsockname()[1]}/0"
    emu = segmind_emulator
    lc = ChatSegmindGemini(api_key=emu.api_key, base_url=emu.base_url, rate_limit_store=url)
    li = SegmindGemini(api_key=emu.api_key, base_url=emu.base_url, rate_limit_store=url)
    seen = Seen()
    assert lc.invoke("Hi", config={"callbacks": [seen]}).content
    shown = [repr(lc), str(lc.model_dump()), dumps(lc), seen.text]
    shown += [repr(li), li.to_json(), str(li.model_dump())]
    assert all("hunter2" not in text for text in shown)
    # The field holds a stand-in; the client is built with the real URL.
    assert resolve_rate_limit_store(lc.rate_limit_store) == url
    assert resolve_rate_limit_store(li.rate_limit_store) == url


def test_idle_governors_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    from segmind_gemini.ratelimit import registry

    monkeypatch.setattr(registry, "IDLE_AFTER", 0.0)
    monkeypatch.setattr(registry, "_SWEEP_EVERY", 0.0)
    for key in range(500):
        for origin in range(4):
            governor_for(f"key-{key}", f"http://origin-{origin}", "process")
    # What no client holds and nobody used since is gone (a few stay until the next sweep).
    assert live_governors() < 50


# --------------------------------------------------------------------------- redis


def _redis_server() -> str | None:
    return shutil.which("redis-server")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = _redis_server()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing, and CI must run the Redis tests")
        pytest.skip("redis-server is not installed (CI installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield url, proc
    finally:
        proc.kill()
        proc.wait()


def test_four_machines_share_one_redis(
    server: SegmindEmulator, tmp_path: Path, redis_url: tuple[str, Any]
) -> None:
    url, _ = redis_url
    homes = _homes(tmp_path, 4, SEGMIND_RATE_LIMIT_STORE=url)
    ratio, _ = run_workers(server, [(25, "core", env) for env in homes])
    assert ratio <= 1.3


def test_redis_killed_mid_run_loses_no_call(
    server: SegmindEmulator, tmp_path: Path, redis_url: tuple[str, Any]
) -> None:
    url, proc = redis_url
    homes = _homes(tmp_path, 4, SEGMIND_RATE_LIMIT_STORE=url)
    import threading

    start_at = (math.floor(time.time() / WINDOW) + 3) * WINDOW
    killer = threading.Timer(start_at + 5.0 - time.time(), proc.kill)
    killer.start()
    try:
        ratio, _ = run_workers(server, [(25, "core", env) for env in homes])
    finally:
        killer.cancel()
    assert ratio <= 3.0


def test_redis_keys_hold_no_secret_and_expire(
    segmind_emulator: SegmindEmulator, redis_url: tuple[str, Any]
) -> None:
    import redis

    url, _ = redis_url
    with SegmindGeminiClient(
        segmind_emulator.api_key, base_url=segmind_emulator.base_url, rate_limit_store=url
    ) as client:
        client.generate_content(HELLO)
    db = redis.Redis.from_url(url)
    names = [name.decode() for name in db.keys("*")]
    assert names and all(segmind_emulator.api_key not in name for name in names)
    assert all(0 < db.ttl(name) <= 86400 for name in names)
    forget_rate_limits(segmind_emulator.origin)
    for name in db.keys("*"):  # what is left has learned nothing
        assert json.loads(db.get(name))["limit"] is None


def test_batch_takes_the_store_from_its_flag(
    segmind_emulator: SegmindEmulator, tmp_path: Path
) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"id": "a", "prompt": "hi"}\n')
    store = tmp_path / "batch-rate.sqlite3"
    env = {
        **os.environ,
        "SEGMIND_API_KEY": segmind_emulator.api_key,
        "SEGMIND_BASE_URL": segmind_emulator.base_url,
    }
    args = ["batch", str(jobs), "-o", str(tmp_path / "out.jsonl"), "--quiet"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "segmind_gemini.cli",
            *args,
            "--rate-limit-store",
            f"sqlite:///{store}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert store.exists()  # the run's rate state went to the store the flag named
    bad = subprocess.run(
        [sys.executable, "-m", "segmind_gemini.cli", *args, "--rate-limit-store", "memcached://x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "memcached://x" in bad.stderr

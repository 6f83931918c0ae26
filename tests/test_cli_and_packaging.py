"""The console script and the package's promises: no framework in the core, typed, documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segmind_gemini.cli import main
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing.samples import tiny_png

ROOT = Path(__file__).resolve().parents[1]


def test_core_imports_no_framework() -> None:
    code = (
        "import sys, segmind_gemini, segmind_gemini.client, segmind_gemini.media;"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('langchain_core','langchain','llama_index','pydantic')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_py_typed_markers_ship() -> None:
    for pkg in ("segmind_gemini", "langchain_segmind_gemini", "llama_index_segmind_gemini"):
        assert (ROOT / pkg / "py.typed").exists()


def test_chat_prints_answer_and_summary(
    segmind_emulator: SegmindEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SEGMIND_API_KEY", segmind_emulator.api_key)
    image = tmp_path / "red.png"
    image.write_bytes(tiny_png())
    segmind_emulator.queue_text("scripted CLI answer")
    code = main(
        [
            "chat",
            "What is this?",
            "--image",
            str(image),
            "--system",
            "Be brief.",
            "--model",
            "gemini-3-flash",
            "--base-url",
            segmind_emulator.base_url,
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert out.strip() == "scripted CLI answer"
    assert "finish=STOP" in err and "cost=$" in err and "tokens in=" in err
    req = segmind_emulator.requests[-1]
    assert req.path == "/v1/gemini-3-flash"
    parts = req.json["messages"]["contents"][0]["parts"]
    assert parts[0] == {"text": "What is this?"}
    assert parts[1]["inlineData"]["mimeType"] == "image/png"
    assert req.json["messages"]["system_instruction"] == {"parts": {"text": "Be brief."}}


def test_chat_json_and_queue(
    segmind_emulator: SegmindEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SEGMIND_API_KEY", segmind_emulator.api_key)
    segmind_emulator.queue_text("queued CLI answer")
    code = main(["chat", "hi", "--queue", "--json", "--base-url", segmind_emulator.base_url])
    out, _ = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert data["text"] == "queued CLI answer"
    assert data["finish_reason"] == "STOP"
    assert data["segmind"]["cost"] is not None
    assert segmind_emulator.requests[0].path.startswith("/v2/")


def test_expected_failures_are_one_line_and_non_zero(
    segmind_emulator: SegmindEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SEGMIND_API_KEY", "wrong-key")
    assert main(["chat", "hi", "--base-url", segmind_emulator.base_url]) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "AuthenticationError" in err
    assert "wrong-key" not in err
    monkeypatch.delenv("SEGMIND_API_KEY")
    assert main(["chat", "hi"]) == 1
    _, err = capsys.readouterr()
    assert "SEGMIND_API_KEY" in err and "Traceback" not in err
    assert "HTTP 401" not in err and "nothing was sent" in err  # no request was made
    monkeypatch.setenv("SEGMIND_API_KEY", segmind_emulator.api_key)
    assert (
        main(["chat", "hi", "--image", "/no/such.png", "--base-url", segmind_emulator.base_url])
        == 1
    )
    _, err = capsys.readouterr()
    assert "/no/such.png" in err


def test_demo_runs_offline_and_says_answers_are_emulated() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SEGMIND_API_KEY", "SEGMIND_BASE_URL")}
    proc = subprocess.run(
        [sys.executable, "-m", "segmind_gemini.cli", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "No SEGMIND_API_KEY is set" in proc.stdout
    assert "EMULATED" in proc.stdout
    assert "1 image/png part" in proc.stdout  # the emulator described the image it received
    # The burst past the emulator's rate limit: every call answered after waiting its turn.
    assert "12/12 answered" in proc.stdout and "none lost" in proc.stdout

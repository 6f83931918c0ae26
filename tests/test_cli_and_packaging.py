"""The console script and the package's promises: no framework in the core, typed, documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from segmind_gemini.cli import main
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing.samples import tiny_png

ROOT = Path(__file__).resolve().parents[1]


def test_core_imports_no_framework() -> None:
    code = (
        "import sys, segmind_gemini, segmind_gemini.client.gemini_client, segmind_gemini.media.loader;"
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
    # Where the answer came from, as demo says it: a loopback address is an emulator.
    assert segmind_emulator.base_url in err and "EMULATOR, not Segmind" in err
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


# ------------------------------------------------------------------ one default model


def test_one_default_model_everywhere(segmind_emulator: SegmindEmulator) -> None:
    from langchain_segmind_gemini import ChatSegmindGemini
    from llama_index_segmind_gemini import SegmindGemini
    from segmind_gemini import SegmindGeminiClient, check, registry, settings
    from segmind_gemini.cli import _parser

    default = registry.DEFAULT_MODEL
    assert default in registry.CURRENT_MODELS and not registry.get_model_info(default).legacy
    assert settings.DEFAULT_MODEL == check.DEFAULT_MODEL == default
    with SegmindGeminiClient(segmind_emulator.api_key, base_url=segmind_emulator.base_url) as c:
        assert c.model == default
    kwargs = {"api_key": segmind_emulator.api_key, "base_url": segmind_emulator.base_url}
    assert ChatSegmindGemini(**kwargs).model == default
    llm = SegmindGemini(**kwargs)
    assert llm.model == default
    llm.close()
    for command in (["chat", "hi"], ["demo"]):
        assert _parser().parse_args(command).model == default
    import inspect

    assert inspect.signature(check.run_checks).parameters["models"].default == (default,)


def test_a_retired_slug_warns_and_names_the_current_ones(
    segmind_emulator: SegmindEmulator,
) -> None:
    import warnings

    from segmind_gemini import SegmindGeminiClient
    from segmind_gemini.registry import CURRENT_MODELS, RetiredModelWarning

    kwargs = {"api_key": segmind_emulator.api_key, "base_url": segmind_emulator.base_url}
    with pytest.warns(RetiredModelWarning, match="'gemini-1.5-pro' is retired") as seen:
        SegmindGeminiClient(model="gemini-1.5-pro", **kwargs).close()
    assert all(slug in str(seen[0].message) for slug in CURRENT_MODELS)
    assert seen[0].filename == __file__  # points at the caller's line
    from langchain_segmind_gemini import ChatSegmindGemini

    with pytest.warns(RetiredModelWarning, match="gemini-2.5-flash"):
        ChatSegmindGemini(model="gemini-1.5-pro", **kwargs)  # at construction, before any call
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SegmindGeminiClient(model="gemini-2.5-pro", **kwargs).close()
        SegmindGeminiClient(model="gemini-9-not-yet-listed", **kwargs).close()


# -------------------------------------------------------------------- release


def _pyproject() -> dict[str, Any]:
    import tomllib

    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def test_one_version_for_the_wheel_the_module_and_the_cli(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import re

    from segmind_gemini import __version__

    project = _pyproject()
    # The wheel's version is read from _version.py (hatch), never written a second time.
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    source = project["tool"]["hatch"]["version"]["path"]
    text = (ROOT / source).read_text()
    assert re.findall(r'^__version__ = "([^"]+)"$', text, re.M) == [__version__]
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"segmind-gemini {__version__}"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{__version__}]" in changelog or "## [Unreleased]" in changelog


def test_all_names_every_other_runtime_extra() -> None:
    import re

    extras = _pyproject()["project"]["optional-dependencies"]
    (spec,) = extras["all"]
    named = set(re.fullmatch(r"segmind-gemini\[([^\]]+)\]", spec).group(1).split(","))  # type: ignore[union-attr]
    # Not runtime features: the test, docs and notebook toolchains (notebooks includes all).
    runtime = set(extras) - {"all", "test", "docs", "notebooks"}
    assert named == runtime
    assert {"record", "batch"} <= named
    assert any(req.startswith(("jupyterlab", "notebook")) for req in extras["notebooks"])
    assert {"build", "twine"} <= {re.split(r"[<>=\[ ]", req)[0] for req in extras["test"]}


def test_the_publish_workflow_uses_trusted_publishing_on_a_tag() -> None:
    workflow = (ROOT / ".github" / "workflows" / "publish.yml").read_text()
    assert 'tags: ["v*"]' in workflow and "id-token: write" in workflow
    assert "pypa/gh-action-pypi-publish" in workflow and "password" not in workflow
    assert "twine check --strict" in workflow and ".ci/run" in workflow
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m build" in ci and "twine check --strict" in ci
    assert "segmind-gemini demo" in ci and "unset PYTHONPATH" in ci


# --------------------------------------------------------------------- CLI honesty


def _chat_sent_part(
    emu: SegmindEmulator, monkeypatch: pytest.MonkeyPatch, path: Path, *extra: str
) -> dict[str, Any]:
    monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
    emu.queue_text("read it")
    assert main(["chat", "Summarise", "--file", str(path), *extra, "--base-url", emu.base_url]) == 0
    return dict(emu.requests[-1].json["messages"]["contents"][0]["parts"][1]["inlineData"])


def test_chat_file_trusts_a_text_extension(
    segmind_emulator: SegmindEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import base64

    notes = tmp_path / "notes.txt"
    notes.write_text("Buy milk.\nCall Ana — tomorrow.\n", encoding="utf-8")
    part = _chat_sent_part(segmind_emulator, monkeypatch, notes)
    assert part["mimeType"] == "text/plain"
    assert base64.b64decode(part["data"]) == notes.read_bytes()
    # The bytes still decide for a binary file, whatever its name says.
    fake = tmp_path / "photo.txt"
    fake.write_bytes(tiny_png())
    assert _chat_sent_part(segmind_emulator, monkeypatch, fake)["mimeType"] == "image/png"


def test_chat_mime_type_overrides_recognition(
    segmind_emulator: SegmindEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "export.dat"
    data.write_bytes(b"id,total\n1,42\n")
    part = _chat_sent_part(segmind_emulator, monkeypatch, data, "--mime-type", "text/plain")
    assert part["mimeType"] == "text/plain"
    capsys.readouterr()
    sent = len(segmind_emulator.requests)
    assert main(["chat", "x", "--file", str(data), "--base-url", segmind_emulator.base_url]) == 1
    err = capsys.readouterr().err
    assert str(data) in err and "could not recognise the format" in err
    assert "pass --mime-type TYPE" in err and err.count("\n") == 1
    assert len(segmind_emulator.requests) == sent  # refused before sending


def test_chat_refuses_a_mime_type_the_bytes_contradict(
    segmind_emulator: SegmindEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SEGMIND_API_KEY", segmind_emulator.api_key)
    image = tmp_path / "scan.pdf"
    image.write_bytes(tiny_png())
    args = ["chat", "x", "--file", str(image), "--mime-type", "application/pdf"]
    assert main([*args, "--base-url", segmind_emulator.base_url]) == 1
    err = capsys.readouterr().err
    assert "--mime-type application/pdf was given, but the file is image/png" in err
    assert str(image) in err and err.count("\n") == 1
    assert segmind_emulator.requests == []  # refused before sending
    # The same type the bytes say, or a generic one, is no contradiction.
    assert _chat_sent_part(segmind_emulator, monkeypatch, image, "--mime-type", "image/png")
    generic = ("--mime-type", "application/octet-stream")
    assert (
        _chat_sent_part(segmind_emulator, monkeypatch, image, *generic)["mimeType"] == "image/png"
    )


@pytest.mark.parametrize("command", ["chat", "demo"])
def test_help_documents_every_option_with_its_default(command: str) -> None:
    from segmind_gemini.cli import _parser

    sub = _parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    text = " ".join(sub.format_help().split())
    for action in sub._actions:
        if not action.option_strings or "-h" in action.option_strings:
            continue
        assert action.help, action.option_strings
        helped = " ".join(sub._get_formatter()._expand_help(action).split())
        assert helped in text and "default" in helped, action.option_strings
    assert "(default: gemini-2.5-flash)" in text


def test_demo_with_a_key_names_the_base_url_and_says_emulator(
    segmind_emulator: SegmindEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SEGMIND_API_KEY", segmind_emulator.api_key)
    monkeypatch.setenv("SEGMIND_BASE_URL", segmind_emulator.base_url)
    assert main(["demo"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert segmind_emulator.base_url in first and "EMULATOR" in first
    assert "Live: calling Segmind" not in first


def test_demo_line_for_segmind_and_for_another_host() -> None:
    from segmind_gemini.cli import _where

    live = _where("https://api.segmind.com/v1", "gemini-2.5-flash")
    assert live.startswith("Live: calling Segmind at https://api.segmind.com/v1")
    proxy = _where("https://llm-proxy.example.com/v1", "gemini-2.5-flash")
    assert "llm-proxy.example.com" in proxy and "not Segmind's own host" in proxy

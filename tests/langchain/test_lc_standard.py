"""langchain-tests standard suites for ChatSegmindGemini.

* ``ChatModelUnitTests`` run offline, in full.
* ``ChatModelIntegrationTests`` run twice:

  - ``TestPlumbingAgainstEmulator``: in every run, against the local emulator. What these
    check is the adapter's plumbing (tool-call round trips, structured output, usage
    metadata, images, PDFs, audio, histories, async, batch), not a model's judgement: the
    answers a test needs are scripted from the request it sends (:func:`_plumbing_answer`;
    a forced tool gets a call built from the prompt and valid for its schema), and the
    sample media that langchain-tests downloads are made locally (its image URL is
    fetched by the package from a loopback server). Once answers are scripted, no test
    needs a model's judgement; ``test_stream_time`` (a VCR timing test) is skipped,
    saying why.
  - ``TestChatSegmindGeminiIntegration``: the same suite, unchanged, live against Segmind
    through VCR (pytest-recording): with ``SEGMIND_API_KEY`` set it runs live (recording
    new cassettes into ``tests/cassettes/``); without a key it replays a test's cassette
    when one exists and otherwise skips. Record with::

      SEGMIND_API_KEY=... pytest tests/langchain/test_lc_standard.py --record-mode=once -m vcr

  Cassettes keep no key: ``x-api-key`` and ``authorization`` are filtered before
  anything is written, and requests match on method, path and body (not host).

Capability flags are exactly what the package claims, the same for both runs.
"""

from __future__ import annotations

import contextlib
import http.server
import importlib
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.integration_tests import chat_models as standard_chat_models
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_segmind_gemini import ChatSegmindGemini
from langchain_segmind_gemini import chat_models as lc_chat_models
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing._replies import example_value
from segmind_gemini.testing.samples import tiny_pdf, tiny_png, tiny_wav

# The module, not the function of the same name that `langchain_core.load` exports.
load_module = importlib.import_module("langchain_core.load.load")

# Model used by the standard suites: current, cheap, and a thinking model.
MODEL = "gemini-2.5-flash"


class TestChatSegmindGeminiUnit(ChatModelUnitTests):
    @pytest.fixture(autouse=True)
    def _trusted_like_a_partner_package(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Let ``load(..., allowed_objects="all")`` admit this class during a test.

        ``test_serdes`` round-trips the model with ``allowed_objects="all"``, which
        langchain-core 1.x resolves to its own list of LangChain-maintained
        integrations; a third-party class can never be on it. Adding this class to
        that list for the test lets the standard check run unchanged.
        """
        allowed = load_module._get_default_allowed_class_paths("all")
        monkeypatch.setitem(
            load_module._default_class_paths_cache,
            "all",
            {*allowed, tuple(ChatSegmindGemini.lc_id())},
        )

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatSegmindGemini

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": MODEL}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"SEGMIND_API_KEY": "key-from-env"},
            {"model": MODEL},
            {"api_key": "key-from-env", "model": MODEL},
        )

    @property
    def model_override_value(self) -> str:
        return "gemini-2.5-pro"

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_video_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True


def _cassette_or_skip(cassette_dir: str, name: str) -> None:
    if os.environ.get("SEGMIND_API_KEY"):
        return
    if not (Path(cassette_dir) / f"{name}.yaml").exists():
        # One wording for every test, so the grouped skip summary shows one line.
        pytest.skip(
            "live Segmind test: SEGMIND_API_KEY is not set and no cassette is recorded for "
            "it in tests/cassettes/ (the same suite ran as plumbing against the emulator)"
        )


class _Claims:
    """What ChatSegmindGemini claims, for both runs of the integration suite."""

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatSegmindGemini

    @property
    def model_override_value(self) -> str:
        return "gemini-2.5-flash-lite"

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True


@pytest.mark.vcr
class TestChatSegmindGeminiIntegration(_Claims, ChatModelIntegrationTests):
    @pytest.fixture(autouse=True)
    def _live_or_recorded(self, vcr_cassette_dir: str, default_cassette_name: str) -> None:
        _cassette_or_skip(vcr_cassette_dir, default_cassette_name)

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Replays match on method, path and body, so the key is never needed then.
        return {"model": MODEL, "api_key": os.environ.get("SEGMIND_API_KEY") or "replay-only"}

    @property
    def enable_vcr_tests(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        # This library fetches the image itself; a replay without network cannot.
        return bool(os.environ.get("SEGMIND_API_KEY"))


# -- the same suite as plumbing against the emulator ---------------------------------

_EMULATOR = SegmindEmulator()
_QUOTED = re.compile(r"'([^']+)'")
_INTEGER = re.compile(r"-?\d+")
_PROMPTED_TOOL = re.compile(r"^## (?P<name>\S+)$", re.M)
_ARGS = "Arguments schema: "
_JSON_ONLY = "Answer with ONLY a valid JSON value"
_TOOL_RESULTS = "[Tool results]"


def _texts(content: Mapping[str, Any]) -> str:
    return "\n".join(p["text"] for p in content.get("parts", []) if "text" in p)


def _declared_tools(messages: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The request's tools (name -> argument schema) and whether they were declared natively."""
    native: dict[str, Any] = {}
    for tool in messages.get("tools") or []:
        for decl in tool.get("functionDeclarations") or tool.get("function_declarations") or []:
            native[decl["name"]] = decl.get("parameters") or {"type": "object"}
    if native:
        return native, True
    system = messages.get("system_instruction") or messages.get("systemInstruction") or {}
    parts = system.get("parts") or []
    text = _texts({"parts": parts if isinstance(parts, list) else [parts]})
    if "# How to call tools" not in text or "Tool calling is now switched off" in text:
        return {}, False
    found: dict[str, Any] = {}
    for head in _PROMPTED_TOOL.finditer(text):
        section = text[head.end() :].split("\n## ", 1)[0].split("\n# ", 1)[0]
        schema: Any = {"type": "object"}  # "Arguments schema: (no arguments)"
        with contextlib.suppress(ValueError):
            schema = json.JSONDecoder().raw_decode(section, section.find(_ARGS) + len(_ARGS))[0]
        found[head["name"]] = schema
    return found, False


def _arguments(schema: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    """Arguments valid for ``schema``, taking integers and quoted names from the prompt."""
    args = example_value(schema)
    integers = iter(int(n) for n in _INTEGER.findall(prompt))
    quoted = iter(_QUOTED.findall(prompt))
    for name, sub in (schema.get("properties") or {}).items():
        kind = str(sub.get("type", "")).lower()
        if kind == "integer":
            args[name] = next(integers, args[name])
        elif kind == "string" and "enum" not in sub:
            args[name] = next(quoted, args[name])
    return args


def _plumbing_answer(messages: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """Script the answer a standard test needs from the request it sent.

    With tools declared and a user prompt last, a call to the tool the prompt names (else
    the first), with integers and quoted names taken from the prompt, in the protocol the
    tools were declared in; after tool results, text quoting them; for the JSON-mode
    instruction, an object with the keys the prompt quotes. Anything else: the emulator's
    default answer.
    """
    last = messages["contents"][-1]
    prompt = _texts(last)
    tools, native = _declared_tools(messages)
    answered = any("functionResponse" in p for p in last.get("parts", []))
    if tools and not answered and _TOOL_RESULTS not in prompt:
        name = next((n for n in tools if n in prompt), next(iter(tools)))
        args = _arguments(tools[name], prompt)
        if native:
            return [{"functionCall": {"name": name, "args": args}}]
        return [{"text": json.dumps({"tool_calls": [{"name": name, "arguments": args}]})}]
    if answered or _TOOL_RESULTS in prompt:
        return [{"text": f"scripted: the tool results were received ({len(prompt)} chars)"}]
    system = json.dumps(messages.get("system_instruction") or messages.get("systemInstruction"))
    if _JSON_ONLY in system and _QUOTED.search(prompt):
        return [{"text": json.dumps({k: f"scripted {k}" for k in _QUOTED.findall(prompt)})}]
    return None


class _LocalSamples:
    """Stands in for the ``httpx`` module langchain-tests fetches its samples with."""

    def __init__(self) -> None:
        self._by_suffix = {".png": tiny_png(), ".pdf": tiny_pdf(), ".wav": tiny_wav()}

    def get(self, url: str, **_: Any) -> SimpleNamespace:
        suffix = Path(url.split("?")[0]).suffix.lower()
        if suffix not in self._by_suffix:
            raise AssertionError(f"no local sample for {url}; the suite must not go online")
        return SimpleNamespace(content=self._by_suffix[suffix])


class _PngHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = tiny_png()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def _image_host() -> Iterator[str]:
    """A loopback server for the image URL the suite names (any path: a PNG)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PngHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def _plumbing_emulator() -> Iterator[SegmindEmulator]:
    _EMULATOR.responder = _plumbing_answer
    with _EMULATOR as emulator:
        yield emulator


# Tests of something other than the adapter's plumbing (none of the rest needs a
# model's judgement once its answers are scripted).
_NOT_PLUMBING = {
    "test_stream_time": "times a live stream against a recorded cassette (VCR), not plumbing",
}


class TestPlumbingAgainstEmulator(_Claims, ChatModelIntegrationTests):
    """The standard integration suite as plumbing against the emulator (answers scripted)."""

    @pytest.fixture(autouse=True)
    def _scripted(
        self,
        _plumbing_emulator: SegmindEmulator,
        _image_host: str,
        request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        reason = _NOT_PLUMBING.get(request.node.originalname)
        if reason is not None:
            pytest.skip(f"plumbing against the emulator: {reason}")
        _plumbing_emulator.reset()
        monkeypatch.setattr(standard_chat_models, "httpx", _LocalSamples())
        fetch = lc_chat_models.part_from_url

        def fetch_locally(url: str, mime_type: str | None = None, **options: Any) -> Any:
            # The package's own fetch, pointed at loopback instead of the internet.
            local = _image_host + urlsplit(url).path
            return fetch(local, mime_type, **{**options, "allow_private": True})

        monkeypatch.setattr(lc_chat_models, "part_from_url", fetch_locally)
        # Its samples are local here, so there is no download to identify.
        monkeypatch.setenv("LANGCHAIN_TESTS_USER_AGENT", "segmind-gemini-tests (local samples)")

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": MODEL, "api_key": _EMULATOR.api_key, "base_url": _EMULATOR.base_url}

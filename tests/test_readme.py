"""Every Python block in README.md runs, as written, against an in-process emulator.

The harness is small and our own (see the README's "Examples in this README are tested"):
it finds every fenced ``python`` block, and runs the blocks of one ``##`` section in order
in one namespace, as a notebook would (a fresh namespace per section). A block whose
fence is preceded by the line ``<!-- live-only -->`` is reported as skipped with that
reason. Blocks with a top-level ``await`` are run the way the README says to run them
outside Jupyter: compiled with top-level await allowed and driven by ``asyncio.run``.

The environment is the one a reader sets up: ``SEGMIND_BASE_URL`` and ``SEGMIND_API_KEY``
point at the emulator (started once for the module), and the working directory holds the
sample files the README names (``photo.png``, ``chart.png``, ``report.pdf``, ``invoice.pdf``,
``docs/``). Blocks added later are picked up automatically; most need nothing more, because
the emulator's unscripted answers are type-correct (JSON for a schema, a call for a forced
tool, a thought part when thoughts are asked). A few blocks get answers scripted below
(:data:`SCRIPTS`) so they show what they claim, and some results are checked
(:data:`CHECKS`); every scripted answer must be used by its block.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing.samples import tiny_pdf, tiny_png

README = Path(__file__).resolve().parents[1] / "README.md"
LIVE_ONLY = "<!-- live-only -->"
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
_PYTHON = {"python", "py", "python3"}


@dataclass
class Block:
    line: int  # 1-based line of the first line of code (after the fence)
    section: str
    code: str
    live_only: bool

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.section.lower()).strip("-")
        return f"L{self.line}-{slug}"


def parse_blocks(text: str) -> list[Block]:
    """The fenced Python blocks of a Markdown text, with their ``##`` section."""
    blocks: list[Block] = []
    section = "(top)"
    lines = text.splitlines()
    index = 0
    previous = ""
    while index < len(lines):
        line = lines[index]
        match = _FENCE.match(line)
        if match is None:
            if line.startswith("## "):
                section = line[3:].strip()
            if line.strip():
                previous = line.strip()
            index += 1
            continue
        fence, lang = match["fence"], match["lang"].lower()
        end = index + 1
        while end < len(lines) and not lines[end].startswith(fence[0] * len(fence)):
            end += 1
        if lang in _PYTHON:
            code = "\n".join(lines[index + 1 : end]) + "\n"
            blocks.append(Block(index + 2, section, code, previous == LIVE_ONLY))
        previous = ""
        index = end + 1
    return blocks


BLOCKS = parse_blocks(README.read_text(encoding="utf-8"))


def run_block(block: Block, namespace: dict[str, Any]) -> None:
    """Run one block in ``namespace``; top-level ``await`` goes through ``asyncio.run``."""
    # Leading newlines make tracebacks name the README's own line numbers.
    source = "\n" * (block.line - 1) + block.code
    code = compile(
        source, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


# --- what some blocks need from the emulator, and what is checked afterwards ----------

Script = Callable[[SegmindEmulator], None]
Check = Callable[[dict[str, Any], SegmindEmulator, str], None]


def _weather_call(emu: SegmindEmulator) -> None:
    emu.queue_prompted_tool_call("get_weather", {"city": "Oslo"})


def _agent_round_trip(emu: SegmindEmulator) -> None:
    emu.queue_prompted_tool_call("get_weather", {"city": "Oslo"})
    emu.queue_text("scripted answer: it is raining in Oslo, so yes.")


def _thread_round_trips(emu: SegmindEmulator) -> None:
    _agent_round_trip(emu)
    emu.queue_text("scripted answer: yes, take one.")


def _multiply_round_trips(emu: SegmindEmulator) -> None:
    # FunctionAgent: a call, then the answer; ReActAgent: a thought/action, then the answer.
    emu.queue_prompted_tool_call("multiply", {"a": 1234, "b": 5678})
    emu.queue_text("scripted answer: 7006652")
    emu.queue_text(
        'Thought: I need to multiply.\nAction: multiply\nAction Input: {"a": 12, "b": 34}'
    )
    emu.queue_text("Thought: I can answer now.\nAnswer: scripted answer: 408")


#: Keyed by a line that only one block holds: answers to queue before that block runs.
SCRIPTS: dict[str, Script] = {
    'msg = model_with_tools.invoke("Weather in Oslo?")': _weather_call,
    "agent = create_agent(model, tools=[get_weather], system_prompt": _agent_round_trip,
    "agent = FunctionAgent(tools=[multiply]": _multiply_round_trips,
    "checkpointer=InMemorySaver()": _thread_round_trips,
}


def _check_weather(ns: dict[str, Any], emu: SegmindEmulator, out: str) -> None:
    assert [(c["name"], c["args"]) for c in ns["msg"].tool_calls] == [
        ("get_weather", {"city": "Oslo"})
    ]


def _check_agent(ns: dict[str, Any], emu: SegmindEmulator, out: str) -> None:
    assert "raining in Oslo" in out
    # The tool's result went back to the model in the second request.
    assert "12C, light rain" in str(emu.requests[-1].json)


def _check_thread(ns: dict[str, Any], emu: SegmindEmulator, out: str) -> None:
    assert out.strip() == "6"  # human, call, tool result, answer, human, answer
    assert "raining in Oslo" in str(emu.requests[-1].json)  # the second turn saw the first


def _check_multiply(ns: dict[str, Any], emu: SegmindEmulator, out: str) -> None:
    assert "7006652" in out and "408" in out
    assert "7006652" in str(emu.requests[1].json)  # multiply really ran


def _check_city(ns: dict[str, Any], emu: SegmindEmulator, out: str) -> None:
    city = ns["city"]
    assert type(city).__name__ == "City" and isinstance(city.population_millions, float)
    assert type(ns["response"].raw).__name__ == "City"


def _check_reasoning(ns: dict[str, Any], emu: SegmindEmulator, out: str) -> None:
    assert [b["type"] for b in ns["msg"].content_blocks] == ["reasoning", "text"]
    assert ns["msg"].additional_kwargs["reasoning_content"]


def _check_counter(ns: dict[str, Any], emu: SegmindEmulator, out: str) -> None:
    counter = ns["counter"]
    assert counter.prompt_llm_token_count > 0 and counter.completion_llm_token_count > 0


#: Keyed like :data:`SCRIPTS`: what must hold after the block ran.
CHECKS: dict[str, Check] = {
    'msg = model_with_tools.invoke("Weather in Oslo?")': _check_weather,
    "agent = create_agent(model, tools=[get_weather], system_prompt": _check_agent,
    "agent = FunctionAgent(tools=[multiply]": _check_multiply,
    "city = llm.structured_predict(": _check_city,
    "checkpointer=InMemorySaver()": _check_thread,
    "msg = model.invoke(\"How many r's are in 'strawberry'?\")": _check_reasoning,
    "counter = TokenCountingHandler()": _check_counter,
}


# --- the reader's environment ---------------------------------------------------------


def _write_samples(folder: Path) -> None:
    (folder / "photo.png").write_bytes(tiny_png(32, 32, (40, 120, 220)))
    (folder / "chart.png").write_bytes(tiny_png(48, 32, (40, 160, 60)))
    (folder / "report.pdf").write_bytes(tiny_pdf("Report: sales rose 12 percent."))
    (folder / "invoice.pdf").write_bytes(tiny_pdf("Invoice 7: the total is 42 euros."))
    docs = folder / "docs"
    docs.mkdir()
    (docs / "warranty.md").write_text(
        "# Warranty\n\nThe warranty covers manufacturing defects for two years.\n"
    )
    (docs / "returns.md").write_text(
        "# Returns\n\nNew items can be returned within 30 days; refurbished items within 14.\n"
    )


@dataclass
class Section:
    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__readme__"})
    done: int = 0  # blocks of the section already run
    failed: Block | None = None


@pytest.fixture(scope="module")
def reader_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SegmindEmulator]:
    folder = tmp_path_factory.mktemp("reader")
    _write_samples(folder)
    settings = _llama_settings()
    package_logger = logging.getLogger("segmind_gemini")
    level = package_logger.level  # the Logging section changes it
    with SegmindEmulator() as emu, pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGMIND_BASE_URL", emu.base_url)
        mp.setenv("SEGMIND_API_KEY", emu.api_key)
        mp.delenv("SEGMIND_REQUESTS_PER_MINUTE", raising=False)
        mp.setenv("SEGMIND_GEMINI_CACHE_DIR", str(folder / ".cache"))
        mp.chdir(folder)
        try:
            yield emu
        finally:
            _restore_llama_settings(settings)
            package_logger.setLevel(level)


def _llama_settings() -> dict[str, Any]:
    from llama_index.core import Settings

    return dict(vars(Settings))


def _restore_llama_settings(saved: dict[str, Any]) -> None:
    from llama_index.core import Settings

    vars(Settings).clear()
    vars(Settings).update(saved)


_SECTIONS: dict[str, Section] = {}


def _run_one(block: Block, emu: SegmindEmulator, state: Section) -> str:
    emu.reset()
    keys = [key for key in SCRIPTS if key in block.code]
    for key in keys:
        SCRIPTS[key](emu)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_block(block, state.namespace)
    assert emu.pending == 0, f"README.md:{block.line}: {emu.pending} scripted answers unused"
    for key, check in CHECKS.items():
        if key in block.code:
            check(state.namespace, emu, out.getvalue())
    return out.getvalue()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block_runs(block: Block, reader_env: SegmindEmulator) -> None:
    if block.live_only:
        pytest.skip(f"README.md:{block.line} is marked live-only (it needs a real key)")
    runnable = [b for b in BLOCKS if b.section == block.section and not b.live_only]
    state = _SECTIONS.setdefault(block.section, Section())
    position = runnable.index(block)
    # Blocks of one section build on each other: run the earlier ones first if needed.
    while state.done <= position:
        current = runnable[state.done]
        if state.failed is not None:
            pytest.fail(
                f"an earlier block of section {block.section!r} "
                f"(README.md:{state.failed.line}) failed"
            )
        try:
            _run_one(current, reader_env, state)
        except BaseException:
            state.failed = current
            raise
        finally:
            state.done += 1


def test_harness_sees_every_python_block() -> None:
    text = README.read_text(encoding="utf-8")
    fences = [line for line in text.splitlines() if line.lstrip().startswith("```py")]
    # Indented fences (inside lists) would be missed by the parser: there must be none.
    assert all(line.startswith("```") for line in fences), "indented python fence in README"
    assert len(BLOCKS) == len(fences)
    live = [b.line for b in BLOCKS if b.live_only]
    assert len(live) <= 5, f"keep live-only blocks to a handful: {live}"


def test_parser_reads_sections_markers_and_fences() -> None:
    text = (
        "## One\n\n```python\na = 1\n```\n\n<!-- live-only -->\n```python\nb = 2\n```\n"
        "## Two\n```bash\n## not a heading\n```\n~~~py\nawait x\n~~~\n"
    )
    blocks = parse_blocks(text)
    assert [(b.section, b.live_only, b.code, b.line) for b in blocks] == [
        ("One", False, "a = 1\n", 4),
        ("One", True, "b = 2\n", 9),
        ("Two", False, "await x\n", 16),
    ]


def test_top_level_await_runs_under_asyncio_run() -> None:
    namespace: dict[str, Any] = {"asyncio": asyncio}
    block = Block(1, "s", "await asyncio.sleep(0)\nx = 3\n", False)
    run_block(block, namespace)
    assert namespace["x"] == 3


def _github_anchor(heading: str) -> str:
    # GitHub's rule: lower case, drop punctuation but hyphens, spaces become hyphens.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_toc_links_land_on_the_heading_they_name() -> None:
    text = README.read_text(encoding="utf-8")
    anchors: dict[str, str] = {}
    seen: dict[str, int] = {}
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = re.match(r"^#{1,6} (.+)$", line)
        if heading and not in_fence:
            slug = _github_anchor(heading[1])
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors[slug if count == 0 else f"{slug}-{count}"] = heading[1].strip()
    toc = text.split("<!-- TOC -->", 1)[1].split("\n\n", 1)[0]
    links = re.findall(r"\[([^\]]+)\]\(#([^)]+)\)", toc)
    assert len(links) >= 10
    for label, anchor in links:
        assert anchors.get(anchor) == label, (
            f"TOC [{label}](#{anchor}) lands on {anchors.get(anchor)!r}"
        )
    for label, anchor in re.findall(r"\[([^\]]+)\]\(#([^)]+)\)", text):
        assert anchor in anchors, f"link [{label}](#{anchor}) has no heading"


def test_env_is_the_readers(reader_env: SegmindEmulator) -> None:
    assert os.environ["SEGMIND_BASE_URL"] == reader_env.base_url
    assert Path("photo.png").exists() and Path("docs").is_dir()


def test_first_block_runs_before_a_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # The README's first block builds both models; a new reader has no key yet.
    monkeypatch.delenv("SEGMIND_API_KEY", raising=False)
    first = BLOCKS[0]
    assert first.section == "(top)" and "SegmindGemini(" in first.code
    namespace: dict[str, Any] = {}
    run_block(first, namespace)
    assert {"chat_model", "llm"} <= set(namespace)

"""Every Python block in README.md and docs/*.md runs, as written, against an in-process emulator.

The harness is small and our own (see docs/emulator.md, "Examples in these docs are tested"):
it finds every fenced ``python`` block of each page, and runs the blocks of one ``##``
section of one page in order in one namespace, as a notebook would (a fresh namespace per
section). Links between the pages are checked too: each lands on a file, and on a heading
that exists there (under GitHub's anchor rule and MkDocs' alike); ``mkdocs build --strict``
is run offline. A block whose
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
import html
import inspect
import io
import logging
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing.samples import tiny_pdf, tiny_png

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: The README first (its first block is the one a new reader runs), then the docs pages.
PAGES = [README, *sorted(DOCS.glob("*.md"))]
LIVE_ONLY = "<!-- live-only -->"
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
_PYTHON = {"python", "py", "python3"}


@dataclass
class Block:
    line: int  # 1-based line of the first line of code (after the fence)
    section: str
    code: str
    live_only: bool
    path: Path = README

    @property
    def page(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.section.lower()).strip("-")
        return f"{self.page}:L{self.line}-{slug}"


def parse_blocks(text: str, path: Path = README) -> list[Block]:
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
            blocks.append(Block(index + 2, section, code, previous == LIVE_ONLY, path))
        previous = ""
        index = end + 1
    return blocks


BLOCKS = [block for page in PAGES for block in parse_blocks(page.read_text("utf-8"), page)]


def run_block(block: Block, namespace: dict[str, Any]) -> None:
    """Run one block in ``namespace``; top-level ``await`` goes through ``asyncio.run``."""
    # Leading newlines make tracebacks name the page's own line numbers.
    source = "\n" * (block.line - 1) + block.code
    code = compile(
        source, str(block.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
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


_SECTIONS: dict[tuple[Path, str], Section] = {}


def _run_one(block: Block, emu: SegmindEmulator, state: Section) -> str:
    emu.reset()
    keys = [key for key in SCRIPTS if key in block.code]
    for key in keys:
        SCRIPTS[key](emu)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_block(block, state.namespace)
    assert emu.pending == 0, f"{block.page}:{block.line}: {emu.pending} scripted answers unused"
    for key, check in CHECKS.items():
        if key in block.code:
            check(state.namespace, emu, out.getvalue())
    return out.getvalue()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block_runs(block: Block, reader_env: SegmindEmulator) -> None:
    if block.live_only:
        pytest.skip(f"{block.page}:{block.line} is marked live-only (it needs a real key)")
    runnable = [
        b for b in BLOCKS if b.path == block.path and b.section == block.section and not b.live_only
    ]
    state = _SECTIONS.setdefault((block.path, block.section), Section())
    position = runnable.index(block)
    # Blocks of one section build on each other: run the earlier ones first if needed.
    while state.done <= position:
        current = runnable[state.done]
        if state.failed is not None:
            pytest.fail(
                f"an earlier block of section {block.section!r} "
                f"({block.page}:{state.failed.line}) failed"
            )
        try:
            _run_one(current, reader_env, state)
        except BaseException:
            state.failed = current
            raise
        finally:
            state.done += 1


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_harness_sees_every_python_block(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    fences = [line for line in text.splitlines() if line.lstrip().startswith("```py")]
    # Indented fences (inside lists) would be missed by the parser: there must be none.
    assert all(line.startswith("```") for line in fences), f"indented python fence in {page}"
    assert len([b for b in BLOCKS if b.path == page]) == len(fences)


def test_live_only_blocks_are_a_handful() -> None:
    live = [f"{b.page}:{b.line}" for b in BLOCKS if b.live_only]
    assert len(live) <= 5, f"keep live-only blocks to a handful: {live}"
    assert len(BLOCKS) - len(live) >= 30  # the docs' examples did not vanish from the run


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


def _mkdocs_anchor(heading: str) -> str:
    # Python-Markdown's toc slugify (what MkDocs uses): ASCII only, runs of spaces and
    # hyphens become one hyphen. It differs from GitHub's for headings like "a -- b".
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _prose(text: str, *, spans: bool = True) -> str:
    """The text outside fenced code blocks (and, with ``spans``, outside inline code)."""
    kept: list[str] = []
    fence = ""
    for line in text.splitlines():
        match = _FENCE.match(line)
        if match and (not fence or match["fence"][0] * len(fence) == line.strip()[: len(fence)]):
            fence = "" if fence else match["fence"]
            continue
        if not fence:
            kept.append(re.sub(r"`[^`]*`", "", line) if spans else line)
    return "\n".join(kept)


def _headings(text: str) -> list[str]:
    return [
        m[1].strip() for m in re.finditer(r"^#{1,6} (.+)$", _prose(text, spans=False), re.MULTILINE)
    ]


def _anchors(text: str, slug: Callable[[str], str]) -> dict[str, str]:
    anchors: dict[str, str] = {}
    seen: dict[str, int] = {}
    for heading in _headings(text):
        key = slug(heading.replace("`", ""))
        count = seen.get(key, 0)
        seen[key] = count + 1
        anchors[key if count == 0 else f"{key}-{count}"] = heading
    return anchors


def _links(text: str) -> list[tuple[str, str]]:
    # A label may be all inline code (``[`docs/`](docs/index.md)``), blanked by _prose.
    return re.findall(r"\[([^\]]*)\]\(([^)\s]+)\)", _prose(text))


def test_toc_links_land_on_the_heading_they_name() -> None:
    text = README.read_text(encoding="utf-8")
    anchors = _anchors(text, _github_anchor)
    toc = text.split("<!-- TOC -->", 1)[1].split("\n\n", 1)[0]
    links = re.findall(r"\[([^\]]+)\]\(#([^)]+)\)", toc)
    assert len(links) >= 4
    for label, anchor in links:
        assert anchors.get(anchor) == label, (
            f"TOC [{label}](#{anchor}) lands on {anchors.get(anchor)!r}"
        )
    # Every ## section of the README is in its table of contents.
    sections = re.findall(r"^## (.+)$", _prose(text), re.MULTILINE)
    assert sections == [label for label, _ in links]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_links_land_on_a_page_and_heading_that_exist(page: Path) -> None:
    """Relative links name an existing file; an anchor names a heading of that page.

    Docs pages are read on GitHub and on the MkDocs site, so their anchors must hold
    under both slug rules; and they may link only inside ``docs/`` (the site has
    nothing else).
    """
    for label, target in _links(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        assert dest.exists(), f"{page.name}: [{label}]({target}) names no file"
        if page.parent == DOCS:
            assert dest.parent == DOCS, f"{page.name}: [{label}]({target}) leaves docs/"
        if not anchor:
            continue
        assert dest.suffix == ".md", f"{page.name}: [{label}]({target}): anchor into a non-page"
        text = dest.read_text(encoding="utf-8")
        assert anchor in _anchors(text, _github_anchor), (
            f"{page.name}: [{label}]({target}) has no heading there (GitHub's anchors)"
        )
        if dest.parent == DOCS:
            assert anchor in _anchors(text, _mkdocs_anchor), (
                f"{page.name}: [{label}]({target}) has no heading there (MkDocs' anchors)"
            )


def test_link_checker_reads_anchors_and_skips_code() -> None:
    text = "# A page\n\n## Gemini's `tools` -- here\n```md\n## not a heading [x](nowhere.md)\n```\n"
    assert _headings(text) == ["A page", "Gemini's `tools` -- here"]
    assert "geminis-tools----here" in _anchors(text, _github_anchor)
    assert "geminis-tools-here" in _anchors(text, _mkdocs_anchor)
    assert _links(text + "[y](b.md#c) `[z](d.md)`\n") == [("y", "b.md#c")]


def _nav_pages() -> list[str]:
    """The pages named in mkdocs.yml's ``nav:`` (its last top-level key)."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = config.split("\nnav:\n", 1)[1]
    return re.findall(r"^\s+-?[^#\n]*?(\S+\.md)\s*$", nav, re.MULTILINE)


@pytest.mark.parametrize("page", PAGES[1:], ids=[p.name for p in PAGES[1:]])
def test_docs_page_is_in_the_nav_and_says_what_it_replaces(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    # The note for other contributors: which README section this page took over.
    assert text.startswith("<!--"), f"{page.name}: start with an HTML comment note"
    assert re.search(r"^# \S", text, re.MULTILINE), f"{page.name}: no page title"
    assert page.name in _nav_pages(), f"{page.name} is not in mkdocs.yml's nav"


_NO_NETWORK = """
import socket

def _refuse(self, address, *args, **kwargs):
    if self.family != getattr(socket, "AF_UNIX", None):
        raise OSError(f"the docs build tried to reach the network: {address!r}")
    return _connect(self, address, *args, **kwargs)

_connect = socket.socket.connect
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
"""


@pytest.mark.timeout(120)
def test_docs_site_builds_strictly_offline(tmp_path: Path) -> None:
    """``mkdocs build --strict`` (what CI runs) passes with every socket connect refused."""
    (tmp_path / "guard").mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(_NO_NETWORK)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(tmp_path / "guard"), str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "network" not in done.stderr
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert "generate_content" in api  # the API reference was rendered from the docstrings
    built = "".join(p.read_text("utf-8") for p in site.rglob("*.html"))
    assert "fonts.googleapis.com" not in built  # no web fonts fetched by readers either
    # The notes for contributors at the top of each page stay HTML comments on the site.
    prose = re.sub(r"<!--.*?-->|<code>.*?</code>", "", built, flags=re.DOTALL)
    visible = html.unescape(re.sub(r"<[^>]+>", "", prose))
    assert "Replaces the README" not in visible and "-->" not in visible


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


def test_first_screen_has_the_two_commands_and_the_map() -> None:
    """A new reader sees the demo and test commands without scrolling, and links onward."""
    text = README.read_text(encoding="utf-8")
    first_screen = "\n".join(text.splitlines()[:25])
    assert ".venv/bin/segmind-gemini demo" in first_screen
    assert "SEGMIND_API_KEY is unset" in first_screen  # the demo's offline path is named
    assert ".venv/bin/python -m pytest" in first_screen
    # CI runs the same test command after the same install (.ci/run).
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pytest" in ci and "pip install -q -e '.[test]'" in ci
    assert "mkdocs build --strict" in ci
    # The README stays a map: the reference is in docs/, one link per page.
    assert len(text.splitlines()) < 250
    linked = {target for _, target in _links(text) if target.startswith("docs/")}
    for page in PAGES[1:]:
        assert any(t.split("#")[0] == f"docs/{page.name}" for t in linked), (
            f"README links nowhere to docs/{page.name}"
        )

"""Every notebook in ``notebooks/`` runs top to bottom, offline, against the emulator.

Each is executed with nbclient in a fresh ``python3`` kernel (this interpreter, via
ipykernel) with ``SEGMIND_API_KEY`` and ``SEGMIND_BASE_URL`` removed from its
environment, so it takes its offline path: the local emulator, whose answers the
notebook says are emulated. A cell that raises fails the test. The executed copy
is never written back: notebooks are committed without outputs.

``langchain_quickstart`` follows LangChain's chat-model integration page template and
``llama_index_llm`` LlamaIndex's LLM example notebook, so they can be proposed upstream
as they are; the template tests below hold them to those shapes. Their ``%pip install``
cells carry the ``skip-execution`` tag (nbclient skips them): the suite runs the package
it is testing, not one from the registry.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

pytestmark = pytest.mark.notebook


def _outputs_text(notebook: nbformat.NotebookNode) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join(texts)


def test_there_are_notebooks() -> None:
    assert {p.name for p in PATHS} >= {
        "agents.ipynb",
        "langchain_quickstart.ipynb",
        "llama_index_llm.ipynb",
        "llama_index_rag.ipynb",
    }


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs: clear them"
            assert cell.execution_count is None, f"{path.name} cell {index} was executed"
    first = next(c for c in notebook.cells if c.cell_type == "markdown")
    assert "emulated, not Gemini's" in first.source  # says so before anything runs
    first_code = next(
        c
        for c in notebook.cells
        if c.cell_type == "code" and "skip-execution" not in c.metadata.get("tags", [])
    )
    assert "SegmindEmulator" in first_code.source and "OFFLINE" in first_code.source
    for cell in notebook.cells:
        if "skip-execution" in cell.metadata.get("tags", []):
            # Only installs are skipped when the suite runs a notebook.
            lines = [line for line in cell.source.splitlines() if line.strip()]
            assert lines and all(line.startswith("%pip install") for line in lines)


def _headings(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return re.findall(r"^#{1,4} (.+)$", text, flags=re.MULTILINE)


def test_langchain_notebook_follows_the_chat_integration_template() -> None:
    # libs/cli/langchain_cli/integration_template/docs/chat.ipynb in langchain-ai/langchain.
    path = NOTEBOOKS / "langchain_quickstart.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert notebook.cells[0].cell_type == "raw" and "sidebar_label:" in notebook.cells[0].source
    headings = _headings(path)
    template = [
        "ChatSegmindGemini",
        "Overview",
        "Integration details",
        "Model features",
        "Setup",
        "Credentials",
        "Installation",
        "Instantiation",
        "Invocation",
        "Chaining",
    ]
    assert [h for h in headings if h in template] == template  # in the template's order
    assert headings[-1] == "API reference"
    assert {"Tool calling", "Structured output"} <= set(headings)
    overview = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for column in ("| Class | Package | Local | Serializable |", "| Tool calling | Structured"):
        assert column in overview


def test_llama_index_notebook_follows_the_llm_example_template() -> None:
    # docs/examples/llm/*.ipynb in run-llama/llama_index (e.g. google_genai.ipynb).
    path = NOTEBOOKS / "llama_index_llm.ipynb"
    headings = _headings(path)
    assert headings[0] == "Segmind Gemini"
    for section in (
        "Setup",
        "Basic Usage",
        "Streaming Support",
        "Async Usage",
        "Multi-Modal Support",
        "Structured Prediction",
        "Function Calling",
    ):
        assert section in headings
    notebook = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for call in (
        "llm.complete(",
        "llm.chat(",
        "llm.stream_complete(",
        "llm.stream_chat(",
        "await llm.astream_complete(",
        "llm.structured_predict(",
        "llm.as_structured_llm(",
        "llm.predict_and_call(",
        "llm.chat_with_tools(",
    ):
        assert call in code


@pytest.mark.timeout(180)
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_offline(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The kernel inherits this environment: no key, so the notebook runs offline.
    monkeypatch.delenv("SEGMIND_API_KEY", raising=False)
    monkeypatch.delenv("SEGMIND_BASE_URL", raising=False)
    # Pin the "python3" kernel to this interpreter: a python3 kernelspec in the user's
    # own Jupyter folder would otherwise win and run another Python.
    spec_dir = tmp_path / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (segmind-gemini tests)",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=60,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    text = _outputs_text(notebook)
    assert "OFFLINE" in text and "EMULATED" in text  # it said where the answers came from
    assert "Traceback" not in text
    for shown in _SHOWN.get(path.name, ()):
        assert shown in text, f"{path.name} did not show {shown!r}"


#: What a notebook's round trips must show offline (its scripted answers were used).
_SHOWN = {
    "langchain_quickstart.ipynb": (
        "tool calls: [{'name': 'multiply', 'args': {'a': 6, 'b': 7}",
        "scripted answer: 6 times 7 is 42.",
        "City(name='emulated name'",
    ),
    "llama_index_llm.ipynb": (
        "name='Emulated Song' artist='The Emulators'",
        "generate_song {'name': 'Emulated Song Two'",
        "menu_items=[MenuItem(",
    ),
}


# Distributions that provide the top-level modules the notebooks import.
_PROVIDERS = {
    "langchain": "langchain",
    "langchain_core": "langchain-core",
    "llama_index": "llama-index-core",
    "pydantic": "pydantic",  # required by langchain-core and llama-index-core
}


def _extra_requirements(extra: str) -> set[str]:
    """Distribution names ``pip install 'segmind-gemini[extra]'`` asks for (self-extras expanded)."""
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")
    project = tomllib.loads((NOTEBOOKS.parent / "pyproject.toml").read_text())["project"]
    names: set[str] = set()
    pending = [extra]
    while pending:
        for req in project["optional-dependencies"][pending.pop()]:
            name = re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0]
            if name == "segmind-gemini":
                pending.extend(re.search(r"\[(.*)\]", req)[1].split(","))  # type: ignore[index]
            else:
                names.add(name)
    return names


def test_notebooks_extra_installs_what_the_notebooks_import() -> None:
    installed = _extra_requirements("notebooks") | {"pydantic"}
    assert "ipykernel" in installed
    for path in PATHS:
        notebook = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        for module in re.findall(r"^\s*(?:from|import) (\w+)", code, flags=re.MULTILINE):
            if module in sys.stdlib_module_names or module == "_offline":
                continue
            if module.endswith("segmind_gemini"):
                continue  # this distribution
            assert _PROVIDERS.get(module) in installed, f"{path.name} imports {module}"


def test_langchain_extra_has_create_agent() -> None:
    assert "langchain" in _extra_requirements("langchain")
    assert {"langchain", "llama-index-core"} <= _extra_requirements("all")

"""The code's shape, as issue 19 asks it be kept: small modules and functions.

A module past 900 lines or a function past 100 is where the next person loses a day;
this fails the moment one grows past either, naming it, so it is split when it happens.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("segmind_gemini", "langchain_segmind_gemini", "llama_index_segmind_gemini")


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_no_module_is_over_900_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := p.read_text(encoding="utf-8").count("\n")) > 900
    }
    assert not long, long


def test_no_function_is_over_100_lines() -> None:
    long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > 100:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = length
    assert not long, long

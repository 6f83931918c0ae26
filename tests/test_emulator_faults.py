"""The fault table is the one place a fault kind lives: these fail when it and the
emulator (behaviour, enum, random draws, CLI help, docs) disagree."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from segmind_gemini.cli import _SCRIPT_HELP
from segmind_gemini.testing import Fault, SegmindEmulator
from segmind_gemini.testing._faults import FAULTS, RANDOM_FAULTS, fault_script

ROOT = Path(__file__).resolve().parents[1]
BODY = {"messages": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}}


def test_every_enum_member_has_exactly_one_row() -> None:
    assert list(FAULTS) == list(Fault)
    assert tuple(kind for kind in Fault if FAULTS[kind].random) == RANDOM_FAULTS


@pytest.mark.parametrize("kind", list(Fault), ids=lambda kind: kind.value)
def test_the_emulator_does_what_the_row_says(emu: SegmindEmulator, kind: Fault) -> None:
    row = FAULTS[kind]
    emu.queue_fault(kind, delay=0.0)
    url = f"{emu.base_url}/gemini-2.5-flash"
    headers = {"x-api-key": emu.api_key}
    if row.status is None:
        with pytest.raises(httpx.TransportError):
            httpx.post(url, json=BODY, headers=headers).read()
    else:
        assert httpx.post(url, json=BODY, headers=headers).status_code == row.status
    assert emu.pending == 0


@pytest.mark.parametrize("kind", list(Fault), ids=lambda kind: kind.value)
def test_options_are_the_rows(kind: Fault) -> None:
    row = FAULTS[kind]
    values = {"reset_after": 0.5, "message": "m", "reason": "OTHER"}
    fault_script(kind, {name: values[name] for name in row.options} | {"delay": 0.1})
    with pytest.raises(ValueError, match=f"fault {kind.value!r} takes only"):
        fault_script(kind, {"no_such_option": 1})
    assert fault_script(kind, {}).delay == row.default_delay


def test_docs_name_every_kind() -> None:
    readme = (ROOT / "docs" / "emulator.md").read_text(encoding="utf-8")
    for kind in Fault:
        assert f"``{kind.name}``" in (Fault.__doc__ or ""), kind
        assert kind.value in _SCRIPT_HELP.split("Faults:", 1)[1], kind
        assert f"`{kind.value}`" in readme, kind


def test_a_script_line_reaches_the_table(tmp_path: Path) -> None:
    script = tmp_path / "faults.jsonl"
    script.write_text(
        "\n".join(json.dumps({"kind": "fault", "fault": kind.value}) for kind in Fault) + "\n"
    )
    assert SegmindEmulator().queue_script(script) == len(FAULTS)

"""Replay of the `segmind-gemini check` cassettes in ``tests/cassettes/replay/check/``.

``segmind-gemini check --record tests/cassettes/replay`` writes one cassette per probe
(``check/<slug>/<probe>.yaml``) and the report it printed (``check/report.json``).
Replaying each probe from its cassette must give the verdict the report holds: the
classification depends on the recorded exchanges only. The shipped files were recorded
against the emulator (their URIs say ``http://127.0.0.1:<port>``); a live run of the
same command replaces them with real ones, and this test then replays those.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import vcr
from _replay_support import CASSETTES, REPLAY_API_KEY, Target

from segmind_gemini import SegmindGeminiClient
from segmind_gemini.check import PROBES, run_checks

CHECK = CASSETTES / "check"
REPORT = json.loads((CHECK / "report.json").read_text())
CASES = [(slug, probe) for slug, probes in REPORT["models"].items() for probe in probes]


def test_the_shipped_report_covers_every_probe() -> None:
    assert {probe for _, probe in CASES} == set(PROBES)


@pytest.mark.parametrize(("slug", "probe"), CASES, ids=[f"{s}-{p}" for s, p in CASES])
def test_probe_replays_to_the_recorded_verdict(target: Target, slug: str, probe: str) -> None:
    if target.mode != "replay":
        pytest.skip("check cassettes are recorded by `segmind-gemini check --record`")
    # headers reads the answers of the probes before it; here, the text probe's.
    probes = ("text", "headers") if probe == "headers" else (probe,)
    cassette: Path = CHECK / slug / f"{probes[0]}.yaml"
    replayer = vcr.VCR(record_mode="none", match_on=["method", "path", "body"])
    with (
        replayer.use_cassette(str(cassette), allow_playback_repeats=False) as played,
        SegmindGeminiClient(
            REPLAY_API_KEY, base_url=REPORT["base_url"], max_retries=0, poll_interval=0.001
        ) as client,
    ):
        result = run_checks(client, [slug], probes=probes).models[slug][probe]
    assert played.all_played
    recorded = REPORT["models"][slug][probe]
    if probe == "headers":
        # Replayed alone it sees one answer; x-remaining-credits (the balance) is never
        # written to a cassette, every other header the report saw is.
        assert recorded["status"] == "supported"
        assert result.evidence == (
            "seen on answers: x-request-id 1/1, x-cost 1/1, x-remaining-credits 0/1, "
            "x-generation-time 1/1"
        )
    else:
        assert (result.status, result.evidence) == (recorded["status"], recorded["evidence"])

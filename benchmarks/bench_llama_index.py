"""Benchmark the LlamaIndex adapter against a bare-httpx baseline, on a local stub.

Run: ``python benchmarks/bench_llama_index.py`` (about 15 s). Prints a Markdown
table; with ``--write`` it also writes it to ``benchmarks/results/llama_index.md``.

Two checks, both against ``benchmarks/_stub.py`` (a separate process that answers
every call with the same small Gemini body):

1. Overhead per sequential call: ``SegmindGemini.complete`` against a minimal
   ``CustomLLM`` whose ``complete`` posts the same body with one warm
   ``httpx.Client`` and reads the text out of the JSON. Both go through the same
   LlamaIndex callback decorators, so the difference is this package's own work
   (building the request, retries, response parsing, token counts). Target: at
   most 1.1x the baseline's CPU time (of this process, which runs both clients;
   the stub is another process), as the median of per-round ratios; the wall-time
   ratio is printed too.
2. Concurrency: 200 ``acomplete`` calls gathered at once while the stub holds each
   one 100 ms. Target: under 0.25 s wall time (the floor is 0.10 s).

The stub is not Segmind: these numbers measure the client side only.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from llama_index.core.base.llms.types import (
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.llms.custom import CustomLLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _stub import stub_server

from llama_index_segmind_gemini import SegmindGemini

KEY = "benchmark-key-not-real"
SLUG = "gemini-2.5-flash"
PROMPT = "Say something short."
RESULTS = Path(__file__).resolve().parent / "results" / "llama_index.md"

SEQ_CALLS = 200
SEQ_ROUNDS = 21
CONCURRENT = 200
HOLD_MS = 100
CONC_ROUNDS = 5


class BareHttpxLLM(CustomLLM):
    """The baseline: the least a LlamaIndex LLM can do to call the endpoint."""

    base_url: str
    _http: httpx.Client = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._http = httpx.Client(timeout=30.0)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=SLUG, is_chat_model=True)

    @llm_completion_callback()  # type: ignore[misc]
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        body = {"messages": {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}}
        reply = self._http.post(f"{self.base_url}/{SLUG}", json=body, headers={"x-api-key": KEY})
        reply.raise_for_status()
        data = reply.json()
        text = data["candidates"][0]["content"]["parts"][0]["text"]
        return CompletionResponse(text=text, raw=data)

    @llm_completion_callback()  # type: ignore[misc]
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        raise NotImplementedError


def per_call_us(fn: Callable[[], Any], calls: int) -> tuple[float, float]:
    """Wall and CPU microseconds per call."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        fn()
    return (
        (time.perf_counter() - start) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


class Sequential(NamedTuple):
    """Medians per call (us) and median per-round ratios, wall and CPU."""

    bare_wall: float
    ours_wall: float
    wall_ratio: float
    bare_cpu: float
    ours_cpu: float
    cpu_ratio: float


def _paired(ours: list[float], bare: list[float]) -> float:
    return statistics.median(o / b for o, b in zip(ours, bare, strict=True))


def sequential(base_url: str) -> Sequential:
    """Median microseconds per call (baseline, adapter) and the median paired ratios.

    The machine is shared and its speed drifts, so the two run in alternating short
    rounds (ABBA order) and each round's ratio compares neighbours in time.
    """
    bare = BareHttpxLLM(base_url=base_url)
    llm = SegmindGemini(model=SLUG, api_key=KEY, base_url=base_url, max_retries=0)
    assert bare.complete(PROMPT).text == llm.complete(PROMPT).text == "stub answer"
    for _ in range(100):  # warm both pools, caches and code paths
        bare.complete(PROMPT)
        llm.complete(PROMPT)
    times: dict[str, list[tuple[float, float]]] = {"bare": [], "ours": []}
    for i in range(SEQ_ROUNDS):
        pair = [
            ("bare", lambda: bare.complete(PROMPT)),
            ("ours", lambda: llm.complete(PROMPT)),
        ]
        for name, fn in pair if i % 2 == 0 else pair[::-1]:
            times[name].append(per_call_us(fn, SEQ_CALLS))
    llm.close()
    (bare_wall, bare_cpu), (ours_wall, ours_cpu) = (
        [list(column) for column in zip(*times[name], strict=True)] for name in ("bare", "ours")
    )
    return Sequential(
        statistics.median(bare_wall),
        statistics.median(ours_wall),
        _paired(ours_wall, bare_wall),
        statistics.median(bare_cpu),
        statistics.median(ours_cpu),
        _paired(ours_cpu, bare_cpu),
    )


async def concurrent(base_url: str) -> list[float]:
    """Wall seconds for CONCURRENT gathered acomplete calls, per round (first round warms)."""
    llm = SegmindGemini(model=SLUG, api_key=KEY, base_url=base_url, max_retries=0)
    walls = []
    for _ in range(CONC_ROUNDS + 1):
        start = time.perf_counter()
        results = await asyncio.gather(*(llm.acomplete(PROMPT) for _ in range(CONCURRENT)))
        walls.append(time.perf_counter() - start)
        assert all(r.text == "stub answer" for r in results)
    await llm.aclose()
    return walls[1:]


def main() -> int:
    with stub_server(0) as base_url:
        seq = sequential(base_url)
    with stub_server(HOLD_MS) as base_url:
        walls = asyncio.run(concurrent(base_url))
    best, median = min(walls), statistics.median(walls)
    seq_ok = seq.cpu_ratio <= 1.1
    conc_ok = median < 0.25
    lines = [
        "# LlamaIndex adapter benchmark",
        "",
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, local stub "
        "(`benchmarks/_stub.py`, a separate process; not Segmind). "
        "Run `python benchmarks/bench_llama_index.py` to reproduce.",
        "",
        "| Check | Baseline | SegmindGemini | Result | Target |",
        "|---|---|---|---|---|",
        f"| `complete`, sequential, CPU time per call (median of {SEQ_ROUNDS} paired "
        f"rounds of {SEQ_CALLS} calls) "
        f"| {seq.bare_cpu:.0f} us (bare `httpx.Client` CustomLLM) | {seq.ours_cpu:.0f} us "
        f"| {seq.cpu_ratio:.2f}x {'PASS' if seq_ok else 'FAIL'} | <= 1.10x |",
        f"| `complete`, sequential, wall time per call (same rounds) "
        f"| {seq.bare_wall:.0f} us | {seq.ours_wall:.0f} us "
        f"| {seq.wall_ratio:.2f}x | (shown) |",
        f"| {CONCURRENT} concurrent `acomplete`, stub holds each {HOLD_MS} ms "
        f"(median of {CONC_ROUNDS}, best {best:.3f} s) | floor {HOLD_MS / 1000:.2f} s "
        f"| {median:.3f} s | {'PASS' if conc_ok else 'FAIL'} | < 0.25 s |",
        "",
    ]
    table = "\n".join(lines)
    print(table)
    if "--write" in sys.argv:  # the tracked results change only when asked
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(table)
    return 0 if seq_ok and conc_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

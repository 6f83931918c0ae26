"""How much ChatSegmindGemini adds on top of LangChain itself, and how it batches.

Two measurements against the stub server (``benchmarks/_stub.py``, its own process):

1. ``invoke`` latency, sequential, stub answering at once: ChatSegmindGemini versus
   the floor, a minimal ``BaseChatModel`` that posts the same body with a bare
   ``httpx.Client``. Target: at most 1.1x.
2. ``abatch`` of 200 prompts while the stub holds every request 100 ms. Target:
   under 0.25 s (the floor is 0.1 s).

Run: ``python benchmarks/bench_langchain.py`` (prints a table; exits 1 if a target is
missed); with ``--write`` it also writes ``benchmarks/results/langchain.md``.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import langchain_core
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _stub import stub_server

from langchain_segmind_gemini import ChatSegmindGemini

RESULTS = Path(__file__).resolve().parent / "results" / "langchain.md"
PROMPT = "Say hello in one word."
INVOKE_CALLS = 200
ROUNDS = 21
BATCH = 200
HOLD_MS = 100
BATCH_RUNS = 5
INVOKE_TARGET = 1.10
BATCH_TARGET_S = 0.25


class MinimalChat(BaseChatModel):
    """The floor: LangChain's own machinery plus one bare httpx POST of the same body."""

    url: str
    api_key: str
    client: Any = None

    @property
    def _llm_type(self) -> str:
        return "minimal"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        body = {
            "messages": {"contents": [{"role": "user", "parts": [{"text": messages[-1].text}]}]}
        }
        response = self.client.post(
            self.url,
            content=json.dumps(body, separators=(",", ":")).encode(),
            headers={"x-api-key": self.api_key, "content-type": "application/json"},
        )
        data = response.json()
        text = data["candidates"][0]["content"]["parts"][0]["text"]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


CPU: dict[str, list[float]] = {}


def per_call_us(model: BaseChatModel, calls: int) -> float:
    """Wall microseconds per call; the CPU time of this process is kept in ``CPU``."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        model.invoke(PROMPT)
    CPU.setdefault(type(model).__name__, []).append((time.process_time() - cpu) / calls * 1e6)
    return (time.perf_counter() - start) / calls * 1e6


def bench_invoke(base_url: str) -> tuple[float, float, float]:
    """Per-call microseconds (medians) and the median of per-round ratios.

    Rounds alternate which model goes first and each ratio compares two runs made
    back to back, so load from anything else on the machine cancels out.
    """
    minimal = MinimalChat(
        url=f"{base_url}/gemini-2.5-flash", api_key="bench-key", client=httpx.Client()
    )
    ours = ChatSegmindGemini(model="gemini-2.5-flash", api_key="bench-key", base_url=base_url)
    for model in (minimal, ours):  # warm connections, imports and caches
        per_call_us(model, 100)
    floor: list[float] = []
    mine: list[float] = []
    for i in range(ROUNDS):
        if i % 2:
            mine.append(per_call_us(ours, INVOKE_CALLS))
            floor.append(per_call_us(minimal, INVOKE_CALLS))
        else:
            floor.append(per_call_us(minimal, INVOKE_CALLS))
            mine.append(per_call_us(ours, INVOKE_CALLS))
    minimal.client.close()
    ours.close()
    ratio = statistics.median(m / f for m, f in zip(mine, floor, strict=True))
    return statistics.median(floor), statistics.median(mine), ratio


def bench_abatch(base_url: str) -> tuple[float, float]:
    """Median and best wall time of 200-prompt abatch runs against a 100 ms server."""
    model = ChatSegmindGemini(model="gemini-2.5-flash", api_key="bench-key", base_url=base_url)
    prompts = [f"{PROMPT} #{i}" for i in range(BATCH)]

    async def run() -> list[float]:
        await model.abatch(prompts[:20], config={"max_concurrency": BATCH})  # warm up
        times = []
        for _ in range(BATCH_RUNS):
            start = time.perf_counter()
            answers = await model.abatch(prompts, config={"max_concurrency": BATCH})
            times.append(time.perf_counter() - start)
            assert len(answers) == BATCH
            assert all(a.content == "stub answer" for a in answers)
        await model.aclose()
        return times

    times = asyncio.run(run())
    return statistics.median(times), min(times)


def main() -> int:
    with stub_server(0) as base_url:
        floor_us, ours_us, ratio = bench_invoke(base_url)
    with stub_server(HOLD_MS) as base_url:
        batch_s, best_s = bench_abatch(base_url)
    # Skip the warm-up entries (the first of each model).
    cpu_floor = min(CPU["MinimalChat"][1:])
    cpu_ours = min(CPU["ChatSegmindGemini"][1:])
    invoke_ok = ratio <= INVOKE_TARGET
    batch_ok = batch_s < BATCH_TARGET_S
    rows = [
        "| Measurement | Result | Target | |",
        "|---|---|---|---|",
        "| `invoke`, minimal `BaseChatModel` + bare `httpx.Client` (floor) "
        f"| {floor_us:.0f} us/call | | |",
        f"| `invoke`, CPU time of the calling process (best round) | {cpu_ours:.0f} us vs "
        f"{cpu_floor:.0f} us ({cpu_ours / cpu_floor:.2f}x the floor) | <= {INVOKE_TARGET:.2f}x "
        "| |",
        f"| `invoke`, `ChatSegmindGemini` | {ours_us:.0f} us/call ({ratio:.2f}x the floor) "
        f"| <= {INVOKE_TARGET:.2f}x | {'pass' if invoke_ok else 'FAIL'} |",
        f"| `abatch` of {BATCH} prompts, server holds each {HOLD_MS} ms "
        f"| {batch_s:.3f} s (best {best_s:.3f} s) "
        f"| < {BATCH_TARGET_S} s | {'pass' if batch_ok else 'FAIL'} |",
    ]
    table = "\n".join(rows)
    machine = (
        f"Python {platform.python_version()}, langchain-core {langchain_core.__version__}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )
    notes = (
        f"`invoke`: {ROUNDS} rounds of {INVOKE_CALLS} sequential calls per model, the two "
        "models back to back in alternating order; times are medians, the ratio is the median "
        "of the per-round ratios; stub answering at once (loopback). `abatch`: median of "
        f"{BATCH_RUNS} runs after a warm-up, "
        "`max_concurrency=200`. Server: the local stub `benchmarks/_stub.py` in its own "
        "process, not Segmind."
    )
    print(table)
    if "--write" not in sys.argv:  # the tracked results change only when asked
        return 0 if invoke_ok and batch_ok else 1
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        "# LangChain adapter benchmark\n\n"
        "Produced by `python benchmarks/bench_langchain.py --write`.\n\n"
        f"{table}\n\n{notes}\n\nMeasured with {machine}.\n"
    )
    return 0 if invoke_ok and batch_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""One worker process of the shared-rate-limit tests and benchmark.

    python tests/rate_worker.py BASE_URL CALLS [core|langchain|llama_index]

Imports everything, prints ``ready``, reads the start time (Unix time) from stdin,
waits for it, sends ``CALLS`` calls at once through the chosen
front end with the default settings (the store comes from ``$SEGMIND_RATE_LIMIT_STORE``
or the default, or from ``$RATE_WORKER_STORE_ARG`` passed as ``rate_limit_store=``), and
prints one JSON line: answers, errors, and when it finished.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from typing import Any

KEY = "shared-key"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def _store() -> dict[str, Any]:
    """``rate_limit_store=`` as the argument, when the test asks for that spelling."""
    store = os.environ.get("RATE_WORKER_STORE_ARG")
    return {"rate_limit_store": store} if store else {}


async def _core(base_url: str, calls: int) -> list[Any]:
    from segmind_gemini import SegmindGeminiClient

    async with SegmindGeminiClient(KEY, base_url=base_url, max_retries=0, **_store()) as client:
        return await asyncio.gather(
            *(client.agenerate_content(HELLO) for _ in range(calls)), return_exceptions=True
        )


async def _langchain(base_url: str, calls: int) -> list[Any]:
    from langchain_segmind_gemini import ChatSegmindGemini

    model = ChatSegmindGemini(api_key=KEY, base_url=base_url, max_retries=0, **_store())
    return list(
        await model.abatch(
            ["hi"] * calls, return_exceptions=True, config={"max_concurrency": calls}
        )
    )


async def _llama_index(base_url: str, calls: int) -> list[Any]:
    from llama_index_segmind_gemini import SegmindGemini

    llm = SegmindGemini(api_key=KEY, base_url=base_url, max_retries=0, **_store())
    return await asyncio.gather(
        *(llm.acomplete("hi") for _ in range(calls)), return_exceptions=True
    )


def main() -> None:
    base_url, calls = sys.argv[1], int(sys.argv[2])
    front = sys.argv[3] if len(sys.argv) > 3 else "core"
    run = {"core": _core, "langchain": _langchain, "llama_index": _llama_index}[front]
    # Import everything first, so the start is the calls', not the interpreter's.
    import langchain_segmind_gemini  # noqa: F401
    import llama_index_segmind_gemini  # noqa: F401
    import segmind_gemini.ratelimit  # noqa: F401

    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    if os.environ.get("RATE_WORKER_LOG"):
        logging.basicConfig(
            level=logging.DEBUG, format="%(relativeCreated)d %(process)d %(message)s"
        )
    time.sleep(max(0.0, start_at - time.time()))
    done: list[float] = []
    logging.getLogger("segmind_gemini").addFilter(
        lambda record: (
            done.append(time.time() - start_at) or True if "-> 200" in record.getMessage() else True
        )
    )
    logging.getLogger("segmind_gemini").setLevel(logging.DEBUG)
    results = asyncio.run(run(base_url, calls))
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    print(
        json.dumps(
            {
                "answers": len(results) - len(errors),
                "errors": errors[:3],
                "end": time.time(),
                "done": sorted(round(t, 2) for t in done),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()

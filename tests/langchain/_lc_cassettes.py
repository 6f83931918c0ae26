"""VCR settings shared by the LangChain cassette tests (a helper module, not tests).

Key headers are filtered before anything is written; requests match on method, path
and body, not host, so a cassette recorded against the live API replays anywhere.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"

# Tool-call ids the core makes up when Gemini sends none; they differ per run.
_CALL_ID = re.compile(r"call_[0-9a-f]{24}")


def normalize_call_ids(request: Any) -> Any:
    """Number generated tool-call ids in a request body (call_1, call_2...).

    vcrpy applies this both when recording and before matching, so a multi-turn
    exchange whose later request echoes an id made up at run time still matches.
    """
    body = request.body
    if not body:
        return request
    text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
    seen: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"call_{len(seen) + 1}")

    normalized = _CALL_ID.sub(number, text)
    if normalized != text:
        request.body = normalized.encode("utf-8")
    return request


def cassette_config(record_mode_option: str | None) -> dict[str, Any]:
    """The VCR configuration; ``record_mode_option`` is pytest's ``--record-mode``."""
    config: dict[str, Any] = {
        "filter_headers": [("x-api-key", "PLACEHOLDER"), ("authorization", "PLACEHOLDER")],
        "match_on": ["method", "path", "body"],
        "before_record_request": normalize_call_ids,
        "decode_compressed_response": True,
        "allow_playback_repeats": True,
    }
    if record_mode_option is None:
        # Live with a key: replay what exists, record what is new. Otherwise only replay.
        config["record_mode"] = "once" if os.environ.get("SEGMIND_API_KEY") else "none"
    return config


def recorded_body(request: Any) -> dict[str, Any]:
    body = request.body
    return dict(json.loads(body if isinstance(body, str) else body.decode("utf-8")))

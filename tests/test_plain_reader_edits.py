"""The plain-text reader against the general parser (review 4), with one arbitrary
key (any listed key in either spelling, or an unlisted one) set to an arbitrary value
at any level of an otherwise plain answer. The existing property injects a fixed list
of spoilers; this one lets Hypothesis pick the key, the level and the value."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from segmind_gemini.wire import response as response_module
from tests.test_response import _outcome

_TOP, _CAND, _PART, _USAGE = response_module._listed_fields()
_CONTENT = frozenset({"role", "parts"})

_TEXT = st.one_of(st.text(max_size=4), st.sampled_from(["\ud800", "x\udfff", "STOP", "Details"]))
_KEY = st.one_of(_TEXT, st.integers(-1, 2), st.none(), st.booleans())
_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**40, 0, -0]),
    st.floats(),
    _TEXT,
)
_VALUE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2), st.dictionaries(_KEY, inner, max_size=2), st.tuples(inner)
    ),
    max_leaves=6,
)


def _base() -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "Hi", "thoughtSignature": "c2"}]},
                "finishReason": "STOP",
                "index": 0,
                "safetyRatings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "LOW"}],
                "avgLogprobs": -0.25,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 3,
            "candidatesTokenCount": 2,
            "totalTokenCount": 5,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}],
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r1",
    }


def _level(body: dict[str, Any], name: str) -> dict[str, Any]:
    if name == "top":
        return body
    if name == "usage":
        return body["usageMetadata"]  # type: ignore[no-any-return]
    cand = body["candidates"][0]
    if name == "candidate":
        return cand  # type: ignore[no-any-return]
    if name == "content":
        return cand["content"]  # type: ignore[no-any-return]
    return cand["content"]["parts"][0]  # type: ignore[no-any-return]


_LISTED = {
    "top": sorted(_TOP),
    "candidate": sorted(_CAND),
    "content": sorted(_CONTENT),
    "part": sorted(_PART),
    "usage": sorted(_USAGE),
}

_EDIT = st.sampled_from(sorted(_LISTED)).flatmap(
    lambda level: st.tuples(
        st.just(level),
        st.one_of(st.sampled_from(_LISTED[level]), _KEY),
        st.one_of(_VALUE, st.just("__delete__")),
    )
)


@settings(derandomize=True, max_examples=1500, deadline=None, database=None)
@given(edits=st.lists(_EDIT, min_size=1, max_size=2))
def test_any_one_or_two_edits_parse_alike_on_both_paths(edits: list[Any]) -> None:
    body = _base()
    # Deepest level first, so an edit never loses its target to an earlier one.
    depth = {"part": 0, "content": 1, "usage": 1, "candidate": 2, "top": 3}
    for level, key, value in sorted(edits, key=lambda e: depth[e[0]]):
        target = _level(body, level)
        if value == "__delete__":
            target.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)
    seg = response_module.SegmindHeaders.from_headers({})
    event(
        f"plain reader took it: {response_module._plain_text_answer(body, seg) is not None if type(body.get('candidates')) is list else False}"
    )
    fast = _outcome(body)
    original = response_module._plain_text_answer
    response_module._plain_text_answer = lambda body, seg: None
    try:
        general = _outcome(body)
    finally:
        response_module._plain_text_answer = original
    # A function call without an id gets a fresh one on each parse: not a difference.
    assert _same_ids(fast) == _same_ids(general)


def _same_ids(outcome: Any) -> Any:
    result, logged = outcome
    if isinstance(result, str):  # a repr, not (exception type, message)
        result = re.sub(r"call_[0-9a-f]{24}", "call_<generated>", result)
    return result, logged

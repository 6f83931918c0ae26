"""Response parsing: every shape DESIGN.md lists, from bodies shaped like recorded real exchanges."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from segmind_gemini import ContentBlockedError, ResponseParseError
from segmind_gemini.wire import response as response_module
from segmind_gemini.wire.answer import has_rich_parts
from segmind_gemini.wire.parts import PARTS, RICH_ANSWERS, kinds
from segmind_gemini.wire.response import parse_response

HEADERS = {
    "x-request-id": "req-123",
    "x-cost": "0.00042",
    "x-remaining-credits": "9.5",
    "x-generation-time": "1.73",
}


def test_plain_answer_with_all_usage_counts_and_headers() -> None:
    body = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "Hello"}, {"text": " world"}]},
                "finishReason": "STOP",
                "index": 0,
                "safetyRatings": [
                    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}
                ],
                "avgLogprobs": -0.12,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 10,
            "candidatesTokenCount": 4,
            "thoughtsTokenCount": 20,
            "cachedContentTokenCount": 3,
            "toolUsePromptTokenCount": 2,
            "totalTokenCount": 36,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}],
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1",
    }
    result = parse_response(body, HEADERS)
    assert result.text == "Hello world"
    assert result.finish_reason == "STOP"
    assert result.safety_ratings[0]["category"] == "HARM_CATEGORY_HARASSMENT"
    assert result.avg_logprobs == pytest.approx(-0.12)
    u = result.usage
    assert (u.prompt_tokens, u.candidates_tokens, u.thoughts_tokens) == (10, 4, 20)
    assert (u.cached_tokens, u.tool_use_prompt_tokens, u.total_tokens) == (3, 2, 36)
    assert u.input_tokens == 12 and u.output_tokens == 24
    assert "promptTokensDetails" in u.details
    assert result.model_version == "gemini-2.5-flash" and result.response_id == "resp-1"
    assert result.headers.request_id == "req-123"
    assert result.cost == pytest.approx(0.00042)
    assert result.headers.remaining_credits == pytest.approx(9.5)
    assert result.headers.generation_time == pytest.approx(1.73)
    assert result.raw is body
    meta = result.metadata()
    assert meta["finish_reason"] == "STOP" and meta["cost"] == pytest.approx(0.00042)


def test_thought_parts_are_separated_from_the_answer() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "Let me think about primes.", "thought": True},
                        {"text": "7 is prime.", "thoughtSignature": "sig-abc"},
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
    }
    result = parse_response(body)
    assert result.text == "7 is prime."
    assert result.thoughts == "Let me think about primes."
    assert result.parts[1]["thoughtSignature"] == "sig-abc"
    # candidatesTokenCount may be absent
    assert result.usage.candidates_tokens == 0


def test_parallel_function_calls_keep_signatures_and_get_ids() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {
                            "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}},
                            "thoughtSignature": "sig-1",
                        },
                        {"functionCall": {"name": "get_time", "args": {}, "id": "given-id"}},
                    ],
                },
                "finishReason": "STOP",
            }
        ]
    }
    result = parse_response(body)
    first, second = result.tool_calls
    assert (first.name, first.args, first.thought_signature) == (
        "get_weather",
        {"city": "Oslo"},
        "sig-1",
    )
    assert first.id.startswith("call_")
    assert second.id == "given-id" and second.thought_signature is None
    assert result.text == ""


@pytest.mark.parametrize(
    "content",
    [{}, {"role": "model"}, None],
    ids=["empty-content", "role-only", "no-content"],
)
def test_candidate_without_parts_is_an_empty_answer(content: Any) -> None:
    cand: dict[str, Any] = {"finishReason": "MAX_TOKENS"}
    if content is not None:
        cand["content"] = content
    result = parse_response({"candidates": [cand], "usageMetadata": {"promptTokenCount": 3}})
    assert result.text == "" and result.tool_calls == []
    assert result.finish_reason == "MAX_TOKENS"


def test_safety_stop_keeps_finish_message() -> None:
    body = {
        "candidates": [
            {
                "content": {},
                "finishReason": "SAFETY",
                "finishMessage": "Response blocked",
                "safetyRatings": [
                    {
                        "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                        "probability": "HIGH",
                        "blocked": True,
                    }
                ],
            }
        ]
    }
    result = parse_response(body)
    assert result.finish_reason == "SAFETY" and result.finish_message == "Response blocked"


@pytest.mark.parametrize(
    "reason", ["SAFETY", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "IMAGE_SAFETY", "JAILBREAK"]
)
def test_blocked_prompt_raises_with_reason(reason: str) -> None:
    body = {
        "promptFeedback": {"blockReason": reason, "safetyRatings": [{"category": "X"}]},
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
    }
    with pytest.raises(ContentBlockedError) as info:
        parse_response(body, HEADERS)
    assert info.value.block_reason == reason
    assert reason in str(info.value)
    assert info.value.request_id == "req-123"
    assert info.value.safety_ratings == [{"category": "X"}]


def test_image_output_and_citations() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"text": "Here it is"},
                        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                    ]
                },
                "finishReason": "STOP",
                "citationMetadata": {"citationSources": [{"uri": "https://example.org"}]},
            }
        ]
    }
    result = parse_response(body)
    assert result.images == [{"mimeType": "image/png", "data": "iVBORw0KGgo="}]
    assert result.citation_metadata == {"citationSources": [{"uri": "https://example.org"}]}


def test_openai_shaped_body_is_understood() -> None:
    body = {
        "id": "chatcmpl-1",
        "model": "gemini-2.5-flash",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Paris",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": '{"q": "France"}'},
                        }
                    ],
                },
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }
    result = parse_response(body, HEADERS)
    assert result.text == "Paris"
    assert result.finish_reason == "MAX_TOKENS"
    assert result.tool_calls[0].args == {"q": "France"} and result.tool_calls[0].id == "call_1"
    assert (result.usage.prompt_tokens, result.usage.candidates_tokens) == (7, 3)
    assert result.usage.total_tokens == 10
    assert result.response_id == "chatcmpl-1" and result.cost == pytest.approx(0.00042)


@pytest.mark.parametrize("body", [{"foo": 1}, [], "text", {"choices": []}])
def test_unrecognised_bodies_raise_parse_error(body: Any) -> None:
    with pytest.raises(ResponseParseError):
        parse_response(body)


def test_usage_also_answers_to_gemini_names_and_result_to_header_names() -> None:
    body = {
        "candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}],
        "usageMetadata": {
            "promptTokenCount": 4,
            "candidatesTokenCount": 2,
            "thoughtsTokenCount": 3,
            "cachedContentTokenCount": 1,
            "toolUsePromptTokenCount": 5,
            "totalTokenCount": 14,
        },
    }
    result = parse_response(body, HEADERS)
    u = result.usage
    assert (u.prompt_token_count, u.candidates_token_count, u.thoughts_token_count) == (4, 2, 3)
    assert (u.cached_content_token_count, u.tool_use_prompt_token_count) == (1, 5)
    assert u.total_token_count == 14
    assert result.remaining_credits == pytest.approx(9.5)
    assert result.generation_time == pytest.approx(1.73)


# ----------------------------------------------------------- the plain-text fast path

_ODD_TEXT = st.one_of(
    st.text(max_size=6), st.sampled_from(["", "\ud800", "a\udfffb", "𝔘🎉", "Olá"])
)
_ANY = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _ODD_TEXT),
    lambda inner: st.one_of(
        st.lists(inner, max_size=2), st.dictionaries(_ODD_TEXT, inner, max_size=2)
    ),
    max_leaves=5,
)
_NUMBER = st.one_of(st.integers(-2, 99), st.floats(allow_nan=True), st.booleans(), st.just(3.0))


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right shape, sometimes anything."""
    return st.one_of(strategy, strategy, strategy, _ANY)


def _plain_or_spoiled(plain: st.SearchStrategy[Any], spoilers: list[dict[str, Any]]) -> Any:
    """Mostly what the plain reader takes; sometimes that plus one field it must hand over."""
    spoiled = st.tuples(plain, st.sampled_from(spoilers)).map(lambda ps: {**ps[0], **ps[1]})
    return st.one_of(plain, plain, spoiled)


_PLAIN_PART = st.fixed_dictionaries(
    {"text": _ODD_TEXT},
    optional={"thought": st.booleans(), "thoughtSignature": _ODD_TEXT, "unlisted": _ANY},
)
_PART = st.one_of(
    _plain_or_spoiled(
        _PLAIN_PART,
        [
            {"inlineData": {"mimeType": "image/png", "data": "aGk="}},
            {"executableCode": {"code": "print(1)", "language": "PYTHON"}},
            {"thought_signature": "c2ln"},
            {"text": None},
            {"thought": "yes"},
        ],
    ),
    st.sampled_from(
        [
            {"thought": True},
            {"inline_data": {"mimeType": "image/png", "data": "aGk="}},
            "text",
            ["text"],
        ]
    ),
)


def _candidate(part: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {
            "content": st.fixed_dictionaries(
                {"parts": st.lists(part, max_size=3)},
                optional={"role": st.one_of(st.just("model"), _ODD_TEXT, st.none(), st.just(1))},
            )
        },
        optional={
            "finishReason": st.sampled_from(["STOP", "MAX_TOKENS"]),
            "finishMessage": _ODD_TEXT,
            "index": st.integers(0, 3),
            "safetyRatings": st.lists(st.dictionaries(_ODD_TEXT, _ODD_TEXT, max_size=2)),
            "avgLogprobs": st.floats(-5, 0),
            "score": _ANY,
        },
    )


_CANDIDATE = _plain_or_spoiled(
    _candidate(_PART),
    [
        {"groundingMetadata": {"webSearchQueries": ["q"]}},
        {"citation_metadata": {"citations": []}},
        {"urlContextMetadata": {}},
        {"logprobsResult": {"chosenCandidates": []}},
        {"finish_reason": "SAFETY"},
        {"index": 1.0},
        {"avgLogprobs": -1},
        {"avgLogprobs": float("nan")},
        {"content": {"role": "model"}},
        {"content": None},
    ],
)
_COUNT_KEYS = [
    "promptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
    "cachedContentTokenCount",
    "toolUsePromptTokenCount",
    "totalTokenCount",
]
_PLAIN_USAGE = st.dictionaries(
    st.sampled_from([*_COUNT_KEYS, "promptTokensDetails"]), st.integers(0, 99)
)
_USAGE_SPOILERS = [
    {"prompt_token_count": 7},
    {"total_token_count": 9},
    {"candidatesTokenCount": 2.0},
    {"thoughtsTokenCount": True},
    {"trafficType": "ON_DEMAND"},
    {"cacheTokensDetails": [{"modality": "TEXT"}]},
]
PLAIN_BODY = st.one_of(
    st.fixed_dictionaries(
        {
            "candidates": st.lists(_CANDIDATE, min_size=1, max_size=1),
            "usageMetadata": _plain_or_spoiled(_PLAIN_USAGE, _USAGE_SPOILERS),
        },
        optional={
            "modelVersion": _maybe(_ODD_TEXT),
            "responseId": _maybe(_ODD_TEXT),
            "createTime": _ANY,
            "model_version": _ODD_TEXT,
        },
    ),
    st.tuples(
        st.fixed_dictionaries({"candidates": st.lists(_candidate(_PLAIN_PART), min_size=1)}),
        st.sampled_from(
            [
                {"usageMetadata": None},
                {"modelVersion": None},
                {"responseId": 7},
                {"model_version": ["x"]},
                {"promptFeedback": 3},
                {"prompt_feedback": {"blockReason": "OTHER"}},
            ]
        ),
    ).map(lambda bs: {**bs[0], **bs[1]}),
    st.fixed_dictionaries(
        {
            "candidates": st.lists(_candidate(_PLAIN_PART), min_size=1, max_size=1),
            "usageMetadata": st.tuples(_PLAIN_USAGE, st.sampled_from(_USAGE_SPOILERS)).map(
                lambda us: {**us[0], **us[1]}
            ),
        }
    ),
    st.fixed_dictionaries({"candidates": st.lists(_CANDIDATE, min_size=1, max_size=1)}),
    st.fixed_dictionaries(
        {"candidates": st.one_of(st.lists(_CANDIDATE, max_size=2), _ANY)},
        optional={"promptFeedback": st.fixed_dictionaries({"blockReason": _ODD_TEXT})},
    ),
)


class _Notes(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.append(record.getMessage())


def _outcome(body: Any) -> tuple[Any, list[str]]:
    """What parsing ``body`` gives (repr, so 1 and 1.0 differ) and the warnings it logs."""
    notes = _Notes()
    logger = logging.getLogger("segmind_gemini")
    logger.addHandler(notes)
    try:
        return repr(parse_response(body, HEADERS, status=200)), notes.notes
    except Exception as exc:
        return (type(exc), str(exc)), notes.notes
    finally:
        logger.removeHandler(notes)


def _one(**candidate: Any) -> dict[str, Any]:
    return {"candidates": [{"content": {"parts": [{"text": "hi"}]}, **candidate}]}


@settings(derandomize=True, max_examples=400, deadline=None, database=None)
@given(body=PLAIN_BODY)
# One field conform() would drop or report, each in an otherwise plain answer.
@example(body=_one(content={"role": 1, "parts": [{"text": "hi"}]}))
@example(body=_one(content={"role": None, "parts": [{"text": "hi"}]}))
@example(body=_one(content={"parts": [{"text": "hi", "thought": "yes"}]}))
@example(body=_one(content={"parts": [{"text": "hi", "thought": None}]}))
@example(body={**_one(), "usageMetadata": None})
@example(body={"candidates": ["hi"]})
def test_the_plain_text_reader_agrees_with_the_general_parser(body: dict[str, Any]) -> None:
    fast = _outcome(body)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(response_module, "_plain_text_answer", lambda body, seg: None)
        general = _outcome(body)
    assert fast == general


def test_a_real_plain_answer_takes_the_plain_text_reader() -> None:
    # The shape Gemini 2.5 answers have: a signed text part, safety ratings, token
    # details, and fields the wire types do not list.
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"text": "Olá", "thoughtSignature": "c2ln"}, {"text": "!"}],
                },
                "finishReason": "STOP",
                "index": 0,
                "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "LOW"}],
                "avgLogprobs": -0.5,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 3,
            "candidatesTokenCount": 2,
            "totalTokenCount": 9,
            "thoughtsTokenCount": 4,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}],
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r-1",
        "createTime": "2026-12-05T20:00:00Z",
    }
    seg = response_module.SegmindHeaders.from_headers(HEADERS)
    plain = response_module._plain_text_answer(body, seg)
    assert plain is not None
    assert plain == parse_response(body, HEADERS)
    assert (plain.text, plain.usage.output_tokens, plain.avg_logprobs) == ("Olá!", 6, -0.5)
    assert plain.usage.details == {"promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}]}


def test_metadata_carries_every_segmind_header() -> None:
    headers = response_module.SegmindHeaders("req-1", 0.5, 9.0, 1.25)
    meta = response_module.GenerateContentResult(text="", headers=headers).metadata()
    assert {k: meta[k] for k in headers.as_dict()} == headers.as_dict()


_PART_KEYS = [key for kind in PARTS for key in kind.keys] + ["thought", "unlisted"]


@settings(derandomize=True, max_examples=300, deadline=None, database=None)
@given(
    parts=st.lists(
        st.dictionaries(
            st.sampled_from(_PART_KEYS),
            st.one_of(st.none(), st.booleans(), st.just({"data": "aGk="}), st.text(max_size=2)),
        ),
        max_size=3,
    )
)
@example(parts=[{"inlineData": None, "inline_data": {"data": "aGk="}}])
@example(parts=[{"thought": True, "executableCode": {"code": "1"}}])
def test_has_rich_parts_is_what_the_parts_table_says(parts: list[dict[str, Any]]) -> None:
    # Read through kinds(): either spelling, camelCase first, null is absent, thoughts skipped.
    expected = any(
        not part.get("thought") and any(kind.answer in RICH_ANSWERS for kind, _ in kinds(part))
        for part in parts
    )
    result = response_module.GenerateContentResult(text="", parts=parts)
    assert has_rich_parts(result) is expected

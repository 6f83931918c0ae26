"""Property-based tests: whatever goes in or comes back, only the library's own errors leave.

Hypothesis generates conversations for both adapters (every role, str or block
content, malformed blocks, odd values, huge and odd Unicode, bad base64, unknown
MIME types, tool results without calls) and answers of every JSON shape, for the
parser and over HTTP with every error status. The properties:

* the only exceptions are :class:`segmind_gemini.SegmindError` subclasses (the
  LangChain adapter's are also LangChain's ``Model*Error``), each with a message;
* the key never shows in an error or a result;
* the caller's messages are unchanged;
* nothing hangs (every call has a short timeout, the test a hard one).

Runs are derandomized (the same examples on every run, so CI is stable) and bounded;
the whole file takes seconds. The emulator is a stand-in for the HTTP service, not
a model: it answers with a description of what it received.
"""

from __future__ import annotations

import copy
import json
import pickle
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmind_gemini import SegmindError, SegmindGeminiClient, types
from segmind_gemini.governor import forget_rate_limits
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.wire.parts import PART_KEYS
from segmind_gemini.wire.response import GenerateContentResult, parse_response

KEY = "sk-test-NOT-A-REAL-KEY-hypothesis"
# Where a call has this long, a hang is a failure, not a slow test.
pytestmark = pytest.mark.timeout(120)


def _settings(examples: int) -> settings:
    return settings(
        derandomize=True,
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


def _wire_keys() -> list[str]:
    keys: set[str] = {"error", "details", "retryDelay", "message", "status", "code", "@type"}
    keys.update(PART_KEYS)  # the answer-part shape is a table, not a TypedDict
    for name in types.__all__:
        obj = getattr(types, name)
        if typing.is_typeddict(obj):
            keys.update(obj.__annotations__)
    return sorted(keys)


ODD_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\ud800",
            "a\udfffb",
            "\x00",
            "\u202e\u200b",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🎉",
            "x" * 100_000,
            "{{not json",
            "```json\n{}\n```",
            KEY,
        ]
    ),
)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["STOP", "SAFETY", "MAX_TOKENS", "\ud800", KEY, "1e400", "34.4s"]),
)
KEYS = st.one_of(st.sampled_from(_wire_keys()), st.text(max_size=6))
JSON = st.recursive(
    LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(value, JSON)


# Bodies close to a real answer, with odd values where the real ones go.
PART = st.fixed_dictionaries(
    {},
    optional={
        "text": _maybe(ODD_TEXT),
        "thought": _maybe(st.booleans()),
        "functionCall": _maybe(
            st.fixed_dictionaries(
                {"name": _maybe(st.text(max_size=8))}, optional={"args": JSON, "id": JSON}
            )
        ),
        "inlineData": _maybe(st.fixed_dictionaries({"mimeType": JSON, "data": JSON})),
        "thoughtSignature": JSON,
    },
)
GEMINI = st.fixed_dictionaries(
    {},
    optional={
        "candidates": _maybe(
            st.lists(
                _maybe(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "content": _maybe(
                                st.fixed_dictionaries(
                                    {},
                                    optional={
                                        "parts": _maybe(st.lists(_maybe(PART), max_size=3)),
                                        "role": JSON,
                                    },
                                )
                            ),
                            "finishReason": JSON,
                            "safetyRatings": JSON,
                            "avgLogprobs": JSON,
                        },
                    )
                ),
                max_size=2,
            )
        ),
        "promptFeedback": _maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "blockReason": JSON,
                    "blockReasonMessage": _maybe(ODD_TEXT),
                    "safetyRatings": JSON,
                },
            )
        ),
        "usageMetadata": _maybe(
            st.dictionaries(
                st.sampled_from(
                    [
                        "promptTokenCount",
                        "candidatesTokenCount",
                        "totalTokenCount",
                        "thoughtsTokenCount",
                    ]
                ),
                JSON,
            )
        ),
        "modelVersion": JSON,
    },
)
OPENAI = st.fixed_dictionaries(
    {
        "choices": _maybe(
            st.lists(
                _maybe(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "message": _maybe(
                                st.fixed_dictionaries(
                                    {},
                                    optional={
                                        "content": _maybe(ODD_TEXT),
                                        "tool_calls": _maybe(
                                            st.lists(
                                                _maybe(
                                                    st.fixed_dictionaries(
                                                        {
                                                            "function": _maybe(
                                                                st.fixed_dictionaries(
                                                                    {
                                                                        "name": JSON,
                                                                        "arguments": _maybe(
                                                                            st.sampled_from(
                                                                                [
                                                                                    "{}",
                                                                                    "{bad",
                                                                                    "[1]",
                                                                                    '{"a": 1}',
                                                                                ]
                                                                            )
                                                                        ),
                                                                    }
                                                                )
                                                            )
                                                        }
                                                    )
                                                ),
                                                max_size=2,
                                            )
                                        ),
                                    },
                                )
                            ),
                            "finish_reason": JSON,
                        },
                    )
                ),
                max_size=2,
            )
        )
    },
    optional={"usage": JSON},
)
BODIES = st.one_of(GEMINI, OPENAI, JSON)


def _check_error(exc: BaseException, *, knows_key: bool = True) -> None:
    assert isinstance(exc, SegmindError), f"{type(exc).__name__} escaped: {exc!r}"
    text = str(exc)
    assert text.strip(), "an error with no message"
    if knows_key:  # a client that holds the key masks it wherever a body echoes it
        for shown in (text, repr(exc), repr(exc.body), pickle.dumps(exc).decode("latin-1")):
            assert KEY not in shown


@_settings(400)
@given(BODIES)
def test_parser_turns_any_json_into_a_result_or_a_library_error(body: Any) -> None:
    before = copy.deepcopy(body)
    try:
        result = parse_response(body, {"x-request-id": "r1"}, status=200)
    except Exception as exc:
        _check_error(exc, knows_key=False)
    else:
        assert isinstance(result, GenerateContentResult)
        result.text.encode("utf-8")  # answers can always be encoded again
        assert all(isinstance(call.args, dict) for call in result.tool_calls)
    assert repr(body) == repr(before)  # the body was not modified


@pytest.fixture(scope="module")
def emulator() -> Any:
    with SegmindEmulator(api_key=KEY) as emu:
        yield emu


@pytest.fixture(scope="module")
def client(emulator: SegmindEmulator) -> Any:
    # A 429 surfaces at once (no waiting for a turn) so each example sees its own answer.
    with SegmindGeminiClient(
        KEY, base_url=emulator.base_url, max_retries=0, timeout=10, max_rate_limit_wait=0
    ) as c:
        yield c


STATUSES = [200, 201, 204, 400, 401, 403, 404, 405, 406, 410, 422, 429, 500, 502, 503, 504]


def _raw(body: Any) -> bytes:
    return json.dumps(body).encode()


RAW_BODIES = st.one_of(
    BODIES.map(_raw),
    st.binary(max_size=40),
    st.sampled_from(
        [b"", b"[" * 100_000, b'{"candidates": [', b"<html>502</html>", b"null", b"1e400"]
    ),
)


@_settings(150)
@given(status=st.sampled_from(STATUSES), body=RAW_BODIES)
def test_every_status_and_body_over_http_ends_in_a_result_or_a_library_error(
    emulator: SegmindEmulator, client: SegmindGeminiClient, status: int, body: bytes
) -> None:
    emulator.reset()
    forget_rate_limits()  # one example's 429 must not block the next
    emulator.queue_response(body, status=status)
    error: BaseException | None = None
    try:
        result = client.generate_content(
            {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        )
    except Exception as exc:
        error = exc
    if error is not None:
        _check_error(error)
        if status >= 400:
            assert getattr(error, "status_code", None) == status
    else:
        assert status < 300
        assert KEY not in result.text
        result.text.encode("utf-8")


# --- the adapters ----------------------------------------------------------------------------

# What callers send holds no key: the key check is about what the library adds.
IN_TEXT = ODD_TEXT.filter(lambda t: KEY not in t)
IN_JSON = st.recursive(
    LEAF.filter(lambda v: v != KEY),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


def _maybe_in(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(value, IN_JSON)


B64 = st.one_of(
    st.sampled_from(
        [
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
            "aGk=",
            "!!notbase64",
            "",
            "a",
            "JVBERi0xLjQ=",
        ]
    ),
    st.text(max_size=10),
)
MIME = st.one_of(
    st.sampled_from(
        [
            "image/png",
            "image/gif",
            "application/pdf",
            "text/html",
            "video/mp4",
            "application/x-unknown",
            "",
            "image/",
            ";;",
            "audio/wav",
        ]
    ),
    IN_JSON,
)
URL = st.sampled_from(
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "data:,hello",
        "data:text/plain;base64,@@@",
        "http://127.0.0.1:1/cat.png",
        "http://169.254.169.254/latest",
        "http://[::ffff:169.254.169.254]/",
        "file:///etc/passwd",
        "ftp://example.invalid/x",
        "not a url",
        "",
    ]
)

LC_BLOCK = st.one_of(
    IN_TEXT,
    st.fixed_dictionaries({"type": st.just("text"), "text": _maybe_in(IN_TEXT)}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["image", "file", "audio", "video"])},
        optional={
            "base64": _maybe_in(B64),
            "mime_type": MIME,
            "url": _maybe_in(URL),
            "source_type": IN_JSON,
            "data": _maybe_in(B64),
        },
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("image_url"),
            "image_url": st.one_of(URL, st.fixed_dictionaries({"url": _maybe_in(URL)}), IN_JSON),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("input_audio"),
            "input_audio": _maybe_in(
                st.fixed_dictionaries(
                    {"data": B64, "format": _maybe_in(st.sampled_from(["wav", "mp3", "exe"]))}
                )
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("file"),
            "file": _maybe_in(
                st.fixed_dictionaries(
                    {}, optional={"file_data": _maybe_in(B64), "file_id": IN_JSON}
                )
            ),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.one_of(st.text(max_size=8), IN_JSON)}, optional={"text": IN_JSON}
    ),
    st.dictionaries(KEYS, IN_JSON, max_size=3),
)
LC_CONTENT = st.one_of(IN_TEXT, st.lists(LC_BLOCK, max_size=3))
TOOL_CALL = st.fixed_dictionaries(
    {
        "name": st.text(min_size=1, max_size=8),
        "args": st.dictionaries(st.text(max_size=5), IN_JSON, max_size=3),
        "id": st.sampled_from(["c1", "c2", "orphan"]),
    }
)


@st.composite
def lc_messages(draw: st.DrawFn) -> list[Any]:
    from langchain_core.messages import (
        AIMessage,
        ChatMessage,
        HumanMessage,
        SystemMessage,
        ToolMessage,
    )

    out: list[Any] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["human", "ai", "system", "tool", "chat"]))
        content = draw(LC_CONTENT)
        if kind == "human":
            out.append(HumanMessage(content=content))
        elif kind == "ai":
            out.append(AIMessage(content=content, tool_calls=draw(st.lists(TOOL_CALL, max_size=2))))
        elif kind == "system":
            out.append(SystemMessage(content=content))
        elif kind == "tool":
            out.append(
                ToolMessage(
                    content=content,
                    tool_call_id=draw(st.sampled_from(["c1", "c2", "no-such-call"])),
                    status=draw(st.sampled_from(["success", "error"])),
                )
            )
        else:
            out.append(
                ChatMessage(
                    content=content,
                    role=draw(
                        st.sampled_from(["user", "assistant", "system", "developer", "critic", ""])
                    ),
                )
            )
    return out


@pytest.fixture(scope="module")
def lc_model(emulator: SegmindEmulator) -> Any:
    pytest.importorskip("langchain_core")
    from langchain_segmind_gemini import ChatSegmindGemini

    model = ChatSegmindGemini(
        api_key=KEY, base_url=emulator.base_url, max_retries=0, timeout=10, media_timeout=2
    )
    yield model
    model.close()


@_settings(150)
@given(messages=lc_messages(), mode=st.sampled_from(["prompt", "native"]))
def test_langchain_invoke_on_any_conversation(
    emulator: SegmindEmulator, lc_model: Any, messages: list[Any], mode: str
) -> None:
    emulator.reset()
    reply = _answer_or_library_error(lambda: lc_model.invoke(messages, tool_calling=mode), messages)
    if reply is not None:
        assert isinstance(reply.content, (str, list))


def _answer_or_library_error(call: Any, messages: list[Any]) -> Any:
    """``call()``'s answer, or ``None`` once its error passed :func:`_check_error`."""
    before = copy.deepcopy(messages)
    try:
        answer = call()
    except Exception as exc:
        _check_error(exc)
        answer = None
    assert messages == before  # the caller's messages are unchanged
    return answer


@st.composite
def li_messages(draw: st.DrawFn) -> list[Any]:
    from llama_index.core.base.llms.types import (
        AudioBlock,
        CachePoint,
        ChatMessage,
        DocumentBlock,
        ImageBlock,
        MessageRole,
        TextBlock,
        ThinkingBlock,
        ToolCallBlock,
    )

    def build(factory: Any, **kwargs: Any) -> Any:
        try:
            return factory(**kwargs)
        except Exception:  # the framework refused the value itself: use text
            return TextBlock(text=str(kwargs)[:50])

    blob = st.one_of(
        st.binary(max_size=30),
        st.sampled_from([b"\x89PNG\r\n\x1a\n" + b"\0" * 20, b"%PDF-1.4", b"GIF89a"]),
    )
    block = st.one_of(
        IN_TEXT.map(lambda t: TextBlock(text=t)),
        st.builds(
            lambda d, m: build(ImageBlock, image=d, image_mimetype=m),
            blob,
            st.one_of(st.none(), MIME.filter(lambda m: isinstance(m, str))),
        ),
        URL.map(lambda u: build(ImageBlock, url=u)),
        st.builds(
            lambda d, m: build(DocumentBlock, data=d, document_mimetype=m),
            blob,
            st.one_of(st.none(), st.sampled_from(["application/pdf", "text/html", "x/y"])),
        ),
        st.builds(
            lambda d, f: build(AudioBlock, audio=d, format=f),
            blob,
            st.one_of(st.none(), st.sampled_from(["mp3", "wav", "exe"])),
        ),
        st.builds(
            lambda c, s: build(
                ThinkingBlock, content=c, additional_information={"thought_signature": s}
            ),
            IN_TEXT,
            IN_JSON,
        ),
        st.builds(
            lambda n, a: build(ToolCallBlock, tool_name=n, tool_kwargs=a, tool_call_id="c1"),
            st.text(max_size=6),
            st.one_of(IN_JSON, st.dictionaries(st.text(max_size=4), IN_JSON)),
        ),
        st.just(CachePoint(cache_control={"type": "ephemeral"})),
    )
    out: list[Any] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        role = draw(st.sampled_from(list(MessageRole)))
        blocks = draw(st.lists(block, max_size=3))
        extra = draw(
            st.one_of(
                st.just({}),
                st.fixed_dictionaries(
                    {}, optional={"tool_call_id": IN_JSON, "tool_calls": IN_JSON, "name": IN_JSON}
                ),
            )
        )
        out.append(ChatMessage(role=role, blocks=blocks, additional_kwargs=extra))
    return out


@pytest.fixture(scope="module")
def li_llm(emulator: SegmindEmulator) -> Any:
    pytest.importorskip("llama_index.core")
    from llama_index_segmind_gemini import SegmindGemini

    llm = SegmindGemini(api_key=KEY, base_url=emulator.base_url, max_retries=0, timeout=10)
    yield llm
    llm.close()


@_settings(150)
@given(messages=li_messages(), mode=st.sampled_from(["prompt", "native"]))
def test_llama_index_chat_on_any_conversation(
    emulator: SegmindEmulator, li_llm: Any, messages: list[Any], mode: str
) -> None:
    emulator.reset()
    li_llm.tool_calling = mode
    response = _answer_or_library_error(lambda: li_llm.chat(messages), messages)
    if response is not None:
        assert isinstance(response.message.content, (str, type(None)))

"""Every Gemini setting and answer field through SegmindGemini, checked on the wire.

The emulator records each request; its answers here are scripted by the tests
(shaped like Gemini's), not Gemini's own.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from _wire_cases import PNG, RICH_ANSWER, SETTING_CASES, SETTING_IDS, at, two_candidates
from llama_index.core.base.llms.types import (
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    VideoBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.node_parser import TokenTextSplitter
from llama_index.core.tools import FunctionTool

from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini.errors import BadRequestError, InvalidRequestError
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.tokens import estimate_text_tokens, tokenize

Make = Callable[..., SegmindGemini]
HI = [ChatMessage(role="user", content="Hi")]


@pytest.mark.parametrize(("name", "value", "path", "expected"), SETTING_CASES, ids=SETTING_IDS)
@pytest.mark.parametrize("where", ["constructor", "call"])
def test_each_setting_reaches_the_request(
    make_llm: Make, emu: SegmindEmulator, where: str, name: str, value: Any,
    path: tuple[str, ...], expected: Any,
) -> None:  # fmt: skip
    if where == "constructor":
        make_llm(**{name: value}).chat(HI)
    else:
        make_llm().chat(HI, **{name: value})
    body = emu.requests[-1].messages
    assert at(body, path) == expected
    assert set(body) == {"contents", path[0]}
    if path[0] == "generationConfig":
        companions = {"logprobs": {"responseLogprobs"}}.get(name, set())
        assert set(body["generationConfig"]) == {path[1], *companions}


def test_settings_reach_completions_too(make_llm: Make, emu: SegmindEmulator) -> None:
    make_llm(thinking_level="high", labels={"a": "b"}).complete("Hi")
    body = emu.requests[-1].messages
    assert body["generationConfig"] == {"thinkingConfig": {"thinkingLevel": "HIGH"}}
    assert body["labels"] == {"a": "b"}


def test_candidate_count_keeps_the_other_answers(make_llm: Make, emu: SegmindEmulator) -> None:
    emu.queue_response(two_candidates())
    response = make_llm(candidate_count=2).chat(HI)
    assert emu.requests[-1].messages["generationConfig"] == {"candidateCount": 2}
    assert response.message.content == "first"
    assert response.additional_kwargs["other_candidates"] == ["second"]


def test_generation_config_is_merged_and_per_call_wins(
    make_llm: Make, emu: SegmindEmulator
) -> None:
    llm = make_llm(temperature=0.1, generation_config={"temperature": 0.2, "topK": 3})
    llm.chat(HI)
    assert emu.requests[-1].messages["generationConfig"] == {"temperature": 0.2, "topK": 3}
    llm.chat(HI, temperature=0.9)
    assert emu.requests[-1].messages["generationConfig"] == {"temperature": 0.9, "topK": 3}


def test_unknown_constructor_argument_is_kept_in_additional_kwargs_with_a_warning(
    emu: SegmindEmulator,
) -> None:
    with pytest.warns(UserWarning, match=r"'temprature' is not a SegmindGemini setting"):
        llm = SegmindGemini(api_key=emu.api_key, base_url=emu.base_url, temprature=0.5)
    assert llm.additional_kwargs == {"temprature": 0.5}
    # Sent, and Gemini (so the emulator) refuses the misspelt field by name.
    with pytest.raises(BadRequestError, match='Unknown name "temprature"'):
        llm.chat(HI)
    assert emu.requests[-1].messages["temprature"] == 0.5


def test_unknown_call_argument_is_sent_with_a_warning(make_llm: Make, emu: SegmindEmulator) -> None:
    with (
        pytest.warns(UserWarning, match=r"'temprature' is not a SegmindGemini setting"),
        pytest.raises(BadRequestError, match='Unknown name "temprature"'),
    ):
        make_llm().chat(HI, temprature=0.5)
    assert "generationConfig" not in emu.requests[-1].messages
    assert emu.requests[-1].messages["temprature"] == 0.5


# --------------------------------------------------------------------------- built-in tools


@pytest.mark.parametrize(
    ("tool", "entry"),
    [
        ({"google_search": {}}, {"googleSearch": {}}),
        ({"code_execution": {}}, {"codeExecution": {}}),
        ({"url_context": {}}, {"urlContext": {}}),
    ],
)
def test_built_in_tool_is_sent_in_native_mode(
    make_llm: Make, emu: SegmindEmulator, tool: dict[str, Any], entry: dict[str, Any]
) -> None:
    make_llm(tool_calling="native", built_in_tool=tool).chat(HI)
    assert emu.requests[-1].messages["tools"] == [entry]

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    make_llm(tool_calling="native").chat_with_tools([FunctionTool.from_defaults(add)], "1+2?",
                                                    built_in_tool=tool)  # fmt: skip
    tools = emu.requests[-1].messages["tools"]
    assert tools[0]["functionDeclarations"][0]["name"] == "add"
    assert tools[1] == entry


def test_built_in_tool_in_prompt_mode_is_a_clear_error(emu: SegmindEmulator) -> None:
    with pytest.raises(ValueError, match="cannot run server-side tools"):
        SegmindGemini(api_key=emu.api_key, base_url=emu.base_url, built_in_tool={"url_context": {}})
    llm = SegmindGemini(api_key=emu.api_key, base_url=emu.base_url)
    with pytest.raises(InvalidRequestError, match="tool_calling='native'"):
        llm.chat(HI, built_in_tool={"google_search": {}})


# --------------------------------------------------------------------------- media by reference


def test_gs_and_youtube_urls_are_sent_as_file_data(make_llm: Make, emu: SegmindEmulator) -> None:
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="Compare"),
            DocumentBlock(url="gs://bucket/report.pdf"),
            VideoBlock(url="https://youtu.be/abc"),
            ImageBlock(url="gs://bucket/cat.png"),
        ],
    )
    make_llm().chat([message])
    parts = emu.requests[-1].messages["contents"][0]["parts"]
    assert parts[1:] == [
        {"fileData": {"fileUri": "gs://bucket/report.pdf", "mimeType": "application/pdf"}},
        {"fileData": {"fileUri": "https://youtu.be/abc"}},
        {"fileData": {"fileUri": "gs://bucket/cat.png", "mimeType": "image/png"}},
    ]


async def test_file_references_are_not_fetched_on_the_async_path(
    make_llm: Make, emu: SegmindEmulator
) -> None:
    message = ChatMessage(role="user", blocks=[VideoBlock(url="https://www.youtube.com/watch?v=x")])
    await make_llm().achat([message])
    parts = emu.requests[-1].messages["contents"][0]["parts"]
    assert parts == [{"fileData": {"fileUri": "https://www.youtube.com/watch?v=x"}}]


# --------------------------------------------------------------------------- answer fields


def test_every_answer_field_is_surfaced(make_llm: Make, emu: SegmindEmulator) -> None:
    emu.queue_response(RICH_ANSWER)
    response = make_llm().chat(HI)
    cand = RICH_ANSWER["candidates"][0]
    kwargs = response.additional_kwargs
    assert kwargs["grounding_metadata"] == cand["groundingMetadata"]
    assert kwargs["citation_metadata"] == cand["citationMetadata"]
    assert kwargs["url_context_metadata"] == cand["urlContextMetadata"]
    assert kwargs["avg_logprobs"] == -0.25
    assert response.logprobs is not None
    assert [(p.token, p.logprob) for p in response.logprobs[0]] == [("The", -0.1), ("A", -2.5)]
    blocks = response.message.blocks
    assert [type(b).__name__ for b in blocks] == [
        "TextBlock", "TextBlock", "TextBlock", "TextBlock", "ImageBlock",
    ]  # fmt: skip
    image = blocks[-1]
    assert isinstance(image, ImageBlock) and image.image_mimetype == "image/png"
    assert image.image is not None and base64.b64decode(image.image) == PNG
    assert "print(6 * 7)" in (response.message.content or "")
    assert response.message.additional_kwargs["code_execution"] == [
        {"language": "PYTHON", "code": "print(6 * 7)", "outcome": "OUTCOME_OK", "output": "42\n"}
    ]


# --------------------------------------------------------------------------- token counting


def test_tokenizer_works_for_llama_index_counters_and_splitters(make_llm: Make) -> None:
    handler = TokenCountingHandler(tokenizer=tokenize)
    llm = make_llm(callback_manager=CallbackManager([handler]))
    llm.chat([ChatMessage(role="user", content="What is the capital of France?")])
    assert handler.prompt_llm_token_count > 0  # from the answer's usage
    assert len(tokenize("What is the capital of France?")) == 7
    splitter = TokenTextSplitter(chunk_size=20, chunk_overlap=0, tokenizer=tokenize)
    chunks = splitter.split_text("Paris is the capital of France. " * 20)
    assert len(chunks) > 3
    assert all(estimate_text_tokens(c) <= 20 for c in chunks)

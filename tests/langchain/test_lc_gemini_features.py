"""Every Gemini setting and answer field through ChatSegmindGemini, checked on the wire.

The emulator records each request, so these tests assert the exact body sent. Its
answers here are scripted by the tests (shaped like Gemini's), not Gemini's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _wire_cases import PNG_B64, RICH_ANSWER, SETTING_CASES, SETTING_IDS, at, two_candidates
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, trim_messages
from langchain_core.tools import tool

from langchain_segmind_gemini import ChatSegmindGemini
from segmind_gemini.testing import SegmindEmulator

Make = Callable[..., ChatSegmindGemini]


@pytest.mark.parametrize(("name", "value", "path", "expected"), SETTING_CASES, ids=SETTING_IDS)
@pytest.mark.parametrize("where", ["constructor", "call"])
def test_each_setting_reaches_the_request(
    make_model: Make, emu: SegmindEmulator, where: str, name: str, value: Any,
    path: tuple[str, ...], expected: Any,
) -> None:  # fmt: skip
    if where == "constructor":
        make_model(**{name: value}).invoke("Hi")
    else:
        make_model().invoke("Hi", **{name: value})
    body = emu.requests[-1].messages
    assert at(body, path) == expected
    # Only that setting was sent.
    top = path[0]
    assert set(body) == {"contents", top}
    if top == "generationConfig":
        # logprobs needs responseLogprobs too; nothing else is sent.
        companions = {"logprobs": {"responseLogprobs"}}.get(name, set())
        assert set(body["generationConfig"]) == {path[1], *companions}


def test_n_and_candidate_count_give_n_generations(make_model: Make, emu: SegmindEmulator) -> None:
    model = make_model(n=2)
    emu.queue_response(two_candidates())
    result = model.generate([[HumanMessage("Hi")]])
    assert emu.requests[-1].messages["generationConfig"] == {"candidateCount": 2}
    assert [g.text for g in result.generations[0]] == ["first", "second"]
    make_model(candidate_count=3).invoke("Hi")
    assert emu.requests[-1].messages["generationConfig"] == {"candidateCount": 3}


def test_unknown_constructor_argument_moves_to_model_kwargs_with_a_warning(
    make_model: Make, emu: SegmindEmulator
) -> None:
    with pytest.warns(UserWarning, match="'toolConfig' is not a ChatSegmindGemini setting"):
        model = make_model(toolConfig={"functionCallingConfig": {"mode": "NONE"}})
    assert model.model_kwargs == {"toolConfig": {"functionCallingConfig": {"mode": "NONE"}}}
    model.invoke("Hi")
    assert emu.requests[-1].messages["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}


def test_model_kwargs_and_generation_config_escape_hatches(
    make_model: Make, emu: SegmindEmulator
) -> None:
    model = make_model(
        temperature=0.1,
        generation_config={"temperature": 0.2, "responseModalities": ["TEXT"]},
        model_kwargs={"cachedContent": "cachedContents/a"},
    )
    model.invoke("Hi")
    body = emu.requests[-1].messages
    # Within the constructor the raw dict wins over the named field.
    assert body["generationConfig"] == {"temperature": 0.2, "responseModalities": ["TEXT"]}
    assert body["cachedContent"] == "cachedContents/a"
    # Per call beats the constructor, named or raw.
    model.invoke("Hi", temperature=0.7, model_kwargs={"cachedContent": "cachedContents/b"})
    body = emu.requests[-1].messages
    assert body["generationConfig"]["temperature"] == 0.7
    assert body["cachedContent"] == "cachedContents/b"
    model.invoke("Hi", generation_config={"topK": 2})
    assert emu.requests[-1].messages["generationConfig"]["topK"] == 2


def test_a_named_setting_inside_model_kwargs_is_refused(make_model: Make) -> None:
    with pytest.raises(ValueError, match="'temperature' is a named setting"):
        make_model(model_kwargs={"temperature": 0.5})


def test_bad_setting_value_fails_at_construction(make_model: Make) -> None:
    with pytest.raises(ValueError, match="media_resolution must be one of"):
        make_model(media_resolution="4k")


# --------------------------------------------------------------------------- built-in tools


@pytest.mark.parametrize("builtin", ["google_search", "code_execution", "url_context"])
def test_built_in_tools_are_sent_as_gemini_tools_in_native_mode(
    make_model: Make, emu: SegmindEmulator, builtin: str
) -> None:
    @tool
    def lookup(term: str) -> str:
        """Look a term up."""
        return term

    model = make_model(tool_calling="native").bind_tools([lookup, {builtin: {}}])
    model.invoke("Hi")
    tools = emu.requests[-1].messages["tools"]
    camel = {"google_search": "googleSearch", "code_execution": "codeExecution",
             "url_context": "urlContext"}[builtin]  # fmt: skip
    assert tools[0]["functionDeclarations"][0]["name"] == "lookup"
    assert tools[1] == {camel: {}}


def test_built_in_tools_in_prompt_mode_are_a_clear_error(make_model: Make) -> None:
    with pytest.raises(ModelInvalidRequestError, match="cannot run server-side tools"):
        make_model().bind_tools([{"google_search": {}}])
    bound = make_model().bind_tools([{"google_search": {}}], tool_calling="native")
    with pytest.raises(ModelInvalidRequestError, match="tool_calling='native'"):
        bound.invoke("Hi", tool_calling="prompt")


# --------------------------------------------------------------------------- media by reference


def test_gs_and_youtube_urls_are_sent_as_file_data(make_model: Make, emu: SegmindEmulator) -> None:
    make_model().invoke(
        [
            HumanMessage(
                content=[
                    {"type": "text", "text": "Compare"},
                    {"type": "file", "url": "gs://bucket/report.pdf"},
                    {"type": "video", "url": "https://www.youtube.com/watch?v=abc"},
                    {"type": "image_url", "image_url": {"url": "gs://bucket/cat.png"}},
                ]
            )
        ]
    )
    parts = emu.requests[-1].messages["contents"][0]["parts"]
    assert parts[1:] == [
        {"fileData": {"fileUri": "gs://bucket/report.pdf", "mimeType": "application/pdf"}},
        {"fileData": {"fileUri": "https://www.youtube.com/watch?v=abc"}},
        {"fileData": {"fileUri": "gs://bucket/cat.png", "mimeType": "image/png"}},
    ]


# --------------------------------------------------------------------------- answer fields


def test_every_answer_field_is_surfaced(make_model: Make, emu: SegmindEmulator) -> None:
    emu.queue_response(RICH_ANSWER)
    msg = make_model().invoke("Hi")
    meta = msg.response_metadata
    cand = RICH_ANSWER["candidates"][0]
    assert meta["grounding_metadata"] == cand["groundingMetadata"]
    assert meta["citation_metadata"] == cand["citationMetadata"]
    assert meta["url_context_metadata"] == cand["urlContextMetadata"]
    assert meta["avg_logprobs"] == -0.25
    top = [
        {"token": "The", "logprob": -0.1, "bytes": [84, 104, 101]},
        {"token": "A", "logprob": -2.5, "bytes": [65]},
    ]
    assert meta["logprobs"] == {
        "content": [{"token": "The", "logprob": -0.1, "bytes": [84, 104, 101], "top_logprobs": top}]
    }
    assert isinstance(msg.content, list)
    kinds = [b["type"] for b in msg.content if isinstance(b, dict)]
    assert kinds == ["text", "server_tool_call", "server_tool_result", "text", "image"]
    call, result, image = msg.content[1], msg.content[2], msg.content[4]
    assert isinstance(call, dict) and isinstance(result, dict) and isinstance(image, dict)
    assert call["args"] == {"code": "print(6 * 7)", "language": "PYTHON"}
    assert result["tool_call_id"] == call["id"]
    assert (result["status"], result["output"]) == ("success", "42\n")
    assert image == {"type": "image", "base64": PNG_B64, "mime_type": "image/png"}
    assert [b["type"] for b in msg.content_blocks] == kinds
    assert msg.text == "Let me compute that.The answer is 42."


def test_an_answer_with_images_goes_back_into_the_history(
    make_model: Make, emu: SegmindEmulator
) -> None:
    model = make_model()
    emu.queue_response(RICH_ANSWER)
    first = model.invoke("Draw it")
    model.invoke([HumanMessage("Draw it"), first, HumanMessage("Again")])
    parts = emu.requests[-1].messages["contents"][1]["parts"]
    assert {"inlineData": {"mimeType": "image/png", "data": PNG_B64}} in parts


# --------------------------------------------------------------------------- token counting


def test_token_counts_and_trim_messages_work_offline(make_model: Make) -> None:
    model = make_model()
    assert model.get_num_tokens("The capital of France is Paris.") == 7
    history = [
        SystemMessage("You are a helpful assistant."),
        HumanMessage("What is the capital of France?"),
        AIMessage("Paris."),
        HumanMessage("And of Spain?"),
    ]
    total = model.get_num_tokens_from_messages(history)
    assert total == sum(model.get_num_tokens(str(m.content)) for m in history) == 20
    trimmed = trim_messages(
        history, max_tokens=12, token_counter=model, strategy="last", include_system=True
    )
    assert [m.content for m in trimmed] == ["You are a helpful assistant.", "And of Spain?"]

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return city

    # Prompt mode sends tools as text in the system instruction; native as declarations.
    assert model.get_num_tokens_from_messages(history, tools=[get_weather]) > total + 50
    native = make_model(tool_calling="native")
    assert 0 < native.get_num_tokens_from_messages(history, tools=[get_weather]) - total < 30

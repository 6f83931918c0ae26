"""LangChain messages -> Gemini turns: every block form, every role sequence (no I/O)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_segmind_gemini._messages import (
    SYSTEM_NOTE_PREFIX,
    GeminiPrompt,
    MediaRef,
    convert_messages,
    resolve_media,
)
from segmind_gemini.errors import InvalidRequestError, MediaError
from segmind_gemini.wire.request import build_request

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
PNG_B64 = base64.b64encode(PNG).decode()
PDF_B64 = base64.b64encode(b"%PDF-1.7\n%fake but well-formed header\n").decode()
WAV_B64 = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 16).decode()
MP4_B64 = base64.b64encode(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom").decode()
GIF_B64 = base64.b64encode(b"GIF89a" + b"\x00" * 10).decode()


def parts_of(messages: list[BaseMessage], **kw: Any) -> list[dict[str, Any]]:
    prompt = convert_messages(messages, **kw)
    assert len(prompt.contents) == 1
    return list(prompt.contents[0]["parts"])


def inline(mime: str, data: str) -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime, "data": data}}


# --------------------------------------------------------------------------- roles


def test_plain_human_message_is_one_user_turn() -> None:
    prompt = convert_messages([HumanMessage("Hi")])
    assert prompt == GeminiPrompt([{"role": "user", "parts": [{"text": "Hi"}]}], [], 0)


def test_leading_system_messages_become_the_system_instruction() -> None:
    prompt = convert_messages(
        [
            SystemMessage("Be brief."),
            SystemMessage([{"type": "text", "text": "Use French."}]),
            HumanMessage("Hi"),
        ]
    )
    assert prompt.system == ["Be brief.", "Use French."]
    assert prompt.contents == [{"role": "user", "parts": [{"text": "Hi"}]}]
    request = build_request(prompt.contents, system=prompt.system)
    # Segmind's documented form: one part object, the texts joined by a blank line.
    assert request["system_instruction"] == {"parts": {"text": "Be brief.\n\nUse French."}}


def test_a_later_system_message_is_a_user_turn_marked_as_a_system_note() -> None:
    prompt = convert_messages(
        [
            SystemMessage("Be brief."),
            HumanMessage("Hi"),
            AIMessage("Hello!"),
            SystemMessage("From now on answer in French."),
            HumanMessage("How are you?"),
        ]
    )
    assert prompt.system == ["Be brief."]
    assert prompt.contents[2] == {
        "role": "user",
        "parts": [{"text": SYSTEM_NOTE_PREFIX + "From now on answer in French."}],
    }
    merged = build_request(prompt.contents)["contents"]
    assert [c["role"] for c in merged] == ["user", "model", "user"]
    assert merged[2]["parts"] == [
        {"text": "[System note] From now on answer in French."},
        {"text": "How are you?"},
    ]


def test_human_is_user_and_ai_is_model_and_same_role_neighbours_merge() -> None:
    prompt = convert_messages(
        [HumanMessage("a"), HumanMessage("b"), AIMessage("c"), AIMessage("d"), HumanMessage("e")]
    )
    assert [c["role"] for c in prompt.contents] == ["user", "user", "model", "model", "user"]
    merged = build_request(prompt.contents)["contents"]
    assert merged == [
        {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
        {"role": "model", "parts": [{"text": "c"}, {"text": "d"}]},
        {"role": "user", "parts": [{"text": "e"}]},
    ]


def test_empty_messages_send_no_empty_turn() -> None:
    prompt = convert_messages(
        [HumanMessage("q"), AIMessage(""), HumanMessage([]), HumanMessage("r")]
    )
    assert all(c["parts"] for c in prompt.contents)
    assert build_request(prompt.contents)["contents"] == [
        {"role": "user", "parts": [{"text": "q"}, {"text": "r"}]}
    ]


def test_chat_message_roles() -> None:
    prompt = convert_messages(
        [
            ChatMessage(role="system", content="sys"),
            ChatMessage(role="user", content="u"),
            ChatMessage(role="assistant", content="a"),
        ]
    )
    assert prompt.system == ["sys"]
    assert [c["role"] for c in prompt.contents] == ["user", "model"]
    with pytest.raises(InvalidRequestError, match=r"message 0 \(chat\): role 'critic'"):
        convert_messages([ChatMessage(role="critic", content="x")])


def test_unsupported_message_class_is_named() -> None:
    with pytest.raises(InvalidRequestError, match="message 1: RemoveMessage is not supported"):
        convert_messages([HumanMessage("x"), RemoveMessage(id="1")])


def test_only_system_messages_is_refused_before_sending() -> None:
    with pytest.raises(InvalidRequestError, match="nothing to send"):
        convert_messages([SystemMessage("Be brief.")])


def test_system_message_with_media_is_refused() -> None:
    block = {"type": "image", "base64": PNG_B64, "mime_type": "image/png"}
    with pytest.raises(InvalidRequestError, match=r"message 0 \(system\), content block 1"):
        convert_messages([SystemMessage([{"type": "text", "text": "x"}, block]), HumanMessage("y")])


def test_input_messages_are_never_mutated() -> None:
    messages: list[BaseMessage] = [
        SystemMessage("s"),
        HumanMessage(
            [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
            ]
        ),
        AIMessage(
            "",
            tool_calls=[{"name": "f", "args": {"a": [1, 2]}, "id": "c1"}],
            additional_kwargs={"thought_signatures": {"c1": "sig"}},
        ),
        ToolMessage([{"type": "text", "text": "out"}], tool_call_id="c1"),
        SystemMessage("later"),
    ]
    snapshot = copy.deepcopy(messages)
    for mode in ("prompt", "native"):
        prompt = convert_messages(messages, mode=mode)  # type: ignore[arg-type]
        build_request(prompt.contents, system=prompt.system)
    assert messages == snapshot


# --------------------------------------------------------------------------- content blocks


def test_text_blocks_and_bare_strings() -> None:
    parts = parts_of(
        [HumanMessage(["one", {"type": "text", "text": "two"}, {"type": "text", "text": ""}])]
    )
    assert parts == [{"text": "one"}, {"text": "two"}]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image_url", "image_url": f"data:image/png;base64,{PNG_B64}"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
        {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{PNG_B64}", "detail": "low"},
        },
        {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
        {"type": "image", "base64": PNG_B64},  # type sniffed from the bytes
        {"type": "image", "source_type": "base64", "data": PNG_B64, "mime_type": "image/png"},
        {"type": "image", "url": f"data:image/png;base64,{PNG_B64}"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
    ],
    ids=[
        "openai-string",
        "openai-dict",
        "openai-detail",
        "v1-base64",
        "v1-base64-sniffed",
        "v0-base64",
        "v1-data-url",
        "anthropic-source",
    ],
)
def test_image_block_forms(block: dict[str, Any]) -> None:
    assert parts_of([HumanMessage([block])]) == [inline("image/png", PNG_B64)]


@pytest.mark.parametrize(
    ("block", "mime", "data"),
    [
        (
            {"type": "file", "base64": PDF_B64, "mime_type": "application/pdf"},
            "application/pdf",
            PDF_B64,
        ),
        (
            {
                "type": "file",
                "source_type": "base64",
                "data": PDF_B64,
                "mime_type": "application/pdf",
            },
            "application/pdf",
            PDF_B64,
        ),
        (
            {
                "type": "file",
                "file": {
                    "filename": "a.pdf",
                    "file_data": f"data:application/pdf;base64,{PDF_B64}",
                },
            },
            "application/pdf",
            PDF_B64,
        ),
        (
            {"type": "file", "file": {"filename": "a.pdf", "file_data": PDF_B64}},
            "application/pdf",
            PDF_B64,
        ),
        ({"type": "audio", "base64": WAV_B64, "mime_type": "audio/wav"}, "audio/wav", WAV_B64),
        (
            {"type": "audio", "source_type": "base64", "data": WAV_B64, "mime_type": "audio/x-wav"},
            "audio/wav",
            WAV_B64,
        ),
        (
            {"type": "input_audio", "input_audio": {"data": WAV_B64, "format": "wav"}},
            "audio/wav",
            WAV_B64,
        ),
        (
            {"type": "input_audio", "input_audio": {"data": WAV_B64, "format": "mp3"}},
            "audio/mp3",
            WAV_B64,
        ),
        ({"type": "video", "base64": MP4_B64, "mime_type": "video/mp4"}, "video/mp4", MP4_B64),
        (
            {
                "type": "text-plain",
                "base64": base64.b64encode(b"notes").decode(),
                "mime_type": "text/plain",
            },
            "text/plain",
            base64.b64encode(b"notes").decode(),
        ),
    ],
    ids=[
        "v1-file-pdf",
        "v0-file-pdf",
        "openai-file-data-url",
        "openai-file-bare-base64",
        "v1-audio",
        "v0-audio-alias",
        "input-audio-wav",
        "input-audio-mp3",
        "v1-video",
        "text-plain-base64",
    ],
)
def test_document_audio_and_video_forms(block: dict[str, Any], mime: str, data: str) -> None:
    assert parts_of([HumanMessage([block])]) == [inline(mime, data)]


def test_plain_text_documents_become_text() -> None:
    parts = parts_of(
        [
            HumanMessage(
                [
                    {"type": "text-plain", "text": "chapter one", "mime_type": "text/plain"},
                    {"type": "file", "source_type": "text", "text": "chapter two"},
                    {"type": "document", "source": {"type": "text", "data": "chapter three"}},
                ]
            )
        ]
    )
    assert parts == [{"text": "chapter one"}, {"text": "chapter two"}, {"text": "chapter three"}]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image_url", "image_url": "https://example.com/cat.png"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "image", "url": "https://example.com/cat.png"},
        {"type": "image", "source_type": "url", "url": "https://example.com/cat.png"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
    ],
)
def test_http_urls_become_placeholders_to_fetch(block: dict[str, Any]) -> None:
    prompt = convert_messages([HumanMessage([{"type": "text", "text": "what?"}, block])])
    assert prompt.media_refs == 1
    ref = prompt.contents[0]["parts"][1]
    assert isinstance(ref, MediaRef)
    assert ref.url == "https://example.com/cat.png"
    assert "message 0 (human), content block 1" in ref.where
    resolved = resolve_media(prompt, lambda r: inline("image/png", PNG_B64))
    assert resolved[0]["parts"] == [{"text": "what?"}, inline("image/png", PNG_B64)]
    assert isinstance(prompt.contents[0]["parts"][1], MediaRef)  # the prompt is untouched


def test_declared_mime_type_on_a_url_block_is_normalized() -> None:
    prompt = convert_messages(
        [
            HumanMessage(
                [{"type": "file", "url": "https://x.test/a", "mime_type": "application/x-pdf"}]
            )
        ]
    )
    ref = prompt.contents[0]["parts"][0]
    assert isinstance(ref, MediaRef) and ref.mime_type == "application/pdf"


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("file:///etc/passwd", "file: is not accepted"),
        ("/etc/passwd", "a local path is not accepted"),
        ("~/secret.png", "a local path is not accepted"),
        ("ftp://example.com/a.png", "ftp: is not accepted"),
    ],
)
def test_file_paths_and_other_schemes_are_never_read(url: str, needle: str) -> None:
    with pytest.raises(InvalidRequestError, match=needle) as info:
        convert_messages([HumanMessage([{"type": "image_url", "image_url": {"url": url}}])])
    message = str(info.value)
    assert "message 0 (human), content block 0 (type 'image_url')" in message
    assert "accepted content blocks" in message


def test_unsupported_block_type_names_index_type_and_what_is_accepted() -> None:
    with pytest.raises(InvalidRequestError) as info:
        convert_messages(
            [HumanMessage("ok"), HumanMessage(["fine", {"type": "hologram", "data": "x"}])]
        )
    message = str(info.value)
    assert "message 1 (human), content block 1 (type 'hologram')" in message
    assert "unsupported content block type 'hologram'" in message
    assert "image_url" in message and "input_audio" in message


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ({"type": "image", "file_id": "file-123"}, "gives only 'file_id'"),
        ({"type": "image", "source_type": "id", "id": "file-123"}, "source_type 'id'"),
        ({"type": "file", "file": {"file_id": "file-123"}}, "need file_data"),
        ({"type": "image"}, "has no data"),
        ({"type": "image", "path": "/tmp/cat.png"}, "gives only 'path'"),
    ],
)
def test_unresolvable_media_blocks_are_refused(block: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidRequestError, match=needle):
        convert_messages([HumanMessage([block])])


def test_unsupported_mime_type_is_refused_with_location_and_accepted_types() -> None:
    with pytest.raises(MediaError) as info:
        convert_messages(
            [HumanMessage([{"type": "image", "base64": GIF_B64, "mime_type": "image/gif"}])]
        )
    message = str(info.value)
    assert message.startswith("message 0 (human), content block 0 (type 'image'):")
    assert "image/gif is not supported" in message and "image/png" in message


def test_bad_base64_is_refused_with_location() -> None:
    with pytest.raises(MediaError, match=r"content block 0 \(type 'image'\).*not valid base64"):
        convert_messages(
            [HumanMessage([{"type": "image", "base64": "@@@@", "mime_type": "image/png"}])]
        )


# --------------------------------------------------------------------------- AI messages


def test_ai_reasoning_and_tool_call_blocks_are_not_sent_back() -> None:
    v1_content: list[str | dict[str, Any]] = [
        {"type": "reasoning", "reasoning": "let me think"},
        {"type": "text", "text": "Paris."},
        {"type": "tool_call", "name": "f", "args": {}, "id": "c1"},
    ]
    prompt = convert_messages([HumanMessage("q"), AIMessage(v1_content)])
    assert prompt.contents[1] == {"role": "model", "parts": [{"text": "Paris."}]}


def test_text_thought_signature_is_echoed_on_the_answer_text() -> None:
    ai = AIMessage("Paris.", additional_kwargs={"text_thought_signature": "c2ln"})
    prompt = convert_messages([HumanMessage("q"), ai, HumanMessage("and Spain?")])
    assert prompt.contents[1]["parts"] == [{"text": "Paris.", "thoughtSignature": "c2ln"}]


def test_unknown_block_in_an_ai_message_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match=r"message 1 \(ai\), content block 0"):
        convert_messages([HumanMessage("q"), AIMessage([{"type": "hologram"}])])


# --------------------------------------------------------------------------- tools

HISTORY: list[BaseMessage] = [
    HumanMessage("Weather in Oslo and Paris?"),
    AIMessage(
        "Checking both.",
        tool_calls=[
            {"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"},
            {"name": "get_weather", "args": {"city": "Paris"}, "id": "c2"},
        ],
        additional_kwargs={"thought_signatures": {"c1": "U0lH"}},
    ),
    ToolMessage("12C, rain", tool_call_id="c1"),
    ToolMessage("boom: upstream down", tool_call_id="c2", status="error"),
]


def test_prompt_mode_renders_calls_as_protocol_json_and_results_as_one_user_turn() -> None:
    prompt = convert_messages(HISTORY, mode="prompt")
    assert [c["role"] for c in prompt.contents] == ["user", "model", "user"]
    model_text = prompt.contents[1]["parts"][0]["text"]
    assert model_text.startswith("Checking both.")
    payload = json.loads(model_text[model_text.index("{") :])
    assert payload == {
        "tool_calls": [
            {"id": "c1", "name": "get_weather", "arguments": {"city": "Oslo"}},
            {"id": "c2", "name": "get_weather", "arguments": {"city": "Paris"}},
        ]
    }
    results = prompt.contents[2]["parts"]
    assert len(results) == 1
    text = results[0]["text"]
    assert '<tool_result name="get_weather" call_id="c1">\n12C, rain' in text
    assert '<tool_result name="get_weather" call_id="c2" error="true">' in text


def test_native_mode_uses_function_parts_and_echoes_thought_signatures() -> None:
    prompt = convert_messages(HISTORY, mode="native")
    model_parts = prompt.contents[1]["parts"]
    assert model_parts == [
        {"text": "Checking both."},
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"},
            "thoughtSignature": "U0lH",
        },
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "c2"}},
    ]
    assert prompt.contents[2] == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "name": "get_weather",
                    "id": "c1",
                    "response": {"result": "12C, rain"},
                }
            },
            {
                "functionResponse": {
                    "name": "get_weather",
                    "id": "c2",
                    "response": {"error": "boom: upstream down"},
                }
            },
        ],
    }


def test_tool_message_name_comes_from_the_call_it_answers() -> None:
    messages: list[BaseMessage] = [
        HumanMessage("q"),
        AIMessage("", tool_calls=[{"name": "lookup", "args": {}, "id": "x1"}]),
        ToolMessage("found", tool_call_id="x1", name="ignored-name"),
    ]
    prompt = convert_messages(messages, mode="native")
    assert prompt.contents[2]["parts"][0]["functionResponse"]["name"] == "lookup"


def test_tool_message_with_an_image_sends_the_image_after_the_result() -> None:
    messages: list[BaseMessage] = [
        HumanMessage("Draw"),
        AIMessage("", tool_calls=[{"name": "render", "args": {}, "id": "r1"}]),
        ToolMessage(
            [
                {"type": "text", "text": "rendered"},
                {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
            ],
            tool_call_id="r1",
        ),
    ]
    parts = convert_messages(messages, mode="native").contents[2]["parts"]
    assert parts[0]["functionResponse"]["response"] == {"result": "rendered"}
    assert parts[1] == inline("image/png", PNG_B64)


def test_tool_message_with_data_blocks_sends_them_as_json() -> None:
    messages: list[BaseMessage] = [
        HumanMessage("q"),
        AIMessage("", tool_calls=[{"name": "rows", "args": {}, "id": "r1"}]),
        ToolMessage([{"id": 1, "city": "Oslo"}], tool_call_id="r1"),  # type: ignore[list-item]
    ]
    text = convert_messages(messages, mode="prompt").contents[2]["parts"][0]["text"]
    assert '[{"id": 1, "city": "Oslo"}]' in text


def test_tool_calls_without_ids_still_render() -> None:
    ai = AIMessage("", tool_calls=[{"name": "now", "args": {}, "id": None}])
    prompt = convert_messages([HumanMessage("time?"), ai], mode="native")
    assert prompt.contents[1]["parts"] == [{"functionCall": {"name": "now", "args": {}}}]

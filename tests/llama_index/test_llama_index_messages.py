"""Unit tests: LlamaIndex ChatMessages -> Gemini contents (no network)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    CitableBlock,
    CitationBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)

from llama_index_segmind_gemini._messages import (
    MediaRef,
    convert_messages,
    media_urls,
    tool_calls_of,
)
from segmind_gemini.errors import InvalidRequestError, MediaError
from segmind_gemini.wire.request import build_request

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
GIF = b"GIF89a" + b"\x00" * 40
PDF = b"%PDF-1.4\n%fake test document\n" + b"0" * 40
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 40


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def inline(part: dict[str, Any]) -> tuple[str, bytes]:
    blob = part["inlineData"]
    return blob["mimeType"], base64.b64decode(blob["data"])


# --------------------------------------------------------------------------- roles


def test_roles_map_to_gemini_roles_and_system_instruction() -> None:
    conv = convert_messages(
        [
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="developer", content="Use metric units."),
            ChatMessage(role="user", content="Hi"),
            ChatMessage(role="assistant", content="Hello"),
            ChatMessage(role="model", content="again"),
            ChatMessage(role="chatbot", content="and again"),
            ChatMessage(role="user", content="Bye"),
        ]
    )
    assert conv.system == ["Be brief.", "Use metric units."]
    assert [c["role"] for c in conv.contents] == ["user", "model", "model", "model", "user"]


def test_same_role_neighbours_are_merged_by_build_request() -> None:
    conv = convert_messages(
        [
            ChatMessage(role="user", content="one"),
            ChatMessage(role="user", content="two"),
            ChatMessage(role="assistant", content="three"),
        ]
    )
    request = build_request(conv.contents)
    assert request["contents"] == [
        {"role": "user", "parts": [{"text": "one"}, {"text": "two"}]},
        {"role": "model", "parts": [{"text": "three"}]},
    ]


def test_empty_text_blocks_are_dropped() -> None:
    conv = convert_messages(
        [ChatMessage(role="user", blocks=[TextBlock(text=""), TextBlock(text="x")])]
    )
    assert conv.contents == [{"role": "user", "parts": [{"text": "x"}]}]


def test_system_message_with_media_is_refused_naming_the_block() -> None:
    with pytest.raises(InvalidRequestError, match=r"messages\[0\]\.blocks\[1\] \(ImageBlock\)"):
        convert_messages(
            [ChatMessage(role="system", blocks=[TextBlock(text="s"), ImageBlock(image=PNG)])]
        )


def test_conversion_does_not_mutate_the_callers_messages() -> None:
    messages = [
        ChatMessage(role="system", content="sys"),
        ChatMessage(role="user", blocks=[TextBlock(text="look"), ImageBlock(image=PNG)]),
        ChatMessage(
            role="assistant",
            blocks=[ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs={"a": 1})],
        ),
        ChatMessage(role="tool", content="2", additional_kwargs={"tool_call_id": "c1"}),
    ]
    before = [m.model_dump() for m in messages]
    convert_messages(messages)
    convert_messages(messages, mode="native")
    assert [m.model_dump() for m in messages] == before


# --------------------------------------------------------------------------- media


def test_image_block_bytes_become_inline_data() -> None:
    conv = convert_messages(
        [ChatMessage(role="user", blocks=[TextBlock(text="What is it?"), ImageBlock(image=PNG)])]
    )
    parts = conv.contents[0]["parts"]
    assert parts[0] == {"text": "What is it?"}
    assert inline(parts[1]) == ("image/png", PNG)


def test_image_block_stores_base64_and_is_not_encoded_twice() -> None:
    block = ImageBlock(image=JPEG)
    # llama-index 0.14 keeps the bytes as base64 after validation.
    assert block.image == base64.b64encode(JPEG)
    part = convert_messages([ChatMessage(role="user", blocks=[block])]).contents[0]["parts"][0]
    assert inline(part) == ("image/jpeg", JPEG)


def test_image_block_declared_jpg_is_normalised() -> None:
    block = ImageBlock(image=JPEG, image_mimetype="image/jpg")
    part = convert_messages([ChatMessage(role="user", blocks=[block])]).contents[0]["parts"][0]
    assert part["inlineData"]["mimeType"] == "image/jpeg"


def test_image_block_from_path(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    part = convert_messages([ChatMessage(role="user", blocks=[ImageBlock(path=path)])]).contents[0][
        "parts"
    ][0]
    assert inline(part) == ("image/png", PNG)


def test_image_block_from_stream_keeps_the_stream_position() -> None:
    stream = io.BytesIO(PNG)
    stream.seek(5)
    block = ImageBlock(image=stream, image_mimetype="image/png")
    part = convert_messages([ChatMessage(role="user", blocks=[block])]).contents[0]["parts"][0]
    assert inline(part) == ("image/png", PNG)
    assert stream.tell() == 5


def test_image_data_url_needs_no_loader() -> None:
    block = ImageBlock(url=f"data:image/png;base64,{b64(PNG)}")
    part = convert_messages([ChatMessage(role="user", blocks=[block])], load_url=None).contents[0][
        "parts"
    ][0]
    assert inline(part) == ("image/png", PNG)


def test_image_url_goes_through_the_loader_with_declared_type() -> None:
    seen: list[tuple[str, str | None]] = []

    def loader(url: str, mime: str | None) -> dict[str, Any]:
        seen.append((url, mime))
        return {"inlineData": {"mimeType": "image/png", "data": b64(PNG)}}

    block = ImageBlock(url="https://example.com/cat.png")
    conv = convert_messages([ChatMessage(role="user", blocks=[block])], load_url=loader)
    assert seen == [("https://example.com/cat.png", "image/png")]
    assert inline(conv.contents[0]["parts"][0]) == ("image/png", PNG)


def test_media_urls_lists_only_blocks_that_need_a_fetch(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(PNG)
    messages = [
        ChatMessage(
            role="user",
            blocks=[
                ImageBlock(url="https://example.com/a.png"),
                ImageBlock(image=PNG),
                ImageBlock(path=path),
                DocumentBlock(url="https://example.com/r.pdf"),
                CitableBlock(
                    title="t", source="s", content=[ImageBlock(url="https://example.com/b.jpg")]
                ),
            ],
        )
    ]
    refs = media_urls(messages)
    assert refs == [
        MediaRef("https://example.com/a.png", "image/png"),
        MediaRef("https://example.com/r.pdf", "application/pdf"),
        MediaRef("https://example.com/b.jpg", "image/jpeg"),
    ]
    assert [r.where for r in refs] == [
        "messages[0].blocks[0] (ImageBlock)",
        "messages[0].blocks[3] (DocumentBlock)",
        "messages[0].blocks[4] (ImageBlock)",
    ]


def test_unsupported_image_type_raises_before_sending_naming_index_and_accepted() -> None:
    messages = [
        ChatMessage(role="user", content="first"),
        ChatMessage(role="user", blocks=[TextBlock(text="x"), ImageBlock(image=GIF)]),
    ]
    with pytest.raises(MediaError) as info:
        convert_messages(messages)
    text = str(info.value)
    assert "messages[1].blocks[1] (ImageBlock)" in text
    assert "image/gif" in text
    assert "image/png" in text  # the accepted types are listed


def test_document_block_pdf() -> None:
    block = DocumentBlock(data=PDF)
    assert block.document_mimetype == "application/pdf"
    part = convert_messages([ChatMessage(role="user", blocks=[block])]).contents[0]["parts"][0]
    assert inline(part) == ("application/pdf", PDF)


def test_document_block_unsupported_type_is_refused() -> None:
    block = DocumentBlock(data=b"PK\x03\x04 a docx", document_mimetype="application/msword")
    with pytest.raises(MediaError, match=r"messages\[0\]\.blocks\[0\] \(DocumentBlock\)"):
        convert_messages([ChatMessage(role="user", blocks=[block])])


def test_audio_block_format_extension_maps_to_mime() -> None:
    block = AudioBlock(audio=WAV, format="wav")
    part = convert_messages([ChatMessage(role="user", blocks=[block])]).contents[0]["parts"][0]
    assert inline(part) == ("audio/wav", WAV)


def test_video_block_with_fps_sets_video_metadata() -> None:
    block = VideoBlock(video=MP4, video_mimetype="video/mp4", fps=2)
    part = convert_messages([ChatMessage(role="user", blocks=[block])]).contents[0]["parts"][0]
    assert inline(part) == ("video/mp4", MP4)
    assert part["videoMetadata"] == {"fps": 2}


def test_missing_file_raises_media_error_with_location(tmp_path: Path) -> None:
    block = ImageBlock.model_construct(path=tmp_path / "nope.png", image=None, url=None)
    with pytest.raises(MediaError, match=r"messages\[0\]\.blocks\[0\] \(ImageBlock\): cannot read"):
        convert_messages([ChatMessage(role="user", blocks=[block])])


def test_citable_block_is_flattened_with_its_source() -> None:
    block = CitableBlock(title="Guide", source="https://docs/guide", content="Step one.")
    parts = convert_messages([ChatMessage(role="user", blocks=[block])]).contents[0]["parts"]
    assert parts == [{"text": "[Source: Guide (https://docs/guide)]"}, {"text": "Step one."}]


def test_cache_points_and_citations_are_skipped() -> None:
    blocks = [
        TextBlock(text="a"),
        CachePoint(cache_control=CacheControl(type="ephemeral")),
        CitationBlock(cited_content="quoted", source="s", title="t", additional_location_info={}),
    ]
    conv = convert_messages([ChatMessage(role="assistant", blocks=blocks)])
    assert conv.contents == [{"role": "model", "parts": [{"text": "a"}]}]


def test_tool_call_block_in_a_user_message_is_refused() -> None:
    block = ToolCallBlock(tool_name="add", tool_kwargs={})
    with pytest.raises(InvalidRequestError, match=r"ToolCallBlock belongs in an assistant"):
        convert_messages([ChatMessage(role="user", blocks=[block])])


# --------------------------------------------------------------------------- thinking


def test_thinking_without_signature_is_dropped_with_signature_echoed() -> None:
    plain = ChatMessage(
        role="assistant", blocks=[ThinkingBlock(content="hmm"), TextBlock(text="4")]
    )
    signed = ChatMessage(
        role="assistant",
        blocks=[
            ThinkingBlock(content="hmm", additional_information={"thought_signature": "sig1"}),
            TextBlock(text="4"),
        ],
    )
    assert convert_messages([plain]).contents[0]["parts"] == [{"text": "4"}]
    assert convert_messages([signed]).contents[0]["parts"] == [
        {"text": "hmm", "thought": True, "thoughtSignature": "sig1"},
        {"text": "4"},
    ]


# --------------------------------------------------------------------------- tools


def _tool_history(**tool_kwargs: Any) -> list[ChatMessage]:
    return [
        ChatMessage(role="user", content="2+3 and 4+5?"),
        ChatMessage(
            role="assistant",
            blocks=[
                TextBlock(text="Adding."),
                ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs={"a": 2, "b": 3}),
                ToolCallBlock(tool_call_id="c2", tool_name="add", tool_kwargs='{"a": 4, "b": 5}'),
            ],
        ),
        ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": "c1"}),
        ChatMessage(
            role="tool", content="9", additional_kwargs={"tool_call_id": "c2", **tool_kwargs}
        ),
    ]


def test_prompt_mode_renders_calls_as_protocol_json_and_results_by_name() -> None:
    conv = convert_messages(_tool_history(), mode="prompt")
    contents = build_request(conv.contents)["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    model_text = contents[1]["parts"][0]["text"]
    assert model_text.startswith("Adding.")
    payload = json.loads(model_text[model_text.index("{") :])
    assert payload == {
        "tool_calls": [
            {"id": "c1", "name": "add", "arguments": {"a": 2, "b": 3}},
            {"id": "c2", "name": "add", "arguments": {"a": 4, "b": 5}},
        ]
    }
    results = contents[2]["parts"][0]["text"]
    # Tool messages carry only the id: the name comes from the earlier call.
    assert '<tool_result name="add" call_id="c1">\n5\n</tool_result>' in results
    assert '<tool_result name="add" call_id="c2">\n9\n</tool_result>' in results
    assert len(contents[2]["parts"]) == 1  # consecutive results share one turn


def test_native_mode_uses_function_call_and_response_parts() -> None:
    conv = convert_messages(_tool_history(), mode="native")
    contents = build_request(conv.contents)["contents"]
    model_parts = contents[1]["parts"]
    assert model_parts[0] == {"text": "Adding."}
    assert model_parts[1]["functionCall"] == {"name": "add", "args": {"a": 2, "b": 3}, "id": "c1"}
    responses = [p["functionResponse"] for p in contents[2]["parts"]]
    assert [(r["name"], r["id"]) for r in responses] == [("add", "c1"), ("add", "c2")]


def test_native_mode_echoes_thought_signatures_on_the_call_part() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs={})],
        additional_kwargs={"thought_signatures": {"c1": "sig-c1"}},
    )
    part = convert_messages([message], mode="native").contents[0]["parts"][0]
    assert part["thoughtSignature"] == "sig-c1"


def test_tool_error_flag_and_unknown_call_id() -> None:
    messages = [
        ChatMessage(role="user", content="go"),
        ChatMessage(
            role="tool", content="boom", additional_kwargs={"tool_call_id": "x", "is_error": True}
        ),
    ]
    text = convert_messages(messages).contents[1]["parts"][0]["text"]
    assert 'name="tool" call_id="x" error="true"' in text


def test_tool_message_media_goes_in_the_results_turn() -> None:
    messages = [
        ChatMessage(
            role="assistant",
            blocks=[ToolCallBlock(tool_call_id="c1", tool_name="snap", tool_kwargs={})],
        ),
        ChatMessage(
            role="tool",
            blocks=[TextBlock(text="here"), ImageBlock(image=PNG)],
            additional_kwargs={"tool_call_id": "c1"},
        ),
    ]
    contents = build_request(convert_messages(messages).contents)["contents"]
    assert contents[1]["role"] == "user"
    assert '<tool_result name="snap" call_id="c1">\nhere\n' in contents[1]["parts"][0]["text"]
    assert inline(contents[1]["parts"][1]) == ("image/png", PNG)


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "c9", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}},
        {"id": "c9", "name": "add", "input": {"a": 1}},
        {"tool_id": "c9", "tool_name": "add", "tool_kwargs": {"a": 1}},
    ],
    ids=["openai", "anthropic", "tool-selection"],
)
def test_legacy_additional_kwargs_tool_calls_are_read(entry: dict[str, Any]) -> None:
    message = ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [entry]})
    [call] = tool_calls_of(message)
    assert (call.id, call.name, call.args) == ("c9", "add", {"a": 1})


def test_tool_calls_in_blocks_and_kwargs_are_not_doubled() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs={"a": 1})],
        additional_kwargs={
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
            ]
        },
    )
    assert len(tool_calls_of(message)) == 1


def test_unknown_role_is_refused() -> None:
    message = ChatMessage.model_construct(
        role=MessageRole.FUNCTION, blocks=[TextBlock(text="x")], additional_kwargs={}
    )
    # Only a message built without validation can hold a role outside MessageRole.
    object.__setattr__(message, "role", "narrator")
    with pytest.raises(InvalidRequestError, match="'narrator'; accepted roles"):
        convert_messages([message])


@pytest.mark.parametrize(
    ("detail", "level"),
    [("low", "MEDIA_RESOLUTION_LOW"), ("high", "MEDIA_RESOLUTION_HIGH"), ("auto", None)],
)
def test_image_block_detail_sets_that_parts_media_resolution(
    detail: str, level: str | None
) -> None:
    conv = convert_messages(
        [ChatMessage(role="user", blocks=[ImageBlock(image=PNG, detail=detail)])]
    )
    part = conv.contents[0]["parts"][0]
    assert inline(part) == ("image/png", PNG)
    if level is None:  # "auto" leaves the choice to Gemini
        assert "mediaResolution" not in part
    else:
        assert part["mediaResolution"] == {"level": level}

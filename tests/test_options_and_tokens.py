"""The core's settings builder, built-in tools, file references and token estimates."""

from __future__ import annotations

import io
import json
import math
import struct
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmind_gemini.errors import InvalidRequestError, MediaError
from segmind_gemini.media.file_refs import file_data_part
from segmind_gemini.planning.options import layered_settings, settings_fields
from segmind_gemini.testing.samples import tiny_pdf, tiny_png
from segmind_gemini.tokens import (
    audio_tokens,
    count_part_tokens,
    count_request_tokens,
    count_tools_tokens,
    estimate_text_tokens,
    image_size,
    image_tokens,
    media_duration,
    pdf_page_count,
    tokenize,
    video_tokens,
)
from segmind_gemini.tools.builtin import apply_builtin_tools, builtin_tool
from segmind_gemini.wire.request import build_request

DATA = Path(__file__).parent / "data" / "gemini_token_counts.json"

# --------------------------------------------------------------------------- settings


def test_nothing_set_sends_nothing() -> None:
    assert settings_fields({name: None for name in ("temperature", "labels", "seed")}) == {}
    assert build_request([{"role": "user", "parts": [{"text": "Hi"}]}], settings={}) == {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}]
    }


def test_logprobs_true_is_langchain_openais_spelling_of_response_logprobs() -> None:
    assert settings_fields({"logprobs": True}) == {"generationConfig": {"responseLogprobs": True}}
    assert settings_fields({"logprobs": 2}) == {
        "generationConfig": {"logprobs": 2, "responseLogprobs": True}
    }


def test_per_call_beats_constructor_and_dicts_beat_named_fields_within_a_level() -> None:
    body = layered_settings(
        {"temperature": 0.1, "top_k": 4, "generation_config": {"temperature": 0.2, "topP": 0.5}},
        {
            "temperature": 0.9,
            "generation_config": {"topK": 9},
            "model_kwargs": {"cachedContent": "c1"},
        },
    )
    assert body["generationConfig"] == {"temperature": 0.9, "topK": 9, "topP": 0.5}
    assert body["cachedContent"] == "c1"
    # Within one level the raw dict wins over the named field.
    assert layered_settings({"temperature": 0.1, "generation_config": {"temperature": 0.2}}) == {
        "generationConfig": {"temperature": 0.2}
    }
    # model_kwargs is merged last, key by key into nested dicts.
    merged = layered_settings(
        {"thinking_budget": 0, "model_kwargs": {"generationConfig": {"thinkingConfig": {"x": 1}}}}
    )
    assert merged["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0, "x": 1}


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"media_resolution": "huge"}, "media_resolution must be one of"),
        ({"thinking_level": "maximal"}, "thinking_level must be one of"),
        ({"candidate_count": 0}, "candidate_count must be an integer from 1 to 8"),
        ({"safety_settings": [{"category": "X"}]}, r"safety_settings\[0\]"),
        ({"model_kwargs": {"temperature": 1}}, "'temperature' is a named setting"),
        ({"model_kwargs": {"contents": []}}, "may not set 'contents'"),
        ({"generation_config": "hot"}, "generation_config must be a dict"),
        # Not sent as "5": a number where a stop sequence belongs is a mistake to name.
        ({"stop": ["END", 5]}, r"stop_sequences\[1\] must be a string, got 5"),
        ({"response_modalities": ["TEXT", None]}, r"response_modalities\[1\] must be a string"),
    ],
)
def test_bad_settings_are_refused_before_sending(values: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        layered_settings(values)


# --------------------------------------------------------------------------- built-in tools


def test_built_in_tools_take_either_spelling_and_go_after_function_declarations() -> None:
    assert builtin_tool({"url_context": {}}) == {"urlContext": {}}
    assert builtin_tool({"googleSearch": {}}) == {"googleSearch": {}}
    assert builtin_tool({"name": "f", "parameters": {}}) is None
    request = apply_builtin_tools(
        {"contents": [], "tools": [{"functionDeclarations": [{"name": "f"}]}]},
        [{"google_search": {}}],
        mode="native",
    )
    assert request["tools"] == [{"functionDeclarations": [{"name": "f"}]}, {"googleSearch": {}}]


def test_built_in_tools_in_prompt_mode_say_why_and_what_to_do() -> None:
    with pytest.raises(InvalidRequestError, match="cannot run server-side tools") as info:
        apply_builtin_tools({"contents": []}, [{"code_execution": {}}], mode="prompt")
    assert "tool_calling='native'" in str(info.value)


# --------------------------------------------------------------------------- file references


def test_gs_and_youtube_urls_become_file_data_and_others_do_not() -> None:
    assert file_data_part("gs://bucket/report.pdf") == {
        "fileData": {"fileUri": "gs://bucket/report.pdf", "mimeType": "application/pdf"}
    }
    assert file_data_part("https://m.youtube.com/watch?v=abc") == {
        "fileData": {"fileUri": "https://m.youtube.com/watch?v=abc"}
    }
    assert file_data_part("https://example.com/watch?v=abc") is None
    with pytest.raises(MediaError, match="give mime_type"):
        file_data_part("gs://bucket/blob")


# --------------------------------------------------------------------------- text estimates


def _estimate(sample: dict[str, Any]) -> int:
    if sample["field"] == "candidatesTokenCount":
        return estimate_text_tokens(sample["text"])
    return count_request_tokens(sample["request"], model=sample["model"])


def test_text_estimates_match_recorded_gemini_counts() -> None:
    # Real counts from recorded exchanges (see the data file's sources); the error
    # bounds here are the ones the tokens module documents.
    samples = json.loads(DATA.read_text())["samples"]
    text = [s for s in samples if "tools" not in s.get("request", {})]
    errors = [(_estimate(s) - s["count"]) / s["count"] for s in text]
    assert len(text) == 12
    assert sum(abs(e) for e in errors) / len(errors) <= 0.05
    assert max(abs(e) for e in errors) <= 0.23
    longest = max(text, key=lambda s: s["count"])
    assert longest["count"] == 736
    assert abs(_estimate(longest) - 736) / 736 <= 0.02


def test_prompts_with_native_tools_are_within_the_documented_band() -> None:
    samples = json.loads(DATA.read_text())["samples"]
    with_tools = [s for s in samples if "tools" in s.get("request", {})]
    assert len(with_tools) == 3
    for sample in with_tools:
        assert abs(_estimate(sample) - sample["count"]) / sample["count"] <= 0.25
    tools = with_tools[0]["request"]["tools"]
    assert count_tools_tokens(tools) > count_tools_tokens(with_tools[1]["request"]["tools"])
    assert count_tools_tokens([{"googleSearch": {}}]) == 0


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.text(max_size=200))
def test_tokenize_returns_as_many_pieces_as_the_estimate(text: str) -> None:
    pieces = tokenize(text)
    assert len(pieces) == estimate_text_tokens(text)
    assert all(pieces)


def test_token_counting_imports_no_tokenizer_package() -> None:
    code = (
        "import sys; from langchain_segmind_gemini import ChatSegmindGemini;"
        "from langchain_core.messages import HumanMessage;"
        "m = ChatSegmindGemini(api_key='fake-key');"
        "print(m.get_num_tokens_from_messages([HumanMessage('Hi there')]));"
        "print(any(n.split('.')[0] in ('transformers', 'tiktoken') for n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False"]


# --------------------------------------------------------------------------- media rules


def _inline(data: bytes, mime: str) -> dict[str, Any]:
    import base64

    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}


def test_images_by_size_and_model() -> None:
    assert image_size(tiny_png(300, 200)) == (300, 200)
    assert count_part_tokens(_inline(tiny_png(384, 384), "image/png")) == 258
    # 1000 x 800 px: 2 x 2 tiles of 768 px.
    assert count_part_tokens(_inline(tiny_png(1000, 800), "image/png")) == 4 * 258
    assert image_tokens(100, 100, media_resolution="low") == 64
    assert image_tokens(100, 100, model="gemini-3-flash") == 1120
    assert image_tokens(4000, 4000, model="gemini-3-pro", media_resolution="low") == 280
    assert image_tokens(None, None, model="gemini-3.1-pro", media_resolution="medium") == 560


def test_jpeg_and_webp_headers() -> None:
    # SOI, an APP0 segment, then SOF0 with height 480 and width 640.
    jpeg = (
        b"\xff\xd8" + b"\xff\xe0\x00\x04ab" + b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", 480, 640)
    )
    assert image_size(jpeg + b"\x00" * 20) == (640, 480)
    vp8x = b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00" * 8 + (799).to_bytes(3, "little")
    assert image_size(vp8x + (599).to_bytes(3, "little")) == (800, 600)


def test_pdf_pages() -> None:
    assert pdf_page_count(tiny_pdf()) == 1
    three = b"%PDF-1.4 /Type /Pages /Count 3 " + b"/Type /Page " * 3
    assert pdf_page_count(three) == 3
    assert count_part_tokens(_inline(three, "application/pdf")) == 3 * 258
    assert count_part_tokens(_inline(three, "application/pdf"), model="gemini-3-pro") == 3 * 560


def _wav(seconds: float, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(rate * seconds))
    return buf.getvalue()


def _mp4(seconds: int, timescale: int = 1000) -> bytes:
    mvhd_body = b"\x00" * 4 + b"\x00" * 8 + struct.pack(">II", timescale, seconds * timescale)
    mvhd = struct.pack(">I", 8 + len(mvhd_body)) + b"mvhd" + mvhd_body + b"\x00" * 80
    mvhd = struct.pack(">I", len(mvhd)) + mvhd[4:]
    moov = struct.pack(">I", 8 + len(mvhd)) + b"moov" + mvhd
    ftyp = struct.pack(">I", 16) + b"ftypisom" + b"\x00" * 4
    return ftyp + moov


def test_audio_by_duration() -> None:
    wav = _wav(2.5)
    assert media_duration(wav, "audio/wav") == pytest.approx(2.5)
    assert count_part_tokens(_inline(wav, "audio/wav")) == 80  # 2.5 s x 32
    # No readable header: estimated from the size at 128 kbit/s (16 000 bytes a second).
    assert count_part_tokens(_inline(b"\x01" * 32_000, "audio/mp3")) == audio_tokens(2) == 64


def test_video_by_duration_and_model() -> None:
    mp4 = _mp4(10)
    assert media_duration(mp4, "video/mp4") == 10
    assert count_part_tokens(_inline(mp4, "video/mp4")) == 2630  # 263 per second
    assert count_part_tokens(_inline(mp4, "video/mp4"), model="gemini-3-pro") == 10 * (70 + 32)
    assert video_tokens(10, model="gemini-3-pro", media_resolution="high") == 10 * (280 + 32)
    assert video_tokens(10, media_resolution="low") == 10 * (64 + 32)


def test_media_resolution_in_the_request_is_honoured() -> None:
    request = {
        "contents": [{"role": "user", "parts": [_inline(tiny_png(1000, 1000), "image/png")]}],
        "generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_LOW"},
    }
    assert count_request_tokens(request) == 64
    assert count_request_tokens({"messages": request}, model="gemini-3-flash") == 280
    file_ref = {"fileData": {"fileUri": "gs://b/c.png", "mimeType": "image/png"}}
    assert count_part_tokens(file_ref) == 258
    assert count_part_tokens({"fileData": {"fileUri": "https://youtu.be/x"}}) == 0
    assert math.isclose(count_part_tokens({"text": "Hello!"}), 2)


def test_settings_of_reads_each_class_own_spelling_and_current_values() -> None:
    # The spelling a class uses is worked out once per class: two classes that spell
    # the same setting differently must each be read by their own field, and a value
    # assigned later must be seen on the next read.
    from pydantic import BaseModel

    from segmind_gemini.planning.options import settings_of

    class ByAlias(BaseModel):
        max_tokens: int | None = None

    class ByName(BaseModel):
        max_output_tokens: int | None = None
        temperature: float | None = None

    first = ByAlias(max_tokens=5)
    assert settings_of(first)["max_output_tokens"] == 5
    assert settings_of(ByName(max_output_tokens=7))["max_output_tokens"] == 7
    first.max_tokens = 9
    assert settings_of(first)["max_output_tokens"] == 9
    assert settings_of(ByAlias())["max_output_tokens"] is None

    class Plain:  # not a pydantic model: read afresh every time
        def __init__(self) -> None:
            self.temperature = 0.5

    plain = Plain()
    assert settings_of(plain)["temperature"] == 0.5
    plain.max_tokens = 3  # type: ignore[attr-defined]
    assert settings_of(plain)["max_output_tokens"] == 3

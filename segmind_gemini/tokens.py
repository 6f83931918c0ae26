"""Offline token estimates for Gemini requests: text, media and tool schemas.

No tokenizer download and no network: text goes through a small estimator,
media through Gemini's published per-model rules.

    >>> estimate_text_tokens("The capital of France is Paris.")
    7
    >>> image_tokens(1024, 768)                         # Gemini 2.x: 768 px tiles
    516
    >>> image_tokens(1024, 768, model="gemini-3-pro")   # Gemini 3: media_resolution, default high
    1120
    >>> count_request_tokens({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]})
    1

**Text.** Words of up to 8 letters count 1, longer ones ``ceil(len / 5)``; each digit
counts 1 (Gemini's vocabulary splits numbers into digits); a run of punctuation
counts ``ceil(len / 3)``; a line break or a run of spaces counts 1; other scripts
count about 1 per character (CJK) or ``ceil(len / 3)`` per word. The rule was
calibrated against real ``promptTokenCount`` / ``candidatesTokenCount`` values
from 12 recorded text exchanges in pydantic-ai's public test cassettes
(gemini-2.0-flash, 2.5-flash, 2.5-pro, 3-pro-preview; 5 to 736 tokens; the
samples ship in ``tests/data/gemini_token_counts.json``). Measured there: mean
absolute error 4 %, the 736-token Markdown answer within 2 % (750), the worst
case -22 % (7 for a 9-token prompt). English prose and JSON only: other languages
and code were not in the sample, so expect larger errors there.

**Tool schemas.** Each function declaration counts 10 plus a fifth of its compact
JSON's estimate. The three recorded prompts with native tools (29 to 69 tokens)
came out at -10 %, +7 % and +22 %: Gemini's internal rendering of tools is not
published, so treat this part as rough. In prompt mode the tools are text in
the system instruction and are counted as text.

**Media** (https://ai.google.dev/gemini-api/docs/tokens and .../media-resolution):

* Images, Gemini 2.x: 258 when both sides are at most 384 px, else 258 per
  768x768 tile. ``media_resolution`` low/medium gives 64/256 per image.
  Gemini 3: 280 (low), 560 (medium), 1120 (high, the default), 2240 (ultra high).
* PDFs: 258 per page on Gemini 2.x; on Gemini 3 per page as for images with
  medium (560) the default.
* Audio: 32 per second.
* Video: 263 per second on Gemini 2.x (96 with low/medium resolution: 64 per
  frame at 1 frame/s plus audio); Gemini 3: 70 per frame (280 with high) plus
  32 per second of audio.
* Durations are read from WAV and MP4/MOV headers; other formats are estimated
  from their size (128 kbit/s for audio, 1 Mbit/s for video). Image sizes are read
  from PNG, JPEG and WebP headers (an unreadable size counts as one small image).
  PDF pages are counted from the file's page objects.
* ``fileData`` parts (gs://, YouTube) cannot be measured offline: an image
  counts as one image, other media 0.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from segmind_gemini.planning.options import normalize_media_resolution
from segmind_gemini.wire.depth import check_depth
from segmind_gemini.wire.parts import kinds
from segmind_gemini.wire.parts import value as _get

__all__ = [
    "AUDIO_TOKENS_PER_SECOND",
    "PDF_PAGE_TOKENS",
    "SMALL_IMAGE_TOKENS",
    "audio_tokens",
    "count_part_tokens",
    "count_request_tokens",
    "count_tools_tokens",
    "estimate_text_tokens",
    "image_size",
    "image_tokens",
    "media_duration",
    "pdf_page_count",
    "pdf_tokens",
    "tokenize",
    "video_tokens",
]

#: Gemini 2.x: an image with both sides <= 384 px, and each 768x768 tile of a larger one.
SMALL_IMAGE_TOKENS = 258
#: Gemini 2.x: one PDF page.
PDF_PAGE_TOKENS = 258
#: Every model: one second of audio.
AUDIO_TOKENS_PER_SECOND = 32
_VIDEO_TOKENS_PER_SECOND = 263
_TILE = 768
_SMALL_SIDE = 384
# Gemini 3 media_resolution -> tokens per image / PDF page.
_G3_IMAGE = {"LOW": 280, "MEDIUM": 560, "HIGH": 1120, "ULTRA_HIGH": 2240}
# Gemini 3 media_resolution -> tokens per video frame (1 frame per second).
_G3_FRAME = {"LOW": 70, "MEDIUM": 70, "HIGH": 280, "ULTRA_HIGH": 280}
# Gemini 2.x media_resolution -> tokens per image or frame (GenerationConfig docs).
_G2_RESOLUTION = {"LOW": 64, "MEDIUM": 256}
_AUDIO_BITRATE = 128_000
_VIDEO_BITRATE = 1_000_000

# Words, digits, CJK characters, other-script words, line breaks, space runs,
# punctuation runs, anything else.
_PIECE = re.compile(
    r"[A-Za-z]+|\d|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|[^\W\d_]+"
    r"|\n+|[ \t]{2,}|\s|[^\w\s]+|.",
    re.S,
)
_LONG_WORD = 8
_WORD_CHUNK = 5
_PUNCT_CHUNK = 3
_OTHER_SCRIPT_CHUNK = 3
_TOOL_BASE = 10
_TOOL_JSON_SHARE = 5


def _piece_tokens(piece: str) -> int:
    first = piece[0]
    if first.isascii() and first.isalpha():
        return 1 if len(piece) <= _LONG_WORD else math.ceil(len(piece) / _WORD_CHUNK)
    if first.isalpha():
        return 1 if len(piece) == 1 else math.ceil(len(piece) / _OTHER_SCRIPT_CHUNK)
    if first == " ":
        return 0 if len(piece) == 1 else 1
    if first.isspace() or first.isdigit():
        return 1
    return math.ceil(len(piece) / _PUNCT_CHUNK)


def estimate_text_tokens(text: str) -> int:
    """About how many tokens Gemini counts for ``text`` (see the module docs for the error)."""
    return sum(_piece_tokens(m.group(0)) for m in _PIECE.finditer(text))


def tokenize(text: str) -> list[str]:
    """``text`` cut into pseudo-tokens: ``len(tokenize(t)) == estimate_text_tokens(t)``.

    A ``str -> list`` tokenizer for LlamaIndex (``Settings.tokenizer = tokenize``,
    ``TokenCountingHandler(tokenizer=tokenize)``) and text splitters. The pieces
    are not Gemini's real tokens; only their number is meant to be close.
    """
    out: list[str] = []
    for match in _PIECE.finditer(text):
        piece = match.group(0)
        n = _piece_tokens(piece)
        if n == 1:
            out.append(piece)
        elif n > 1:
            # n near-equal slices (n <= len(piece) for every kind of piece).
            size, extra = divmod(len(piece), n)
            start = 0
            for k in range(n):
                stop = start + size + (k < extra)
                out.append(piece[start:stop])
                start = stop
    return out


# --------------------------------------------------------------------------- media rules


def _is_gemini3(model: str | None) -> bool:
    return bool(model) and bool(re.match(r"(models/)?gemini-([3-9]|\d\d)", str(model)))


def _resolution(value: Any) -> str | None:
    if value is None:
        return None
    return normalize_media_resolution(value).removeprefix("MEDIA_RESOLUTION_")


def image_tokens(
    width: int | None,
    height: int | None,
    *,
    model: str | None = None,
    media_resolution: str | None = None,
) -> int:
    """Tokens for one image of ``width`` x ``height`` pixels (``None``: size unknown)."""
    level = _resolution(media_resolution)
    if _is_gemini3(model):
        return _G3_IMAGE.get(level or "HIGH", _G3_IMAGE["HIGH"])
    if level in _G2_RESOLUTION:
        return _G2_RESOLUTION[level]
    if not width or not height or (width <= _SMALL_SIDE and height <= _SMALL_SIDE):
        return SMALL_IMAGE_TOKENS
    return math.ceil(width / _TILE) * math.ceil(height / _TILE) * SMALL_IMAGE_TOKENS


def pdf_tokens(pages: int, *, model: str | None = None, media_resolution: str | None = None) -> int:
    """Tokens for a PDF of ``pages`` pages."""
    level = _resolution(media_resolution)
    if _is_gemini3(model):
        return pages * _G3_IMAGE.get(level or "MEDIUM", _G3_IMAGE["MEDIUM"])
    return pages * _G2_RESOLUTION.get(level or "", PDF_PAGE_TOKENS)


def audio_tokens(seconds: float) -> int:
    """Tokens for ``seconds`` of audio (32 per second on every model)."""
    return math.ceil(seconds * AUDIO_TOKENS_PER_SECOND)


def video_tokens(
    seconds: float, *, model: str | None = None, media_resolution: str | None = None
) -> int:
    """Tokens for ``seconds`` of video with its sound track, sampled at 1 frame per second."""
    level = _resolution(media_resolution)
    if _is_gemini3(model):
        frame = _G3_FRAME.get(level or "LOW", _G3_FRAME["LOW"])
        return math.ceil(seconds * (frame + AUDIO_TOKENS_PER_SECOND))
    if level in _G2_RESOLUTION:
        return math.ceil(seconds * (_G2_RESOLUTION["LOW"] + AUDIO_TOKENS_PER_SECOND))
    return math.ceil(seconds * _VIDEO_TOKENS_PER_SECOND)


# --------------------------------------------------------------------------- media headers


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a PNG, JPEG or WebP header, or ``None``."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return int(width & 0x3FFF), int(height & 0x3FFF)
    if kind == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
# A page count longer than 9 digits is not a real page tree (and int() would refuse it).
_COUNT = re.compile(rb"/Count\s+(\d{1,9})(?!\d)")


def pdf_page_count(data: bytes) -> int:
    """Pages in a PDF: page objects, or the page tree's ``/Count``; at least 1."""
    pages = len(_PAGE.findall(data))
    counts = [int(c) for c in _COUNT.findall(data)]
    return max(pages, max(counts, default=0), 1)


def media_duration(data: bytes, mime_type: str) -> float | None:
    """Seconds of audio or video read from a WAV or MP4/MOV header, or ``None``."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav_duration(data)
    if data[4:8] == b"ftyp":
        return _mp4_duration(data)
    return None


def _wav_duration(data: bytes) -> float | None:
    i = 12
    byte_rate = 0
    while i + 8 <= len(data):
        chunk, size = data[i : i + 4], int.from_bytes(data[i + 4 : i + 8], "little")
        if chunk == b"fmt " and i + 20 <= len(data):
            byte_rate = int.from_bytes(data[i + 16 : i + 20], "little")
        elif chunk == b"data":
            size = min(size, len(data) - i - 8)
            return size / byte_rate if byte_rate else None
        i += 8 + size + (size & 1)
    return None


def _boxes(data: bytes, start: int, end: int) -> Iterable[tuple[bytes, int, int]]:
    i = start
    while i + 8 <= end:
        size = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        header = 8
        if size == 1 and i + 16 <= end:
            size, header = int.from_bytes(data[i + 8 : i + 16], "big"), 16
        elif size == 0:
            size = end - i
        if size < header:
            return
        yield kind, i + header, min(i + size, end)
        i += size


def _mp4_duration(data: bytes) -> float | None:
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for inner, body, stop in _boxes(data, start, end):
            if inner != b"mvhd":
                continue
            if body >= stop:
                return None  # an empty mvhd box: no duration
            if data[body] == 1:
                timescale = int.from_bytes(data[body + 20 : body + 24], "big")
                duration = int.from_bytes(data[body + 24 : body + 32], "big")
            else:
                timescale = int.from_bytes(data[body + 12 : body + 16], "big")
                duration = int.from_bytes(data[body + 16 : body + 20], "big")
            return duration / timescale if timescale else None
    return None


# --------------------------------------------------------------------------- requests


def _decode(b64: str) -> bytes:
    try:
        return base64.b64decode(b64 + "=" * (-len(b64) % 4), altchars=b"-_" if "-" in b64 else None)
    except (binascii.Error, ValueError):
        return b""


def _media_tokens(data: bytes, mime: str, model: str | None, resolution: str | None) -> int:
    kind = mime.split("/", 1)[0]
    if kind == "image":
        size = image_size(data)
        width, height = size if size else (None, None)
        return image_tokens(width, height, model=model, media_resolution=resolution)
    if mime == "application/pdf":
        return pdf_tokens(pdf_page_count(data), model=model, media_resolution=resolution)
    if kind == "audio":
        seconds = media_duration(data, mime)
        if seconds is None:
            seconds = len(data) * 8 / _AUDIO_BITRATE
        return audio_tokens(seconds)
    if kind == "video":
        seconds = media_duration(data, mime)
        if seconds is None:
            seconds = len(data) * 8 / _VIDEO_BITRATE
        return video_tokens(seconds, model=model, media_resolution=resolution)
    # text/plain, text/html, ...: the decoded text.
    return estimate_text_tokens(data.decode("utf-8", "replace"))


def count_part_tokens(
    part: Mapping[str, Any], *, model: str | None = None, media_resolution: str | None = None
) -> int:
    """Tokens for one Gemini part: text, inline media, a file reference, or a tool call/result.

    Each kind is counted as :data:`segmind_gemini.wire.parts.PARTS` says.
    """
    total = 0
    for kind, found in kinds(part):
        total += _COUNTERS[kind.tokens](found, model, media_resolution)
    return total


def _count_text(found: Any, model: str | None, resolution: str | None) -> int:
    return estimate_text_tokens(found) if isinstance(found, str) else 0


def _count_media(found: Any, model: str | None, resolution: str | None) -> int:
    if not isinstance(found, Mapping):
        return 0
    mime = str(_get(found, "mimeType") or "")
    return _media_tokens(_decode(str(found.get("data", ""))), mime, model, resolution)


def _count_file_ref(found: Any, model: str | None, resolution: str | None) -> int:
    mime = str(_get(found, "mimeType") or "") if isinstance(found, Mapping) else ""
    if mime.startswith("image/"):
        return image_tokens(None, None, model=model, media_resolution=resolution)
    return 0


def _count_json(found: Any, model: str | None, resolution: str | None) -> int:
    if not isinstance(found, Mapping):
        return 0
    try:
        return estimate_text_tokens(json.dumps(found, ensure_ascii=False, default=str))
    except (ValueError, RecursionError):
        return 0


#: ``PartKind.tokens`` -> how that kind is counted.
_COUNTERS: dict[str, Callable[[Any, str | None, str | None], int]] = {
    "text": _count_text,
    "media": _count_media,
    "file_ref": _count_file_ref,
    "json": _count_json,
}


def count_tools_tokens(tools: Sequence[Mapping[str, Any]] | None) -> int:
    """Tokens for Gemini ``tools`` (function declarations; built-in tools count 0).

    Entries of the wrong shape count 0; a declaration nested too deeply is refused.
    """
    total = 0
    for tool in _list(tools):
        decls = _get(tool, "functionDeclarations") if isinstance(tool, Mapping) else None
        for decl in _list(decls):
            if not isinstance(decl, Mapping):
                continue
            check_depth(decl, "a function declaration")
            compact = json.dumps(decl, ensure_ascii=False, separators=(",", ":"), default=str)
            total += _TOOL_BASE + math.ceil(estimate_text_tokens(compact) / _TOOL_JSON_SHARE)
    return total


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _parts(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        return [value]
    return [p for p in _list(value) if isinstance(p, Mapping)]


def count_request_tokens(request: Mapping[str, Any], *, model: str | None = None) -> int:
    """Estimated ``promptTokenCount`` for a Gemini body (or Segmind's ``{"messages": ...}``).

    Counts every part of ``contents`` and ``system_instruction`` and the function
    declarations in ``tools``; ``generationConfig.mediaResolution`` is honoured.
    What is not of the documented shape counts 0 (an estimate does not validate the
    request); an unknown ``mediaResolution`` or a too-deep tool schema raises
    :class:`~segmind_gemini.errors.InvalidRequestError`.
    """
    if "messages" in request and "contents" not in request:
        inner = request["messages"]
        request = inner if isinstance(inner, Mapping) else {}
    config = _get(request, "generationConfig")
    resolution = _get(config, "mediaResolution") if isinstance(config, Mapping) else None
    if resolution is not None:
        resolution = _resolution(resolution)  # refuse an unknown value once, here
    total = 0
    for content in _list(request.get("contents")):
        if isinstance(content, Mapping):
            for part in _parts(content.get("parts")):
                total += count_part_tokens(part, model=model, media_resolution=resolution)
    system = _get(request, "systemInstruction")
    if isinstance(system, Mapping):
        for part in _parts(system.get("parts")):
            total += count_part_tokens(part, model=model, media_resolution=resolution)
    total += count_tools_tokens(request.get("tools"))
    return total

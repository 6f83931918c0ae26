"""Media types Gemini accepts as ``inlineData``, and recognising them from bytes.

Three jobs: :func:`normalize_mime_type` turns whatever a caller or a web server
declared into the exact type Gemini accepts (or raises :class:`MediaError` saying
what is accepted), :func:`sniff_mime_type` recognises common formats from their
first bytes, and :func:`resolve_mime_type` combines the two by one rule:

    A declared type wins, unless it is missing or generic
    (``application/octet-stream`` and friends); then the bytes decide.

Declared types win because magic bytes only say what a container is, not how
the caller wants it read (an ``.ogg`` may be audio or video, any bytes may be
``text/plain``), and a caller who names a type usually knows better than a
16-byte guess.

>>> normalize_mime_type("image/JPG; quality=90")
'image/jpeg'
>>> sniff_mime_type(b"%PDF-1.7 ...")
'application/pdf'
>>> resolve_mime_type(b"\\x89PNG\\r\\n\\x1a\\n...", "application/octet-stream")
'image/png'
"""

from __future__ import annotations

from segmind_gemini.errors import MediaError

__all__ = [
    "GENERIC_MIME_TYPES",
    "MIME_ALIASES",
    "SUPPORTED_MIME_TYPES",
    "is_generic_mime_type",
    "normalize_mime_type",
    "resolve_mime_type",
    "sniff_mime_type",
]

#: Every type Gemini accepts inline, in the order error messages list them.
SUPPORTED_MIME_TYPES: tuple[str, ...] = (
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/heif",
    "application/pdf",
    "text/plain",
    "audio/wav",
    "audio/mp3",
    "audio/mpeg",
    "audio/aiff",
    "audio/aac",
    "audio/ogg",
    "audio/flac",
    "video/mp4",
    "video/mpeg",
    "video/mov",
    "video/quicktime",
    "video/avi",
    "video/x-flv",
    "video/mpg",
    "video/webm",
    "video/wmv",
    "video/3gpp",
)
_SUPPORTED = frozenset(SUPPORTED_MIME_TYPES)

#: Names that servers and libraries use for a supported type (lower case).
MIME_ALIASES: dict[str, str] = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-pdf": "application/pdf",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-mp3": "audio/mp3",
    "audio/mpeg3": "audio/mp3",
    "audio/x-mpeg-3": "audio/mp3",
    "audio/x-mpeg": "audio/mpeg",
    "audio/x-aiff": "audio/aiff",
    "audio/aif": "audio/aiff",
    "audio/x-aac": "audio/aac",
    "audio/aacp": "audio/aac",
    "audio/vorbis": "audio/ogg",
    "audio/x-ogg": "audio/ogg",
    "application/ogg": "audio/ogg",
    "audio/x-flac": "audio/flac",
    "video/x-msvideo": "video/avi",
    "video/msvideo": "video/avi",
    "video/x-ms-wmv": "video/wmv",
    "video/3gp": "video/3gpp",
    "video/flv": "video/x-flv",
}

#: Declared types that say nothing about the content: the bytes decide instead.
GENERIC_MIME_TYPES = frozenset(
    {
        "",
        "application/octet-stream",
        "binary/octet-stream",
        "application/binary",
        "application/unknown",
        "application/download",
        "application/x-download",
        "application/force-download",
    }
)

# Types people commonly try, with the way out; anything else gets the full list.
_HINTS: dict[str, str] = {
    "image/gif": "image/gif is not supported by Gemini; convert it to PNG or JPEG",
    "image/avif": "image/avif is not supported by Gemini; convert it to PNG, JPEG or WEBP",
    "image/bmp": "image/bmp is not supported by Gemini; convert it to PNG or JPEG",
    "image/tiff": "image/tiff is not supported by Gemini; convert it to PNG or JPEG",
    "image/svg+xml": "image/svg+xml is not supported by Gemini; render it to PNG",
    "text/html": (
        "text/html is not a media type Gemini accepts as inline data "
        "(a web page, not a file: link to the image or document itself)"
    ),
    "application/json": (
        "application/json is not a media type Gemini accepts as inline data "
        "(an API answer, not a file)"
    ),
}


def _accepted() -> str:
    return "accepted types: " + ", ".join(SUPPORTED_MIME_TYPES)


def _base_type(mime_type: str) -> str:
    # Parameters (charset, codecs, quality) never change which type Gemini sees.
    return mime_type.split(";", 1)[0].strip().lower()


def is_generic_mime_type(mime_type: str | None) -> bool:
    """Whether ``mime_type`` is missing or says nothing about the content.

    >>> is_generic_mime_type("application/octet-stream; charset=binary")
    True
    >>> is_generic_mime_type("image/png")
    False
    """
    return mime_type is None or _base_type(mime_type) in GENERIC_MIME_TYPES


def normalize_mime_type(mime_type: str) -> str:
    """Return the type Gemini accepts for ``mime_type``, or raise :class:`MediaError`.

    Lower-cases, drops parameters and maps aliases (``image/jpg``, ``audio/x-wav``...).

    >>> normalize_mime_type("Audio/X-WAV")
    'audio/wav'
    >>> normalize_mime_type("text/plain; charset=utf-8")
    'text/plain'
    >>> normalize_mime_type("image/gif")
    Traceback (most recent call last):
    ...
    segmind_gemini.errors.MediaError: image/gif is not supported by Gemini; convert it to PNG ...
    """
    base = _base_type(mime_type)
    base = MIME_ALIASES.get(base, base)
    if base in _SUPPORTED:
        return base
    if not base:
        raise MediaError(f"no media type given; {_accepted()}")
    hint = _HINTS.get(base, f"{base} is not a media type Gemini accepts as inline data")
    raise MediaError(f"{hint}; {_accepted()}")


def _sniff_ftyp(head: bytes) -> str | None:
    # ISO base media files (MP4, MOV, 3GP, HEIF): "ftyp" box, major brand, then
    # compatible brands; the brand, not the box, says which format it is.
    brands = {head[8:12]}
    size = int.from_bytes(head[0:4], "big")
    end = min(size, len(head)) if size >= 16 else 16
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    major = head[8:12]
    if brands & {b"avif", b"avis"}:
        return "image/avif"
    if major in {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}:
        return "image/heic"
    if major in {b"mif1", b"msf1", b"heif"}:
        return "image/heic" if brands & {b"heic", b"heix"} else "image/heif"
    if major == b"qt  ":
        return "video/quicktime"
    if major.startswith(b"3g"):
        return "video/3gpp"
    if major in {b"M4A ", b"M4B ", b"M4P "}:
        return "audio/mp4"
    return "video/mp4"


def sniff_mime_type(data: bytes | bytearray | memoryview) -> str | None:
    """Recognise a format from its first bytes; ``None`` when nothing matches.

    May return a type Gemini refuses (``image/gif``, ``image/avif``, ``text/html``...)
    so the refusal can name it. Plain text has no signature and is never sniffed.

    >>> sniff_mime_type(b"GIF89a...")
    'image/gif'
    >>> sniff_mime_type(b"hello") is None
    True
    """
    head = bytes(data[:512])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/avi"}.get(head[8:12])
    if head.startswith(b"FORM") and head[8:12] in {b"AIFF", b"AIFC"}:
        return "audio/aiff"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _sniff_ftyp(head)
    if head[4:8] in {b"moov", b"mdat", b"wide", b"free"}:
        return "video/quicktime"  # QuickTime files older than the ftyp box
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"ID3"):
        return "audio/mp3"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return "video/mpeg"
    if head.startswith(b"FLV\x01"):
        return "video/x-flv"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "video/wmv"  # ASF container
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if len(head) >= 2 and head[0] == 0xFF:
        # MPEG audio frame sync: 11 set bits; the layer bits tell MP3 (layer III)
        # from ADTS AAC (layer 0), which shares the sync word.
        if head[1] & 0xF6 == 0xF0:
            return "audio/aac"
        if head[1] & 0xE0 == 0xE0 and (head[1] >> 1) & 0b11 == 0b01:
            return "audio/mp3"
    lowered = head.lstrip()[:15].lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    return None


def resolve_mime_type(
    data: bytes | bytearray | memoryview, declared: str | None = None, *, what: str = "the data"
) -> str:
    """The Gemini type for ``data``: ``declared`` if it is specific, else sniffed.

    ``what`` names the input in error messages (a URL, "the data URL"...).

    >>> resolve_mime_type(b"%PDF-1.4", None)
    'application/pdf'
    >>> resolve_mime_type(b"anything", "image/jpg")
    'image/jpeg'
    """
    if declared is not None and not is_generic_mime_type(declared):
        return normalize_mime_type(declared)
    sniffed = sniff_mime_type(data)
    if sniffed is None:
        shown = "no media type" if declared is None else f"only {_base_type(declared)}"
        raise MediaError(
            f"could not recognise the format of {what} ({shown} was given); "
            f"pass mime_type explicitly; {_accepted()}"
        )
    return normalize_mime_type(sniffed)

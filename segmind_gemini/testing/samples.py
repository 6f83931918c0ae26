"""Small, valid media files made with the standard library, for demos, tests and notebooks.

>>> tiny_png()[:8]
b'\\x89PNG\\r\\n\\x1a\\n'
>>> tiny_pdf("Hello").startswith(b"%PDF-1.4")
True
>>> tiny_wav()[:4], len(tiny_wav()) < 10_000
(b'RIFF', True)
"""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

__all__ = ["tiny_pdf", "tiny_png", "tiny_wav"]


def tiny_png(width: int = 32, height: int = 32, rgb: tuple[int, int, int] = (220, 40, 40)) -> bytes:
    """A solid-colour PNG made with the standard library (for demos and tests)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def tiny_pdf(text: str = "Invoice 7: the total is 42 euros.") -> bytes:
    """A valid one-page PDF that shows ``text`` in Helvetica."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 18 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def tiny_wav(seconds: float = 0.5, frequency: float = 440.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV holding a sine tone (440 Hz, half a second: 8 KB)."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        sample = int(12_000 * math.sin(2 * math.pi * frequency * n / rate))
        frames += struct.pack("<h", sample)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()

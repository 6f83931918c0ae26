"""Serialise a request body without copying large inline media.

``json.dumps`` of a body holding a 16 MB base64 string makes a 16 MB JSON
string and then 16 MB of bytes, and a socket write of one 16 MB buffer copies
the unsent rest after every partial send. Here large ``inlineData.data``
strings are cut out of the JSON skeleton and kept by reference; they are
encoded 1 MiB at a time while the body is sent (base64 needs no JSON escaping).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.wire.parts import PARTS

__all__ = [
    "MAX_REQUEST_BYTES",
    "EncodedBody",
    "encode_json_body",
    "find_lone_surrogate",
    "refuse_lone_surrogates",
]

# Gemini's limit for a request with inline data.
MAX_REQUEST_BYTES = 20 * 1024 * 1024
# Below this, splitting costs more than it saves.
_SPLICE_THRESHOLD = 256 * 1024


_PIECE = 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")


def find_lone_surrogate(value: Any) -> tuple[str, str, int] | None:
    """The first string in ``value`` (keys included) that UTF-8 cannot encode.

    Returns ``(path, character, index)``, e.g. ``("contents[0].parts[1].text", "\\ud800", 4)``,
    or ``None``. Python strings may hold lone surrogates (``"\\ud800"``, from a bad
    decode or a JSON escape); no JSON body can carry them.
    """
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            bad = None if node.isascii() else _SURROGATE.search(node)
            if bad is not None:
                return path or "the text", bad.group(), bad.start()
        elif isinstance(node, Mapping):
            items = list(node.items())
            for key, item in reversed(items):
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and not key.isascii() and _SURROGATE.search(key):
                    stack.append((key, f"{path or 'the'} key {key!r}"))
                stack.append((item, name))
        elif isinstance(node, (list, tuple)):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(node))))
    return None


def refuse_lone_surrogates(value: Any, where: str = "") -> None:
    """Raise :class:`InvalidRequestError` naming ``where`` and the path if ``value`` has one."""
    found = find_lone_surrogate(value)
    if found is None:
        return
    path, char, index = found
    place = f"{where}: {path}" if where else path
    raise InvalidRequestError(
        f"{place} holds a lone surrogate ({char!r} at index {index}), which is not valid "
        "Unicode and cannot be sent; text must be encodable as UTF-8 (fix the decoding that "
        "produced it, or use text.encode('utf-8', 'replace').decode())"
    )


@dataclass(frozen=True)
class EncodedBody:
    """A JSON body as pieces: encoded bytes, and large ASCII blobs kept as ``str``.

    ``length`` is the total size in bytes; iterate with :meth:`iter_bytes`.
    """

    chunks: tuple[bytes | str, ...]
    length: int

    @property
    def single(self) -> bytes | None:
        """The whole body when it is one small piece, else ``None``."""
        if len(self.chunks) == 1 and isinstance(self.chunks[0], bytes):
            return self.chunks[0]
        return None

    def iter_bytes(self, piece: int = _PIECE) -> Iterator[bytes]:
        """The body as bytes, in pieces of at most ``piece`` bytes for the blobs."""
        for chunk in self.chunks:
            if isinstance(chunk, bytes):
                yield chunk
            else:
                for i in range(0, len(chunk), piece):
                    yield chunk[i : i + piece].encode("ascii")

    def joined(self) -> bytes:
        return self.single or b"".join(self.iter_bytes())


def _cut_blobs(request: Mapping[str, Any], blobs: dict[str, str]) -> Mapping[str, Any]:
    """A shallow copy of ``request`` whose large inline blobs are replaced by placeholders."""
    contents = request.get("contents")
    if not isinstance(contents, list):
        return request
    new_contents: list[Any] = []
    changed = False
    for content in contents:
        parts = content.get("parts") if isinstance(content, Mapping) else None
        if not isinstance(parts, list):
            new_contents.append(content)
            continue
        new_parts: list[Any] = []
        for part in parts:
            replaced = _cut_part(part, blobs)
            changed = changed or replaced is not part
            new_parts.append(replaced)
        new_contents.append({**content, "parts": new_parts} if changed else content)
    return {**request, "contents": new_contents} if changed else request


_INLINE_KEYS = next(k.keys for k in PARTS if k.camel == "inlineData")


def _cut_part(part: Any, blobs: dict[str, str]) -> Any:
    if type(part) is dict and "text" in part and len(part) == 1:
        return part  # most parts: nothing to cut
    if not isinstance(part, Mapping):
        return part
    for key in _INLINE_KEYS:
        blob = part.get(key)
        data = blob.get("data") if isinstance(blob, Mapping) else None
        if isinstance(blob, Mapping) and isinstance(data, str) and len(data) >= _SPLICE_THRESHOLD:
            token = f"@@segmind-blob-{uuid.uuid4().hex}@@"
            blobs[token] = data
            return {**part, key: {**blob, "data": token}}
    return part


def encode_json_body(
    request: Mapping[str, Any], *, wrap_key: str | None = "messages", limit: int = MAX_REQUEST_BYTES
) -> EncodedBody:
    """Encode ``{"messages": request}`` (or ``request`` itself) as compact JSON bytes.

    Raises:
        InvalidRequestError: the body is not JSON-serialisable or exceeds ``limit`` bytes.
    """
    blobs: dict[str, str] = {}
    skeleton = _cut_blobs(request, blobs)
    payload: Any = {wrap_key: skeleton} if wrap_key else skeleton
    try:
        # allow_nan=False: a NaN or Infinity would go out as bare NaN, which is not JSON.
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"The request is not JSON-serialisable: {exc}") from exc
    except RecursionError:
        raise InvalidRequestError("The request is nested too deeply to serialise") from None
    try:
        return _split(text, blobs, limit)
    except UnicodeEncodeError as exc:
        refuse_lone_surrogates(request)
        raise InvalidRequestError(f"The request is not valid Unicode text: {exc}") from None


def _split(text: str, blobs: dict[str, str], limit: int) -> EncodedBody:
    if not blobs:
        data = text.encode("utf-8")
        _check_size(len(data), limit)
        return EncodedBody((data,), len(data))
    chunks: list[bytes | str] = []
    rest = text
    for token, blob in blobs.items():
        head, _, rest = rest.partition(token)
        chunks.append(head.encode("utf-8"))
        if not blob.isascii():
            raise InvalidRequestError("inlineData.data must be base64 (ASCII) text")
        chunks.append(blob)
    chunks.append(rest.encode("utf-8"))
    length = sum(len(c) for c in chunks)
    _check_size(length, limit)
    return EncodedBody(tuple(chunks), length)


def _check_size(length: int, limit: int) -> None:
    if length > limit:
        raise InvalidRequestError(
            f"The request is {length / 2**20:.1f} MiB; Gemini accepts at most "
            f"{limit / 2**20:.0f} MiB including base64-encoded media. Send smaller or fewer files."
        )

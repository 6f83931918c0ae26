"""A job's Gemini request (its media loaded and checked) and its structured answer."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from segmind_gemini.batch.jobs import Job
from segmind_gemini.errors import MediaError
from segmind_gemini.media.loader import DEFAULT_MAX_BYTES, inline_part_from_bytes, part_from_url
from segmind_gemini.media.mime import sniff_mime_type
from segmind_gemini.planning.structured import (
    Repair,
    StructuredOutputError,
    arun_repairing,
    extract_json,
    schema_instruction,
    validate_json,
    with_repair_turns,
)
from segmind_gemini.wire.request import build_request
from segmind_gemini.wire.response import GenerateContentResult

__all__ = ["MAX_FILE_BYTES", "build_job_request", "structured_answer"]

#: The largest local file a job may attach: a whole request must stay under 20 MB.
MAX_FILE_BYTES = DEFAULT_MAX_BYTES
_MIB = 1024 * 1024
# Types whose files always start with a signature: a file named so that sniffs as
# nothing (text, say) is not what its name claims.
_SIGNED = ("image/", "audio/", "video/", "application/pdf")


def _is_url(ref: str) -> bool:
    return ref[:7].lower() == "http://" or ref[:8].lower() == "https://"


def _read_file(path: Path, ref: str) -> bytes:
    """The file's bytes, its size checked before they are read (never a huge file whole)."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise MediaError(
                    f"{ref} is {size / _MIB:.1f} MiB; a request must stay under "
                    f"{MAX_FILE_BYTES // _MIB} MiB (Gemini's inline limit): shrink the file"
                )
            # One byte more than allowed: a file that grew since fstat is still caught.
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise MediaError(f"cannot read {ref}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise MediaError(f"{ref} is over {MAX_FILE_BYTES // _MIB} MiB; shrink the file")
    return data


def _media_type(data: bytes, name: str, ref: str) -> str | None:
    """The type the bytes show; the name's type only for formats without a signature."""
    sniffed = sniff_mime_type(data)
    named = mimetypes.guess_type(name)[0]
    if sniffed is not None:
        return sniffed  # the bytes win over the name: a GIF named .png is a GIF
    if named is not None and named.startswith(_SIGNED):
        raise MediaError(
            f"{ref} is named as {named} but its bytes are not a {named} file (no "
            "recognised signature: text, or a damaged file?); nothing was sent"
        )
    return named


def _load_part(ref: str, base_dir: Path) -> dict[str, Any]:
    if _is_url(ref):
        return part_from_url(ref)
    path = Path(ref).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    data = _read_file(path, ref)
    try:
        return inline_part_from_bytes(data, _media_type(data, path.name, ref))
    except MediaError as exc:
        raise MediaError(f"{ref}: {exc}") from exc


def build_job_request(job: Job) -> dict[str, Any]:
    """The Gemini request for ``job``, with every image and file loaded.

    Raises:
        MediaError: a file cannot be read, is too large, is not what its name says,
            or has a type Gemini does not accept.
    """
    parts: list[dict[str, Any]] = [{"text": job.prompt}]
    for ref in (*job.images, *job.files):
        parts.append(_load_part(ref, job.base_dir))
    system: list[str] = [job.system] if job.system else []
    if job.schema is not None:
        system.append(schema_instruction(job.schema))
    return build_request(
        [{"role": "user", "parts": parts}],
        system=system or None,
        generation_config=job.generation_config,
    )


def _parse_structured(text: str, schema: Mapping[str, Any]) -> Any:
    value = extract_json(text)
    problems = validate_json(value, schema)
    if problems:
        raise StructuredOutputError("; ".join(problems), raw_text=text)
    return value


Send = Callable[[Mapping[str, Any]], Awaitable[GenerateContentResult]]


async def structured_answer(
    send: Send, request: Mapping[str, Any], result: GenerateContentResult, schema: Mapping[str, Any]
) -> tuple[Any, GenerateContentResult]:
    """Parse ``result`` against ``schema``, else ask once for a repair and parse that
    (the package's one flow, :func:`~segmind_gemini.planning.structured.arun_repairing`).

    Returns the value and the result it came from.

    Raises:
        StructuredOutputError: the repaired answer does not fit either.
    """
    replies = [result]

    async def send_turn(repair: Repair | None) -> GenerateContentResult:
        if repair is not None:
            replies.append(await send(with_repair_turns(request, repair)))
        return replies[-1]

    value = await arun_repairing(send_turn, lambda r: _parse_structured(r.text, schema), schema)
    return value, replies[-1]

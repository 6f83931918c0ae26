"""The job list: parsing a JSONL file (or a folder of images) into :class:`Job` values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from segmind_gemini.errors import InvalidRequestError

__all__ = ["IMAGE_SUFFIXES", "BatchInputError", "Job", "collect_jobs", "image_jobs", "read_jobs"]

#: File name endings ``--images DIR`` picks up (GIF, BMP and TIFF are taken so that
#: they are reported as unsupported rather than silently skipped).
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".heic", ".heif", ".gif", ".bmp", ".tif", ".tiff"}
)
_JOB_KEYS = frozenset(
    {"id", "prompt", "system", "images", "files", "model", "schema", "generation_config"}
)
_BOM = b"\xef\xbb\xbf"


class BatchInputError(InvalidRequestError):
    """The job list cannot be run as given (duplicate ids, no jobs, bad arguments).

    Raised before anything is sent.
    """


@dataclass(frozen=True)
class Job:
    """One line of the input: a prompt, optional media and settings.

    ``error`` is set for a line that cannot be run (its output line will be that error).
    """

    id: str
    line: int
    prompt: str = ""
    system: str | None = None
    images: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    model: str | None = None
    schema: Mapping[str, Any] | None = None
    generation_config: Mapping[str, Any] | None = None
    base_dir: Path = Path(".")
    error: str | None = None


def _line_id(line: int) -> str:
    return f"line:{line}"


def _bad(job_id: str, line: int, message: str) -> Job:
    return Job(id=job_id, line=line, error=message)


def _job_id(obj: Mapping[str, Any]) -> str | None:
    raw_id = obj.get("id")
    if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    return raw_id if isinstance(raw_id, str) and raw_id.strip() else None


def job_from_dict(obj: Any, line: int, base_dir: Path) -> Job:
    """A :class:`Job` from one parsed input object; problems give a job with ``error``."""
    if not isinstance(obj, Mapping):
        return _bad(_line_id(line), line, f"line {line} is not a JSON object")
    job_id = _job_id(obj)
    if job_id is None:
        return _bad(_line_id(line), line, f'line {line} has no "id" (a non-empty string)')
    problem = _problem(obj)
    if problem is not None:
        return _bad(job_id, line, f"line {line} (id {job_id!r}): {problem}")
    lists = {key: _paths(obj.get(key)) or () for key in ("images", "files")}
    return Job(
        id=job_id,
        line=line,
        prompt=obj["prompt"],
        system=obj.get("system"),
        images=lists["images"],
        files=lists["files"],
        model=obj.get("model"),
        schema=obj.get("schema"),
        generation_config=obj.get("generation_config"),
        base_dir=base_dir,
    )


def _paths(value: Any) -> tuple[str, ...] | None:
    """A tuple of non-empty strings from a string or list, else ``None``."""
    value = value or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return None
    return tuple(value)


def _problem(obj: Mapping[str, Any]) -> str | None:
    """What is wrong with a job object that has an id, or ``None``."""
    unknown = sorted(set(obj) - _JOB_KEYS)
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(_JOB_KEYS))}"
    prompt = obj.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return '"prompt" is missing or empty'
    if obj.get("system") is not None and not isinstance(obj.get("system"), str):
        return '"system" must be a string'
    for key in ("images", "files"):
        if _paths(obj.get(key)) is None:
            return f'"{key}" must be a list of paths or http(s) URLs'
    model = obj.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        return '"model" must be a Segmind slug such as "gemini-2.5-flash"'
    for key in ("schema", "generation_config"):
        if obj.get(key) is not None and not isinstance(obj.get(key), Mapping):
            return f'"{key}" must be a JSON object'
    return None


def parse_line(raw: bytes, number: int, base_dir: Path) -> Job | None:
    """One input line (bytes, without its ``\\n``) as a job; ``None`` for a blank line.

    Invalid UTF-8 makes an error job for this line only; its id is used when the rest
    of the line still parses and names one.
    """
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = (
            f"line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
            f"position {exc.start}); save the file as UTF-8"
        )
        return _bad(_salvaged_id(raw) or _line_id(number), number, message)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return _bad(_line_id(number), number, f"line {number} is not valid JSON: {exc}")
    except RecursionError:
        return _bad(_line_id(number), number, f"line {number} nests too deeply")
    return job_from_dict(obj, number, base_dir)


def _salvaged_id(raw: bytes) -> str | None:
    """The id of a line with invalid UTF-8 elsewhere in it, if it can still be read."""
    try:
        obj = json.loads(raw.decode("utf-8", errors="replace"))
    except (json.JSONDecodeError, RecursionError):
        return None
    job_id = _job_id(obj) if isinstance(obj, Mapping) else None
    return job_id if job_id is not None and "\ufffd" not in job_id else None


def read_jobs(path: str | Path) -> list[Job]:
    """Parse a JSONL job file; bad lines come back as jobs with ``error`` set.

    The file is UTF-8 (a leading byte order mark is allowed); lines end at ``\\n``
    only, so U+2028, U+2029 and U+0085 inside a prompt stay in it. Blank lines are
    skipped. Relative media paths are taken from the file's folder.
    """
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise BatchInputError(f"cannot read the job file {source}: {exc}") from exc
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    base_dir = source.resolve().parent
    jobs = (parse_line(raw, n, base_dir) for n, raw in enumerate(data.split(b"\n"), start=1))
    return [job for job in jobs if job is not None]


def image_jobs(
    folder: str | Path,
    prompt: str,
    *,
    system: str | None = None,
    model: str | None = None,
    schema: Mapping[str, Any] | None = None,
) -> list[Job]:
    """One job per image under ``folder`` (recursively, sorted); the id is the relative path."""
    root = Path(folder)
    if not root.is_dir():
        raise BatchInputError(f"--images needs a folder; {root} is not one")
    if not prompt or not prompt.strip():
        raise BatchInputError("--images needs --prompt TEXT: the question asked of every image")
    paths = sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    return [
        Job(
            id=p.relative_to(root).as_posix(),
            line=n,
            prompt=prompt,
            system=system,
            images=(p.relative_to(root).as_posix(),),
            model=model,
            schema=schema,
            base_dir=root.resolve(),
        )
        for n, p in enumerate(paths, start=1)
    ]


def check_ids(jobs: list[Job]) -> None:
    """Refuse duplicate ids: no output could then say which job an answer belongs to."""
    seen: dict[str, list[int]] = {}
    for job in jobs:
        seen.setdefault(job.id, []).append(job.line)
    dupes = {k: v for k, v in seen.items() if len(v) > 1}
    if dupes:
        shown = "; ".join(
            f"{k!r} on lines {', '.join(map(str, v))}" for k, v in list(dupes.items())[:10]
        )
        more = f" (and {len(dupes) - 10} more)" if len(dupes) > 10 else ""
        raise BatchInputError(
            f"{len(dupes)} duplicate id(s) in the input: {shown}{more}. Every job needs its "
            "own id, since the output has one line per id. Nothing was sent."
        )


def collect_jobs(
    input: str | Path | None,
    jobs: Iterable[Mapping[str, Any]] | None,
    images: str | Path | None,
    prompt: str | None,
    system: str | None,
    model: str | None,
) -> list[Job]:
    """The jobs from exactly one source: a JSONL file, dicts, or a folder of images."""
    given = sum(x is not None for x in (input, jobs, images))
    if given != 1:
        raise BatchInputError("give exactly one of: an input JSONL file, jobs=[...], or images=DIR")
    if images is not None:
        return image_jobs(images, prompt or "", system=system, model=model)
    if prompt is not None or system is not None:
        raise BatchInputError(
            "prompt= and system= go with images=DIR; in a job file, each line has its own"
        )
    if input is not None:
        found = read_jobs(input)
    else:
        found = [job_from_dict(obj, n, Path.cwd()) for n, obj in enumerate(jobs or [], start=1)]
    if model is not None:
        found = [j if j.model or j.error else replace(j, model=model) for j in found]
    check_ids(found)
    return found

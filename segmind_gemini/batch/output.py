"""The output file: whole strict-JSON lines, one per id, locked to one run at a time."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from segmind_gemini.batch.jobs import BatchInputError
from segmind_gemini.errors import SegmindError

__all__ = [
    "Output",
    "OutputLock",
    "OutputWriteError",
    "encode_line",
    "read_output",
    "resolve_output",
    "rewrite",
]


class OutputWriteError(SegmindError):
    """The output file could not be written (a full disk, a file size limit...)."""


def encode_line(record: Mapping[str, Any]) -> bytes:
    """One output line: strict JSON (no ``NaN``/``Infinity``, which jq, JavaScript and Go refuse).

    Raises:
        ValueError: ``record`` holds a float that strict JSON cannot carry.
    """
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode()


def resolve_output(output: str | Path) -> Path:
    """The file the output path names, through symlinks; refused when it cannot be one.

    Writing through a link (not replacing it) keeps a linked output one file.
    """
    given = Path(output)
    target = Path(os.path.realpath(given))
    if target.is_dir():
        raise BatchInputError(
            f"the output {given} is a folder; give a file path such as {given / 'answers.jsonl'}"
        )
    if not target.parent.is_dir():
        raise BatchInputError(f"the output's folder {target.parent} does not exist")
    return target


class OutputLock:
    """An advisory lock on ``PATH.lock`` beside the output, held for the whole run.

    Two runs on one output would each send (and bill) every job; the second refuses.
    """

    def __init__(self, path: Path, shown: str) -> None:
        self.path = path.with_name(path.name + ".lock")
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise BatchInputError(
                f"cannot create the lock file {self.path} beside the output {shown}: "
                f"{exc.strerror or exc}"
            ) from None
        try:
            _try_lock(self._fd)
        except OSError:
            holder = os.read(self._fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(self._fd)
            raise BatchInputError(
                f"{shown} is in use by another batch run (process {holder}, lock {self.path}); "
                "two runs on one output would send and bill every job twice. Wait for it to "
                "finish, or write to another file."
            ) from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, str(os.getpid()).encode())

    def release(self) -> None:
        """Let the next run in (the file stays: removing it would race a waiting run)."""
        os.close(self._fd)


def _try_lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class Output:
    """Appends whole lines, each in one ``write`` call, unbuffered.

    A write that fails part way is cut back off, so the file never ends in half a
    line; after a failure every later write fails at once.
    """

    def __init__(self, path: Path, shown: str) -> None:
        self.path, self.shown = path, shown
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise BatchInputError(
                f"cannot open the output {shown}: {exc.strerror or exc}"
            ) from None
        self._lock = threading.Lock()
        self.failure: OutputWriteError | None = None

    def write(self, line: bytes) -> None:
        """Append ``line`` (from :func:`encode_line`) or raise :class:`OutputWriteError`."""
        with self._lock:
            if self.failure is not None:
                raise self.failure
            start = os.fstat(self._fd).st_size  # O_APPEND: the line goes at the end
            try:
                written = 0
                while written < len(line):
                    n = os.write(self._fd, line[written:])
                    if n <= 0:
                        raise OSError(0, "the write made no progress")
                    written += n
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, start)
                self.failure = OutputWriteError(
                    f"cannot write to {self.shown}: {exc.strerror or exc}"
                )
                raise self.failure from exc

    def close(self) -> None:
        with self._lock:
            os.close(self._fd)


def read_output(path: Path) -> tuple[dict[str, dict[str, Any]], bool]:
    """The records already in ``path`` by id, and whether the file needs rewriting.

    A file needs rewriting when it holds anything but one valid line per id (a cut
    last line, a line that is not a JSON object with an id, or two lines for one id).
    Of two lines for one id an answer wins over an error, else the later one.
    """
    if not path.exists():
        return {}, False
    records: dict[str, dict[str, Any]] = {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BatchInputError(f"cannot read the output {path}: {exc.strerror or exc}") from None
    dirty = bool(data) and not data.endswith(b"\n")
    for raw in data.split(b"\n"):
        record = _record(raw)
        if record is None:
            dirty = dirty or bool(raw)
            continue
        old = records.get(record["id"])
        if old is not None:
            dirty = True
            if "error" not in old and "error" in record:
                continue
        records[record["id"]] = record
    return records, dirty


def _not_strict(name: str) -> Any:
    # An older run's bare NaN/Infinity: the line is dropped and its job redone.
    raise ValueError(f"{name} is not strict JSON")


def _record(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw, parse_constant=_not_strict)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    return record


def rewrite(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Replace ``path`` with ``records`` atomically (a crash leaves the old or the new file).

    ``path`` is the resolved file (not a link to it), and keeps its permissions.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for record in records:
                out.write(encode_line(record))
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputWriteError(f"cannot rewrite {path}: {exc.strerror or exc}") from exc
        raise

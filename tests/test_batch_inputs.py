"""Bulk-job input and output edges, without a server: encodings, line breaks, files, money.

Property-based (Hypothesis, derandomized) where the input space is wide.
"""

from __future__ import annotations

import json
import os
import resource
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmind_gemini.batch import BatchInputError, BatchSettings, build_job_request, read_jobs
from segmind_gemini.batch.jobs import Job, parse_line
from segmind_gemini.batch.money import to_money
from segmind_gemini.batch.output import Output, OutputWriteError, encode_line, read_output
from segmind_gemini.errors import MediaError
from segmind_gemini.testing.samples import tiny_png

FAST = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# Text as users type it, with every line break Python's str.splitlines() knows.
PROMPTS = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from("\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e\r\n\t"),
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())


def _write(path: Path, lines: list[bytes], *, bom: bool, crlf: bool) -> Path:
    end = b"\r\n" if crlf else b"\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + b"".join(line + end for line in lines))
    return path


@FAST
@given(prompts=st.lists(PROMPTS, min_size=1, max_size=6), bom=st.booleans(), crlf=st.booleans())
def test_every_job_survives_bom_line_endings_and_unicode_breaks(
    tmp_path: Path, prompts: list[str], bom: bool, crlf: bool
) -> None:
    # ensure_ascii=False writes U+2028, U+2029 and U+0085 raw, as many tools do.
    lines = [
        json.dumps({"id": f"j{i}", "prompt": p}, ensure_ascii=False).encode()
        for i, p in enumerate(prompts)
    ]
    jobs = read_jobs(_write(tmp_path / "jobs.jsonl", lines, bom=bom, crlf=crlf))
    assert [(j.id, j.prompt, j.error) for j in jobs] == [
        (f"j{i}", p, None) for i, p in enumerate(prompts)
    ]


INVALID_UTF8 = st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe2\x82", b"\x80\x80"])


@FAST
@given(
    count=st.integers(min_value=2, max_value=6),
    data=st.data(),
    junk=INVALID_UTF8,
    in_id=st.booleans(),
)
def test_invalid_utf8_spoils_only_its_own_line(
    tmp_path: Path, count: int, data: st.DataObject, junk: bytes, in_id: bool
) -> None:
    bad = data.draw(st.integers(min_value=0, max_value=count - 1))
    lines = [json.dumps({"id": f"j{i}", "prompt": f"q{i}"}).encode() for i in range(count)]
    if in_id:
        lines[bad] = f'{{"id": "j{bad}'.encode() + junk + b'", "prompt": "q"}'
    else:
        lines[bad] = f'{{"id": "j{bad}", "prompt": "caf'.encode() + junk + b'"}'
    jobs = read_jobs(_write(tmp_path / "jobs.jsonl", lines, bom=False, crlf=False))
    assert len(jobs) == count
    broken = jobs[bad]
    assert broken.error is not None and "not valid UTF-8" in broken.error
    # The id is the line's own when it can be read, else line:N.
    assert broken.id == (f"line:{bad + 1}" if in_id else f"j{bad}")
    assert all(j.error is None for k, j in enumerate(jobs) if k != bad)


def _image_job(tmp_path: Path, name: str, data: bytes) -> Job:
    (tmp_path / name).write_bytes(data)
    return Job(id=name, line=1, prompt="describe", images=(name,), base_dir=tmp_path)


def test_a_png_named_file_holding_text_or_gif_is_refused_and_jpeg_is_labelled(
    tmp_path: Path,
) -> None:
    with pytest.raises(MediaError, match=r"fake\.png is named as image/png but its bytes"):
        build_job_request(_image_job(tmp_path, "fake.png", b"just some notes\n" * 10))
    with pytest.raises(MediaError, match="image/gif is not supported"):
        build_job_request(_image_job(tmp_path, "anim.png", b"GIF89a" + b"\x00" * 30))
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 60
    part = build_job_request(_image_job(tmp_path, "photo.png", jpeg))["contents"][0]["parts"][1]
    assert part["inlineData"]["mimeType"] == "image/jpeg"
    png = build_job_request(_image_job(tmp_path, "red.png", tiny_png()))
    assert png["contents"][0]["parts"][1]["inlineData"]["mimeType"] == "image/png"
    # Text files have no signature: their name says what they are.
    notes = Job(id="n", line=1, prompt="p", files=("notes.txt",), base_dir=tmp_path)
    (tmp_path / "notes.txt").write_text("plain words")
    text = build_job_request(notes)["contents"][0]["parts"][1]["inlineData"]
    assert text["mimeType"] == "text/plain"


def test_a_huge_file_is_refused_by_its_size_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.png"
    with huge.open("wb") as f:
        f.truncate(512 * 1024 * 1024)  # sparse: no disk used, 512 MB if read
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(
        MediaError, match=r"huge\.png is 512\.0 MiB; a request must stay under 20 MiB"
    ):
        build_job_request(Job(id="h", line=1, prompt="p", images=("huge.png",), base_dir=tmp_path))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 100 * 1024, f"peak memory grew by {grown_kib // 1024} MB"


@FAST
@given(
    cents=st.integers(min_value=1, max_value=10**6),
    places=st.integers(min_value=0, max_value=6),
    n=st.integers(min_value=1, max_value=50),
)
def test_money_from_x_cost_sums_exactly(cents: int, places: int, n: int) -> None:
    price = Decimal(cents).scaleb(-places - 2)
    header_value = float(str(price))  # what the client hands over for "x-cost: <price>"
    money = to_money(header_value)
    assert money == price
    assert sum([money] * n, Decimal(0)) == price * n  # a budget of n * price fits n jobs
    assert BatchSettings.budget(str(price * n)) == price * n


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.5, "abc", None, True])
def test_unreadable_money_is_none(value: Any) -> None:
    assert to_money(value) is None


@pytest.mark.parametrize("value", [0, -1, "nan", "inf", float("nan"), "lots"])
def test_a_budget_that_is_not_a_positive_amount_is_refused(value: Any) -> None:
    with pytest.raises(BatchInputError, match="max_cost must be a positive number"):
        BatchSettings.budget(value)


@FAST
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=8,
    )
)
def test_output_lines_are_strict_json_or_refused(value: Any) -> None:
    record = {"id": "a", "data": value}
    try:
        line = encode_line(record)
    except ValueError:
        # Only a non-finite float is refused; the runner turns it into an error line.
        assert "NaN" in json.dumps(value) or "Infinity" in json.dumps(value)
        return
    assert line.endswith(b"\n") and line.count(b"\n") == 1

    def refuse(name: str) -> Any:
        raise AssertionError(f"bare {name} in the output")

    assert json.loads(line, parse_constant=refuse)["id"] == "a"


class _DiskFullAfter:
    """os.write that accepts ``room`` bytes in all, then fails as a full disk does."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.real = os.write

    def __call__(self, fd: int, data: Any) -> int:
        if self.room <= 0:
            raise OSError(28, "No space left on device")
        n = self.real(fd, bytes(data)[: self.room])
        self.room -= n
        return n


@FAST
@given(room=st.integers(min_value=0, max_value=400), sizes=st.lists(st.integers(1, 60), max_size=8))
def test_a_failed_write_never_leaves_half_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, room: int, sizes: list[int]
) -> None:
    path = tmp_path / f"out-{room}-{len(sizes)}.jsonl"
    path.unlink(missing_ok=True)
    out = Output(path, str(path))
    monkeypatch.setattr("segmind_gemini.batch.output.os.write", _DiskFullAfter(room))
    written = 0
    failure: OutputWriteError | None = None
    try:
        for i, size in enumerate(sizes):
            out.write(encode_line({"id": f"j{i}", "text": "x" * size}))
            written += 1
    except OutputWriteError as exc:
        failure = exc
    try:
        if failure is not None:
            assert "No space left on device" in str(failure)
            with pytest.raises(OutputWriteError):  # and every later write fails at once
                out.write(encode_line({"id": "late"}))
    finally:
        monkeypatch.undo()
        out.close()
    records, dirty = read_output(path)
    assert not dirty  # whole lines only
    assert list(records) == [f"j{i}" for i in range(written)]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
JOBISH = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=5), st.integers(), st.none(), st.booleans()),
        "prompt": JSON,
        "system": JSON,
        "images": JSON,
        "files": JSON,
        "model": JSON,
        "schema": JSON,
        "generation_config": JSON,
        "temperature": JSON,
    },
)


@FAST
@given(line=st.one_of(st.binary(max_size=60), JOBISH.map(lambda d: json.dumps(d).encode())))
def test_any_line_becomes_a_job_or_an_error_job_never_an_exception(line: bytes) -> None:
    job = parse_line(line.replace(b"\n", b" "), 7, Path("."))
    if job is None:
        assert not line.strip()
        return
    assert job.line == 7 and job.id
    if job.error is None:
        assert isinstance(job.prompt, str) and job.prompt.strip()
        assert all(isinstance(p, str) and p for p in (*job.images, *job.files))
    else:
        assert job.error.startswith("line 7")

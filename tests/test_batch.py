"""Bulk jobs against the emulator: rate limits, random faults, Ctrl-C and resume, budgets.

The emulator's answers are emulated (it describes what it received); scripted answers
below are the test's own, not Gemini's.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from segmind_gemini.batch import BatchInputError, run_batch
from segmind_gemini.cli import main
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing.samples import tiny_png

LIMIT = (50, 0.5)  # 50 calls per half second: Segmind's fixed windows, sped up


def write_jobs(path: Path, jobs: list[Any]) -> Path:
    path.write_text(
        "".join((j if isinstance(j, str) else json.dumps(j)) + "\n" for j in jobs),
        encoding="utf-8",
    )
    return path


def read_output(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "the output ends with a half line"
    return [json.loads(line) for line in data.splitlines()]


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "an id has more than one line"
    return {r["id"]: r for r in records}


def client_args(emu: SegmindEmulator) -> dict[str, Any]:
    return {"api_key": emu.api_key, "base_url": emu.base_url}


def test_300_jobs_with_rate_limit_and_faults_give_one_line_per_id(tmp_path: Path) -> None:
    jobs = write_jobs(
        tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": f"q {i}"} for i in range(300)]
    )
    out = tmp_path / "out.jsonl"
    log = io.StringIO()
    with SegmindEmulator(rate_limit=LIMIT, fault_rate=0.08, seed=1) as emu:
        summary = run_batch(
            jobs,
            out,
            concurrency=16,
            progress="plain",
            progress_interval=0.0,
            stream=log,
            **client_args(emu),
        )
        assert emu.rate_limited > 0  # the window was really hit
        assert len(emu.requests) > 300  # and faults made the client retry
        if summary.failed:  # rare: a job unlucky on every retry; --retry-errors finishes it
            summary = run_batch(jobs, out, retry_errors=True, progress=False, **client_args(emu))
    records = by_id(read_output(out))
    assert set(records) == {f"j{i}" for i in range(300)}
    assert all("text" in r and r["cost"] == pytest.approx(0.0012) for r in records.values())
    first = records["j0"]
    assert first["finish_reason"] == "STOP" and first["model"] == "gemini-2.5-flash"
    assert first["request_id"] and first["usage"]["input_tokens"] > 0
    assert summary.exit_code == 0
    lines = log.getvalue().splitlines()
    assert any(" done, " in line and "remaining" in line and "cost $" in line for line in lines)


def test_interrupted_cli_run_resumes_without_duplicates_or_losses(tmp_path: Path) -> None:
    jobs = write_jobs(
        tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": f"q {i}"} for i in range(300)]
    )
    out = tmp_path / "out.jsonl"
    with SegmindEmulator(rate_limit=LIMIT, fault_rate=0.08, seed=1) as emu:
        env = {**os.environ, "SEGMIND_API_KEY": emu.api_key}
        cmd = [
            sys.executable, "-m", "segmind_gemini.cli", "batch", str(jobs), "-o", str(out),
            "--base-url", emu.base_url, "--concurrency", "16",
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (out.exists() and out.read_bytes()):
            time.sleep(0.02)
        # A second run on the same output while this one writes it refuses (two runs would
        # both send every job: the final check below finds no id answered twice).
        # (This process is the second one: a child's start-up would let the first finish.)
        rival_err = io.StringIO()
        with contextlib.redirect_stderr(rival_err):
            rival = main([*cmd[3:], "--quiet"])
        assert rival == 2, rival_err.getvalue()
        assert "is in use by another batch run" in rival_err.getvalue()
        assert rival_err.getvalue().count("\n") == 1
        while time.monotonic() < deadline:
            if out.read_bytes().count(b"\n") >= 60:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "Ctrl-C again to stop now" in err and "batch: stopping: finishing " in err
        assert err.index("Ctrl-C again") < err.index("Interrupted")
        assert "Resume with the same command: segmind-gemini batch" in err
        first = by_id(read_output(out))
        assert 60 <= len(first) < 300  # stopped part way, with what finished written

        again = subprocess.run(
            [*cmd, "--quiet"], env=env, capture_output=True, text=True, timeout=60
        )
    final = by_id(read_output(out))
    if again.returncode == 1:  # an unlucky job's retries all hit faults: it has an error line
        assert all("error" in r for r in final.values() if "text" not in r)
    else:
        assert again.returncode == 0, again.stderr
    assert set(final) == {f"j{i}" for i in range(300)}
    # What the first run wrote was kept as it was, not asked again.
    assert all(final[k] == v for k, v in first.items())
    assert f"{len(first)} already done" in again.stderr


def test_ctrl_c_after_every_job_started_still_reports_the_interruption(tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(40)])
    out = tmp_path / "out.jsonl"
    # 5 calls per 2 s: with concurrency 50 every job starts at once and most wait in line.
    with SegmindEmulator(rate_limit=(5, 2.0)) as emu:
        env = {**os.environ, "SEGMIND_API_KEY": emu.api_key}
        cmd = [
            sys.executable, "-m", "segmind_gemini.cli", "batch", str(jobs), "-o", str(out),
            "--base-url", emu.base_url, "--concurrency", "50", "--quiet",
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (out.exists() and out.read_bytes()):
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        assert proc.stderr is not None
        # The first Ctrl-C is answered at once (log lines about 429s may come before it).
        lines: list[str] = []
        while not lines or "Ctrl-C again" not in lines[-1]:
            lines.append(proc.stderr.readline())
            assert lines[-1], f"no answer to the first Ctrl-C: {lines}"
        assert "batch: stopping: finishing " in lines[-1], lines
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)  # a second Ctrl-C: stop at once
        _, err = proc.communicate(timeout=30)
        assert time.monotonic() - started < 5  # not the 10 s grace
    assert proc.returncode == 130, err
    assert "Interrupted" in err and "Resume with the same command" in err
    assert len(by_id(read_output(out))) < 40


def test_budget_stops_starting_jobs_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(100)])
    out = tmp_path / "out.jsonl"
    with SegmindEmulator(cost_per_call=0.01) as emu:
        monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
        code = main([
            "batch", str(jobs), "-o", str(out), "--base-url", emu.base_url,
            "--max-cost", "0.125", "--concurrency", "8", "--quiet",
        ])  # fmt: skip
        sent = len(emu.requests)
    err = capsys.readouterr().err
    assert code == 3
    assert "Stopped: the budget of $0.125" in err
    records = read_output(out)
    assert len(records) == sent == 12  # 12 x $0.01 fits; a 13th would pass $0.125
    assert sum(r["cost"] for r in records) == pytest.approx(0.12)
    assert "88 not started" in err


def test_bad_lines_become_error_lines_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "red.png").write_bytes(tiny_png())
    (tmp_path / "anim.gif").write_bytes(b"GIF89a" + b"\x00" * 20)
    jobs = write_jobs(
        tmp_path / "jobs.jsonl",
        [
            {"id": "ok", "prompt": "hi"},
            "{not json",
            {"id": "no-prompt", "system": "x"},
            {"prompt": "no id"},
            {"id": "missing-file", "prompt": "p", "images": ["nope.png"]},
            {"id": "gif", "prompt": "p", "images": ["anim.gif"]},
            {"id": "extra", "prompt": "p", "temperature": 1},
            {"id": "img", "prompt": "p", "images": ["red.png"]},
        ],
    )
    # Saved with a byte order mark, and one line with invalid UTF-8 in its prompt.
    jobs.write_bytes(
        b"\xef\xbb\xbf" + jobs.read_bytes() + b'{"id": "latin1", "prompt": "caf\xe9"}\n'
    )
    out = tmp_path / "out.jsonl"
    with SegmindEmulator() as emu:
        dry = run_batch(jobs, out, dry_run=True, stream=io.StringIO(), **client_args(emu))
        summary = run_batch(jobs, out, progress=False, stream=io.StringIO(), **client_args(emu))
        assert len(emu.requests) == 2  # only the two good jobs were sent
    assert dry.bad_lines == summary.bad_lines == 7  # counted the same way in both
    assert "Run again with --retry-errors" not in summary.format()  # no retry fixes bad input
    assert "7 error(s) come from the input" in summary.format()
    records = by_id(read_output(out))
    assert "not valid UTF-8 (byte 0xe9" in records.pop("latin1")["error"]["message"]
    assert records["ok"]["text"].startswith("emulated reply")
    assert "image/png" in records["img"]["text"]
    errors = {k: r["error"] for k, r in records.items() if "error" in r}
    assert set(errors) == {"line:2", "no-prompt", "line:4", "missing-file", "gif", "extra"}
    assert "not valid JSON" in errors["line:2"]["message"]
    assert '"prompt" is missing' in errors["no-prompt"]["message"]
    assert 'no "id"' in errors["line:4"]["message"]
    assert errors["missing-file"]["type"] == "MediaError"
    assert "cannot read nope.png" in errors["missing-file"]["message"]
    assert "image/gif" in errors["gif"]["message"]
    assert "temperature" in errors["extra"]["message"]
    assert summary.succeeded == 2 and summary.failed == 7 and summary.exit_code == 1


def test_duplicate_ids_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    jobs = write_jobs(
        tmp_path / "jobs.jsonl",
        [{"id": "a", "prompt": "1"}, {"id": "b", "prompt": "2"}, {"id": "a", "prompt": "3"}],
    )
    with SegmindEmulator() as emu:
        with pytest.raises(BatchInputError, match=r"duplicate id.*'a' on lines 1, 3"):
            run_batch(jobs, tmp_path / "out.jsonl", progress=False, **client_args(emu))
        assert emu.requests == []
    assert not (tmp_path / "out.jsonl").exists()


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jobs = write_jobs(
        tmp_path / "jobs.jsonl", [{"id": "a", "prompt": "1"}, {"id": "a", "prompt": "2"}]
    )
    with SegmindEmulator() as emu:
        env = {"SEGMIND_API_KEY": emu.api_key, "SEGMIND_BASE_URL": emu.base_url}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            assert main(["batch", str(jobs), "-o", str(tmp_path / "o.jsonl"), "--quiet"]) == 2
            missing = str(tmp_path / "nope.jsonl")
            assert main(["batch", missing, "-o", str(tmp_path / "o.jsonl"), "--quiet"]) == 2
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        assert emu.requests == []
    assert "duplicate id" in capsys.readouterr().err


def test_a_wrong_key_stops_the_run_instead_of_failing_every_job(tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(60)])
    out = tmp_path / "out.jsonl"
    with SegmindEmulator() as emu:
        summary = run_batch(
            jobs,
            out,
            concurrency=4,
            progress=False,
            api_key="sg-wrong-key-0000",
            base_url=emu.base_url,
        )
        sent = len(emu.requests)
    assert summary.stopped == "fatal" and "AuthenticationError" in (summary.fatal or "")
    assert summary.exit_code == 1
    assert sent <= 4  # the calls already in flight; no more were started
    assert summary.not_started >= 56
    assert "Stopped: AuthenticationError" in summary.format()
    assert len(read_output(out)) == sent  # the ones that ran have their error line


def test_dry_run_loads_everything_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "red.png").write_bytes(tiny_png())
    jobs = write_jobs(
        tmp_path / "jobs.jsonl",
        [{"id": f"t{i}", "prompt": "Describe", "images": ["red.png"]} for i in range(120)]
        + [{"id": "gone", "prompt": "p", "files": ["gone.pdf"]}],
    )
    out = tmp_path / "out.jsonl"
    with SegmindEmulator() as emu:
        monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
        code = main([
            "batch", str(jobs), "-o", str(out), "--base-url", emu.base_url,
            "--dry-run", "--requests-per-minute", "50",
        ])  # fmt: skip
        assert emu.requests == []
    captured = capsys.readouterr()
    assert code == 2  # one line cannot be run
    assert not out.exists()
    assert "121 jobs, 0 already answered" in captured.out and "1 bad, 120 to send" in captured.out
    assert "cannot read gone.pdf" in captured.err
    # 120 small images at 258 tokens each, plus the prompt text.
    assert "Estimated input tokens: 31" in captured.out
    assert "At 50 requests per minute: at least 2.0 min" in captured.out


def test_schema_jobs_parse_into_data_with_one_repair(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {"label": {"type": "string"}},
        "required": ["label"],
    }
    jobs = write_jobs(
        tmp_path / "jobs.jsonl",
        [{"id": f"s{i}", "prompt": "Classify", "schema": schema} for i in range(3)],
    )
    out = tmp_path / "out.jsonl"
    with SegmindEmulator() as emu:
        emu.queue_text('{"label": "cat"}')
        emu.queue_text("Sure! It is a dog.").queue_text('```json\n{"label": "dog"}\n```')
        emu.queue_text('{"name": 1}').queue_text("still not it")
        summary = run_batch(jobs, out, concurrency=1, progress=False, **client_args(emu))
        sent = emu.requests
    records = by_id(read_output(out))
    assert records["s0"]["data"] == {"label": "cat"} and "text" not in records["s0"]
    assert records["s1"]["data"] == {"label": "dog"}
    assert records["s1"]["cost"] == pytest.approx(0.0024)  # two calls, both billed
    repair = sent[2].messages
    assert "Your previous reply could not be used" in repair["contents"][-1]["parts"][0]["text"]
    assert "JSON Schema" in repair["system_instruction"]["parts"]["text"]
    assert records["s2"]["error"]["type"] == "StructuredOutputError"
    assert "contains no JSON" in records["s2"]["error"]["message"]  # the repaired reply's fault
    assert records["s2"]["cost"] == pytest.approx(0.0024)
    assert summary.cost == pytest.approx(0.0012 * 5)


def test_retry_errors_leaves_exactly_one_line_per_id(tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(5)])
    out = tmp_path / "out.jsonl"
    with SegmindEmulator() as emu:
        emu.queue_error(400, "bad parameter")
        first = run_batch(jobs, out, concurrency=1, progress=False, **client_args(emu))
        assert first.failed == 1 and by_id(read_output(out))["j0"]["error"]["status"] == 400
        # A plain rerun keeps the error; a crash left a cut line, which is dropped.
        with out.open("ab") as f:
            f.write(b'{"id": "j1", "te')
        again = run_batch(jobs, out, progress=False, **client_args(emu))
        assert again.skipped == 5 and len(emu.requests) == 5
        # Not every job has an answer: the rerun says so and does not exit 0.
        assert again.earlier_errors == 1 and again.exit_code == 1
        fixed = run_batch(jobs, out, retry_errors=True, progress=False, **client_args(emu))
    records = by_id(read_output(out))
    assert set(records) == {f"j{i}" for i in range(5)}
    assert all("text" in r for r in records.values())
    assert fixed.succeeded == 1 and fixed.exit_code == 0


def test_images_folder_ids_are_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    (photos / "2024").mkdir(parents=True)
    for name in ("a.png", "2024/b.png", "2024/.hidden.png"):
        (photos / name).write_bytes(tiny_png())
    (photos / "notes.md").write_text("not an image")
    out = tmp_path / "captions.jsonl"
    with SegmindEmulator() as emu:
        monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
        code = main([
            "batch", "--images", str(photos), "--prompt", "Describe this image", "-o", str(out),
            "--base-url", emu.base_url, "--quiet",
        ])  # fmt: skip
        assert [r.messages["contents"][0]["parts"][0]["text"] for r in emu.requests] == [
            "Describe this image"
        ] * 2
    assert code == 0, capsys.readouterr().err
    assert set(by_id(read_output(out))) == {"a.png", "2024/b.png"}


def gemini_body(text: str) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5},
    }


def strict_lines(path: Path) -> list[dict[str, Any]]:
    """The output parsed as jq, JavaScript and Go would: no bare NaN or Infinity."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"bare {name} in the output")

    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "the output ends with a half line"
    return [json.loads(line, parse_constant=refuse) for line in data.splitlines()]


def test_a_budget_of_three_jobs_runs_three_exactly(tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(10)])
    out = tmp_path / "out.jsonl"
    with SegmindEmulator(cost_per_call=0.1) as emu:
        summary = run_batch(
            jobs, out, max_cost=0.3, concurrency=4, progress=False, **client_args(emu)
        )
        assert len(emu.requests) == 3  # float sums stopped at 2: 0.1 + 0.1 + 0.1 > 0.3
    assert summary.exact_cost == Decimal("0.3") and summary.exit_code == 3
    assert "--max-cost is per run" in summary.format()
    assert "continues with the 7 job(s) left" in summary.format()
    assert [r["cost"] for r in strict_lines(out)] == [0.1, 0.1, 0.1]


def test_an_unreadable_cost_is_null_with_a_warning_and_the_output_stays_strict_json(
    tmp_path: Path,
) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(3)])
    out = tmp_path / "out.jsonl"
    with SegmindEmulator() as emu:
        emu.queue_response(gemini_body("a"), headers={"x-cost": "nan"})
        emu.queue_response(gemini_body("b"), headers={"x-cost": "inf"})
        summary = run_batch(jobs, out, concurrency=1, progress=False, **client_args(emu))
    records = by_id(strict_lines(out))
    assert records["j0"]["cost"] is None and records["j1"]["cost"] is None
    assert records["j2"]["cost"] == pytest.approx(0.0012)
    assert summary.unpriced_calls == 2 and summary.exit_code == 0
    assert "2 call(s) had no readable x-cost" in summary.format()


def test_answers_that_are_not_strict_json_become_error_lines(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"x": {"type": "number"}}}
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": "s", "prompt": "p", "schema": schema}])
    out = tmp_path / "out.jsonl"
    with SegmindEmulator() as emu:
        emu.queue_text('{"x": NaN}')  # Python's json reads it; strict JSON cannot carry it
        summary = run_batch(jobs, out, progress=False, **client_args(emu))
    record = by_id(strict_lines(out))["s"]
    assert "NaN or Infinity" in record["error"]["message"]
    assert summary.failed == 1


def test_a_wrong_key_stop_is_resumed_by_the_same_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(20)])
    out = tmp_path / "out.jsonl"
    with SegmindEmulator() as emu:
        cmd = ["batch", str(jobs), "-o", str(out), "--base-url", emu.base_url, "--quiet"]
        monkeypatch.setenv("SEGMIND_API_KEY", "sg_wrong_key_123")
        assert main(cmd) == 1
        assert 1 <= len(read_output(out)) < 20  # the calls in flight have their 401 line
        assert "run the same command again to continue" in capsys.readouterr().err
        monkeypatch.setenv("SEGMIND_API_KEY", emu.api_key)
        assert main(cmd) == 0  # no --retry-errors needed: the 401 lines are redone
    records = by_id(read_output(out))
    assert set(records) == {f"j{i}" for i in range(20)}
    assert all("text" in r for r in records.values())


def test_output_that_is_a_folder_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": "a", "prompt": "q"}])
    assert main(["batch", str(jobs), "-o", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder; give a file path" in err


def test_retry_errors_writes_through_a_symlinked_output(tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(3)])
    (tmp_path / "store").mkdir()
    real = tmp_path / "store" / "answers.jsonl"
    link = tmp_path / "answers.jsonl"
    link.symlink_to(real)
    with SegmindEmulator() as emu:
        emu.queue_error(500, "flaky")
        first = run_batch(jobs, link, concurrency=1, max_retries=0, progress=False,
                          **client_args(emu))  # fmt: skip
        assert first.failed == 1
        assert "--retry-errors to redo the 1 error(s) a retry may fix" in first.format()
        fixed = run_batch(jobs, link, retry_errors=True, progress=False, **client_args(emu))
    assert fixed.succeeded == 1 and fixed.exit_code == 0
    assert link.is_symlink() and link.resolve() == real.resolve()  # still one file
    assert all("text" in r for r in by_id(read_output(real)).values())


def test_a_full_disk_stops_the_run_with_whole_lines_and_a_clear_error(tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(30)])
    out = tmp_path / "out.jsonl"
    limit = 2000  # bytes any file of the child may hold: a few lines, then EFBIG

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with SegmindEmulator() as emu:
        env = {**os.environ, "SEGMIND_API_KEY": emu.api_key}
        cmd = [
            sys.executable, "-m", "segmind_gemini.cli", "batch", str(jobs), "-o", str(out),
            "--base-url", emu.base_url, "--concurrency", "4", "--quiet",
        ]  # fmt: skip
        run = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=60, preexec_fn=small_disk
        )
    assert run.returncode == 4, run.stderr
    assert "Stopped: cannot write to" in run.stderr and "File too large" in run.stderr
    assert "Task exception was never retrieved" not in run.stderr
    assert "Traceback" not in run.stderr
    written = read_output(out)  # whole lines only
    assert 0 < len(written) < 30 and out.stat().st_size <= limit
    assert "finished job(s) could not be written" in run.stderr


def test_rate_limit_store_reaches_the_client_only_when_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmind_gemini.batch import run as batch_run

    seen: list[dict[str, Any]] = []

    class Refused(Exception):
        pass

    def fake_client(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        raise Refused

    monkeypatch.setattr(batch_run, "SegmindGeminiClient", fake_client)
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": "a", "prompt": "q"}])
    for store in ("sqlite:///" + str(tmp_path / "rl.db"), None):
        with pytest.raises(Refused):
            run_batch(jobs, tmp_path / "o.jsonl", rate_limit_store=store, progress=False)
    assert seen[0]["rate_limit_store"].startswith("sqlite:///")
    assert "rate_limit_store" not in seen[1]
    # The CLI flag is the same setting.
    cmd = ["batch", str(jobs), "-o", str(tmp_path / "o.jsonl"), "--quiet"]
    with pytest.raises(Refused):
        main([*cmd, "--rate-limit-store", "process"])
    assert seen[2]["rate_limit_store"] == "process"


def test_a_proxy_reflecting_the_key_does_not_put_it_in_the_output(tmp_path: Path) -> None:
    key = "sg_batch_reflection_key_0123456789"
    jobs = write_jobs(tmp_path / "jobs.jsonl", [{"id": f"j{i}", "prompt": "q"} for i in range(2)])
    out = tmp_path / "out.jsonl"
    with SegmindEmulator(api_key=key) as emu:
        emu.queue_response(gemini_body("a"), headers={"x-request-id": key})
        emu.queue_error(500, f"bad key {key}")
        run_batch(jobs, out, concurrency=1, max_retries=0, progress=False, **client_args(emu))
    text = out.read_text(encoding="utf-8")
    assert len(strict_lines(out)) == 2
    assert key not in text and key[4:-4] not in text

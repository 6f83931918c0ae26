"""The ``segmind-gemini`` command: ``chat``, ``demo``, ``check``, ``batch`` and ``emulator``.

    segmind-gemini chat "Describe this" --image photo.jpg --model gemini-2.5-flash
    segmind-gemini demo            # live with SEGMIND_API_KEY, else against the local emulator
    segmind-gemini check --json    # measure what the live gateway does (asks first)
    segmind-gemini batch jobs.jsonl -o answers.jsonl   # bulk jobs, resumable
    segmind-gemini emulator --port 8765

Answers go to stdout; tokens, finish reason and cost to stderr, so the answer
can be piped. Expected failures print one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from segmind_gemini._version import __version__
from segmind_gemini.check.cli import add_parser as add_check_parser
from segmind_gemini.check.report import target_of
from segmind_gemini.client.gemini_client import SegmindGeminiClient
from segmind_gemini.errors import MediaError, SegmindError
from segmind_gemini.media.loader import inline_part_from_bytes
from segmind_gemini.media.mime import is_generic_mime_type, normalize_mime_type, sniff_mime_type
from segmind_gemini.registry import DEFAULT_MODEL
from segmind_gemini.settings import API_KEY_ENV, BASE_URL_ENV, resolve_base_url
from segmind_gemini.testing.samples import tiny_png
from segmind_gemini.wire.request import build_request
from segmind_gemini.wire.response import GenerateContentResult

if TYPE_CHECKING:
    from segmind_gemini.batch import BatchSummary

__all__ = ["main"]


def _summary(result: GenerateContentResult) -> str:
    u = result.usage
    bits = [
        f"tokens in={u.input_tokens} out={u.output_tokens}"
        + (f" (thoughts {u.thoughts_tokens})" if u.thoughts_tokens else "")
        + f" total={u.total_tokens}",
        f"finish={result.finish_reason or '-'}",
    ]
    if result.headers.cost is not None:
        bits.append(f"cost=${result.headers.cost:g}")
    if result.headers.remaining_credits is not None:
        bits.append(f"credits left={result.headers.remaining_credits:g}")
    if result.headers.request_id:
        bits.append(f"request={result.headers.request_id}")
    return "  ".join(bits)


def _as_json(result: GenerateContentResult) -> dict[str, Any]:
    return {
        "text": result.text,
        "thoughts": result.thoughts or None,
        "tool_calls": [{"name": c.name, "args": c.args, "id": c.id} for c in result.tool_calls],
        "finish_reason": result.finish_reason,
        "usage": {
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
            "thoughts_tokens": result.usage.thoughts_tokens,
            "cached_tokens": result.usage.cached_tokens,
            "total_tokens": result.usage.total_tokens,
        },
        "model_version": result.model_version,
        "response_id": result.response_id,
        "segmind": result.headers.as_dict(),
    }


# Extensions whose files are text: sent as text/plain (Gemini reads it) when the bytes
# are UTF-8. Sniffing cannot recognise text; for binary formats the bytes decide.
_TEXT_SUFFIXES = frozenset(
    {
        *(".txt", ".text", ".md", ".markdown", ".rst", ".csv", ".tsv", ".json", ".jsonl"),
        *(".yaml", ".yml", ".toml", ".ini", ".cfg", ".log", ".xml", ".html", ".htm"),
        *(".css", ".js", ".ts", ".py", ".sh", ".sql", ".tex", ".srt", ".vtt"),
    }
)


def _read_part(path: str, mime_type: str | None = None) -> dict[str, Any]:
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SegmindError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if mime_type is None and data and file.suffix.lower() in _TEXT_SUFFIXES:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # not text after all: let the bytes say what it is
        else:
            mime_type = "text/plain"
    elif mime_type is not None and not is_generic_mime_type(mime_type):
        # The library trusts a declared type; on the command line one of another kind
        # than the bytes (a .png sent as a PDF) is more likely a slip than knowledge.
        # Within a kind, names differ by synonym (audio/mpeg, audio/mp3): no slip.
        sniffed = sniff_mime_type(data)
        declared = normalize_mime_type(mime_type)
        if sniffed is not None and sniffed.split("/")[0] != declared.split("/")[0]:
            raise MediaError(
                f"{path}: --mime-type {mime_type} was given, but the file is "
                f"{sniffed} by its bytes; drop --mime-type or pass that"
            )
    try:
        return inline_part_from_bytes(data, mime_type)
    except SegmindError as exc:
        # The library's hint names its argument; a shell user has the option.
        message = exc.message.replace("pass mime_type explicitly", "pass --mime-type TYPE")
        raise type(exc)(f"{path}: {message}") from None


def _chat(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    parts: list[dict[str, Any]] = [{"text": args.prompt}]
    for path in args.image:
        parts.append(_read_part(path))
    for path in args.file:
        parts.append(_read_part(path, args.mime_type))
    request = build_request([{"role": "user", "parts": parts}], system=args.system)
    with SegmindGeminiClient(
        model=args.model,
        base_url=args.base_url,
        timeout=args.timeout,
        api_mode="queue" if args.queue else "sync",
    ) as client:
        result = client.generate_content(request)
    # Say where the answer came from, as demo does: an emulator's is not Gemini's.
    where = _where(resolve_base_url(args.base_url), args.model)
    if args.json:
        print(json.dumps(_as_json(result), indent=2, ensure_ascii=False), file=out)
        print(where, file=err)
    else:
        print(result.text, file=out)
        print(f"{_summary(result)}\n{where}", file=err)
    return 0


def _demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with ExitStack() as stack:
        if os.environ.get(API_KEY_ENV):
            base_url, api_key = resolve_base_url(args.base_url), None
            print(_where(base_url, args.model), file=out)
        else:
            from segmind_gemini.testing import SegmindEmulator

            emulator = stack.enter_context(SegmindEmulator())
            base_url, api_key = emulator.base_url, emulator.api_key
            print(
                f"No {API_KEY_ENV} is set, so this demo runs offline against the local Segmind "
                f"emulator at {emulator.base_url}.\nThe answers below are EMULATED: the emulator "
                "describes what it received; it is not Gemini.\n"
                f"Set {API_KEY_ENV} to run the same demo live.",
                file=out,
            )
        client = stack.enter_context(
            SegmindGeminiClient(api_key, model=args.model, base_url=base_url)
        )
        questions: list[tuple[str, list[dict[str, Any]]]] = [
            ("Text question", [{"text": "In one sentence, what is Segmind?"}]),
            (
                "Image question (a 32x32 red PNG made on the fly)",
                [
                    {"text": "What colour is this image? Answer in one word."},
                    inline_part_from_bytes(tiny_png(), "image/png"),
                ],
            ),
        ]
        for title, parts in questions:
            result = client.generate_content(
                build_request([{"role": "user", "parts": parts}], system="Answer briefly.")
            )
            print(f"\n## {title}\n{result.text}", file=out)
            print(f"   [{_summary(result)}]", file=out)
        if not os.environ.get(API_KEY_ENV):
            _demo_rate_limit(args.model, out)
    return 0


def _where(base_url: str, model: str) -> str:
    """The demo's first line: which address it calls, and whether that is Segmind."""
    target = target_of(base_url)
    if target == "emulator":
        return (
            f"Calling {base_url} ({model}) with the key in ${API_KEY_ENV}: a loopback "
            "address, so an EMULATOR, not Segmind. The answers below are emulated."
        )
    if target == "other":
        return (
            f"Live: calling {base_url} ({model}) with the key in ${API_KEY_ENV}: not "
            "Segmind's own host (a proxy or gateway in front of it?)."
        )
    return f"Live: calling Segmind at {base_url} ({model}) with the key in ${API_KEY_ENV}."


def _demo_rate_limit(model: str, out: TextIO) -> None:
    """Offline only: a burst past a rate limit, absorbed by the governor."""
    import asyncio

    from segmind_gemini.testing import SegmindEmulator

    calls, limit = 12, 5
    print(
        f"\n## Rate limits ({calls} concurrent calls; this emulator admits {limit} per second, "
        "as Segmind admits 5 a minute on its free plan)",
        file=out,
    )
    with SegmindEmulator(rate_limit=(limit, 1.0)) as emulator:

        async def burst() -> int:
            async with SegmindGeminiClient(
                emulator.api_key, model=model, base_url=emulator.base_url
            ) as client:
                request = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
                results = await asyncio.gather(
                    *(client.agenerate_content(request) for _ in range(calls))
                )
                status = client.rate_limit_status()
                print(
                    f"{len(results)}/{calls} answered in {time.monotonic() - start:.1f} s; "
                    f"{status.rate_limited} answers were 429 and waited for the window to "
                    f"reset (none lost); learned {status.learned_limit} per window",
                    file=out,
                )
                return len(results)

        start = time.monotonic()
        asyncio.run(burst())


def _emulator(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from segmind_gemini.testing import run_forever

    try:
        run_forever(
            args.port,
            host=args.host,
            api_key=args.api_key,
            rate_limit=args.rate_limit,
            script=args.script,
            verbose=args.verbose,
            history=args.history,
            **_behaviour(args),
        )
    except (OSError, ValueError) as exc:  # an unreadable or bad script, a port in use
        print(f"segmind-gemini emulator: error: {exc}", file=err)
        return 2
    return 0


_SCRIPT_HELP = """\
--script FILE.jsonl: one answer per line, used in order, then unscripted answers.
Each line is an object whose "kind" names the answer; its other keys are the
arguments of SegmindEmulator.queue_<kind>(). Blank lines and # comments are skipped.
  {"kind": "text", "text": "Paris"}
  {"kind": "function_call", "name": "get_weather", "args": {"city": "Oslo"}}
  {"kind": "function_calls", "calls": [["add", {"a": 1}], ["mul", {"b": 2}]]}
  {"kind": "prompted_tool_call", "name": "get_weather", "args": {"city": "Oslo"}}
  {"kind": "prompted_tool_calls", "calls": [["add", {"a": 1}]], "fenced": true}
  {"kind": "response", "body": {"candidates": []}, "status": 200}
  {"kind": "error", "status": 500, "message": "upstream failed"}
  {"kind": "google_error", "status": 429, "message": "quota", "google_status":
   "RESOURCE_EXHAUSTED", "retry_delay": "2s"}
  {"kind": "fault", "fault": "rate_limit", "reset_after": 2}
Faults: reset, truncated, html_502, slow, rate_limit, blocked, drip. Every kind takes
"delay" (seconds). A bad line stops the emulator before it starts, naming the line.
"""


def _add_behaviour_options(emu: argparse.ArgumentParser) -> None:
    """The emulator's gateway switches (see SegmindEmulator)."""
    policies = ("apply", "ignore", "reject")
    for name in ("tools", "generation-config", "safety-settings", "thinking"):
        emu.add_argument(
            f"--{name}",
            choices=policies,
            default="apply",
            help=f"what the gateway does with {name}",
        )
    emu.add_argument("--no-bearer", action="store_true", help="refuse Authorization: Bearer")
    emu.add_argument("--no-queue", action="store_true", help="no /v2 queue routes")
    emu.add_argument(
        "--any-model", action="store_true", help="answer for any slug, not only known ones"
    )


def _behaviour(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "tools": args.tools,
        "generation_config": args.generation_config,
        "safety_settings": args.safety_settings,
        "thinking": args.thinking,
        "bearer_auth": not args.no_bearer,
        "queue_mode": not args.no_queue,
        "allow_any_model": args.any_model,
    }


def _batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import shlex

    from segmind_gemini.batch import BatchInputError

    if (args.input is None) == (args.images is None):
        print("segmind-gemini batch: give an INPUT file or --images DIR (not both)", file=err)
        return 2
    try:
        summary = _run_batch_from_args(args, err)
    except BatchInputError as exc:
        # Bad input (duplicate ids, no such file, bad arguments): nothing was sent.
        print(f"segmind-gemini batch: {exc}", file=err)
        return 2
    print(summary.format(), file=out if args.dry_run else err)
    if summary.stopped == "interrupted":
        resume = shlex.join(["segmind-gemini", *sys.argv[1:]])
        print(f"Resume with the same command: {resume}", file=err)
    code: int = summary.exit_code
    return code


def _run_batch_from_args(args: argparse.Namespace, err: TextIO) -> BatchSummary:
    from segmind_gemini.batch import run_batch

    return run_batch(
        args.input,
        args.output,
        images=args.images,
        prompt=args.prompt,
        system=args.system,
        model=args.model,
        base_url=args.base_url,
        concurrency=args.concurrency,
        requests_per_minute=args.requests_per_minute,
        rate_limit_store=args.rate_limit_store,
        max_retries=args.max_retries,
        timeout=args.timeout,
        max_cost=args.max_cost,
        retry_errors=args.retry_errors,
        dry_run=args.dry_run,
        progress="none" if args.quiet else "auto",
        stream=err,
    )


def _rate_limit(text: str) -> tuple[int, float]:
    """``N/SECONDS`` (``50/60``: 50 requests per 60-second window)."""
    limit, sep, window = text.partition("/")
    try:
        parsed = (int(limit), float(window or "60"))
    except ValueError:
        parsed = (0, 0.0)
    if parsed[0] < 1 or not parsed[1] > 0 or (sep and not window):
        raise argparse.ArgumentTypeError(
            f"expected N/SECONDS such as 50/60 (50 requests per minute), got {text!r}"
        )
    return parsed


class _Defaults(argparse.HelpFormatter):
    """Help that ends every option with its default, in words a shell user reads."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if not action.option_strings or "default" in text or action.default is argparse.SUPPRESS:
            return text
        default = action.default
        if default is None or default == []:
            shown = "none"
        elif isinstance(default, bool):
            shown = "on" if default else "off"
        else:
            shown = "%(default)s"
        return f"{text} (default: {shown})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segmind-gemini",
        description="Segmind's hosted Gemini models from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    _add_chat(sub)
    _add_demo(sub)
    _add_emulator(sub)
    add_check_parser(sub)
    _add_batch(sub)
    return parser


_BASE_HELP = f"the API base URL (default: ${BASE_URL_ENV}, else https://api.segmind.com/v1)"


def _add_chat(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults, base_help = _Defaults, _BASE_HELP
    chat = sub.add_parser(
        "chat", help="ask one question (text, images, files)", formatter_class=defaults
    )
    chat.add_argument("prompt", help="the question")
    chat.add_argument(
        "--image", action="append", default=[], metavar="PATH", help="an image (repeatable)"
    )
    chat.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help="a PDF, audio, video or text file (repeatable); the format is read from the "
        "bytes, text files by their extension",
    )
    chat.add_argument(
        "--mime-type",
        default=None,
        metavar="TYPE",
        help="the media type of every --file (text/plain, application/pdf, ...), "
        "instead of recognising it",
    )
    chat.add_argument("--system", default=None, metavar="TEXT", help="a system instruction")
    chat.add_argument("--model", default=DEFAULT_MODEL, metavar="SLUG", help="the model slug")
    chat.add_argument("--base-url", default=None, help=base_help)
    chat.add_argument("--timeout", type=float, default=120.0, help="seconds for the call")
    chat.add_argument("--queue", action="store_true", help="use Segmind's v2 queue (long calls)")
    chat.add_argument("--json", action="store_true", help="print the whole result as JSON")
    chat.set_defaults(run=_chat)


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults, base_help = _Defaults, _BASE_HELP
    demo = sub.add_parser(
        "demo",
        help="a short showcase; offline against the emulator without a key",
        description=f"A text and an image question. With ${API_KEY_ENV} set it calls the "
        "base URL (and says whether that is Segmind or an emulator); without it, a local "
        "emulator, plus a rate-limit burst.",
        formatter_class=defaults,
    )
    demo.add_argument("--model", default=DEFAULT_MODEL, metavar="SLUG", help="the model slug")
    demo.add_argument(
        "--base-url", default=None, help=base_help + f"; used only with ${API_KEY_ENV}"
    )
    demo.set_defaults(run=_demo)


def _add_emulator(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    emu = sub.add_parser(
        "emulator",
        help="run the local Segmind emulator",
        description="Serve the Segmind API on loopback (not a model: answers are emulated).",
        epilog=_SCRIPT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    emu.add_argument("--port", type=int, default=8765)
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--api-key", default="emulator-key")
    emu.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        metavar="N/SECONDS",
        help="answer 429 past N calls per key in each SECONDS window, as Segmind does "
        "(50/60 is the Pro plan)",
    )
    emu.add_argument(
        "--script",
        default=None,
        metavar="FILE.jsonl",
        help="answers to give first, one JSON object a line (shapes below)",
    )
    emu.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print one line per request: method, path, status, size, and why it was "
        "refused (for example a 429)",
    )
    emu.add_argument(
        "--history",
        type=int,
        default=100,
        metavar="N",
        help="recent requests kept in memory (default: 100)",
    )
    _add_behaviour_options(emu)
    emu.set_defaults(run=_emulator)


def _add_batch(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    batch = sub.add_parser(
        "batch", help="run a JSONL file of jobs (or a folder of images), resumably"
    )
    batch.add_argument("input", nargs="?", metavar="INPUT", help="JSONL, one job a line")
    batch.add_argument("-o", "--output", required=True, metavar="OUTPUT.jsonl")
    batch.add_argument("--images", metavar="DIR", help="one job per image in DIR")
    batch.add_argument("--prompt", metavar="TEXT", help="the prompt for every image (--images)")
    batch.add_argument("--system", metavar="TEXT", help="a system instruction (--images)")
    batch.add_argument("--model", default=None, metavar="SLUG", help="for jobs that name none")
    batch.add_argument("--concurrency", type=int, default=8, metavar="N")
    batch.add_argument("--requests-per-minute", type=int, default=None, metavar="N")
    batch.add_argument(
        "--max-cost",
        default=None,
        metavar="USD",
        help="the most this run may spend (per run: running again may spend as much again)",
    )
    batch.add_argument(
        "--rate-limit-store",
        default=None,
        metavar="STORE",
        help="machine (default), process, sqlite:///PATH or redis://HOST:PORT/DB",
    )
    batch.add_argument("--retry-errors", action="store_true", help="redo ids that ended in error")
    batch.add_argument("--dry-run", action="store_true", help="check and estimate; send nothing")
    batch.add_argument("--quiet", action="store_true", help="no progress (summary only)")
    batch.add_argument("--max-retries", type=int, default=4, metavar="N")
    batch.add_argument("--base-url", default=None)
    batch.add_argument("--timeout", type=float, default=120.0)
    batch.set_defaults(run=_batch)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (1 for a Segmind error, 130 on Ctrl-C)."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args, sys.stdout, sys.stderr)
        return code
    except SegmindError as exc:
        print(f"segmind-gemini: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

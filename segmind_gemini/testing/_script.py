"""Scripting the emulator: the ``queue_*`` methods and ``--script`` JSON Lines files.

A mixin for :class:`~segmind_gemini.testing.SegmindEmulator`: each method builds one
:class:`~segmind_gemini.testing._replies.Scripted` item and hands it to ``_enqueue``;
nothing here knows about HTTP.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from segmind_gemini.testing._faults import Fault, fault_script
from segmind_gemini.testing._replies import Outcome, Scripted, gemini_body, json_outcome

__all__ = ["Scripting"]

_S = TypeVar("_S", bound="Scripting")


class Scripting:
    """The ``queue_*`` methods; each returns ``self`` so calls chain."""

    def _push(self: _S, item: Scripted) -> _S:
        if item.delay < 0:
            raise ValueError(f"delay must be >= 0, got {item.delay}")
        self._enqueue(item)
        return self

    def _enqueue(self, item: Scripted) -> None:
        raise NotImplementedError

    def queue_text(
        self: _S,
        text: str,
        *,
        finish_reason: str = "STOP",
        thoughts: str | None = None,
        usage: Mapping[str, Any] | None = None,
        thought_signature: str | None = None,
        delay: float = 0.0,
    ) -> _S:
        """Queue a Gemini answer with ``text`` (after a ``thought`` part when ``thoughts``).

        ``usage`` replaces the computed ``usageMetadata``; ``thought_signature`` is set on
        the text part.
        """
        parts: list[dict[str, Any]] = []
        if thoughts is not None:
            parts.append({"text": thoughts, "thought": True})
        answer: dict[str, Any] = {"text": text}
        if thought_signature is not None:
            answer["thoughtSignature"] = thought_signature
        parts.append(answer)
        return self._push(
            Scripted(
                "text",
                lambda ctx: json_outcome(
                    gemini_body(ctx, parts, finish_reason=finish_reason, usage=usage)
                ),
                delay,
            )
        )

    def queue_function_call(
        self: _S,
        name: str,
        args: Mapping[str, Any],
        *,
        id: str | None = None,
        thought_signature: str | None = None,
        delay: float = 0.0,
    ) -> _S:
        """Queue an answer with one native ``functionCall`` part (finishReason STOP)."""
        call: dict[str, Any] = {"name": name, "args": dict(args)}
        if id is not None:
            call["id"] = id
        part: dict[str, Any] = {"functionCall": call}
        if thought_signature is not None:
            part["thoughtSignature"] = thought_signature
        return self._push(
            Scripted("function_call", lambda ctx: json_outcome(gemini_body(ctx, [part])), delay)
        )

    def queue_function_calls(
        self: _S,
        calls: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        text: str | None = None,
        delay: float = 0.0,
    ) -> _S:
        """Queue one answer with parallel ``functionCall`` parts (after ``text``, if given)."""
        parts: list[dict[str, Any]] = [] if text is None else [{"text": text}]
        parts.extend({"functionCall": {"name": name, "args": dict(args)}} for name, args in calls)
        return self._push(
            Scripted("function_calls", lambda ctx: json_outcome(gemini_body(ctx, parts)), delay)
        )

    def queue_prompted_tool_call(
        self: _S, name: str, args: Mapping[str, Any], *, fenced: bool = False, delay: float = 0.0
    ) -> _S:
        """Queue a text answer in the prompted protocol: ``{"tool_calls": [{...}]}``."""
        return self.queue_prompted_tool_calls([(name, args)], fenced=fenced, delay=delay)

    def queue_prompted_tool_calls(
        self: _S,
        calls: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        fenced: bool = False,
        delay: float = 0.0,
    ) -> _S:
        """Queue ``{"tool_calls": [...]}`` as the text, inside a ```json fence if ``fenced``."""
        payload = json.dumps(
            {"tool_calls": [{"name": name, "arguments": dict(args)} for name, args in calls]}
        )
        text = f"```json\n{payload}\n```" if fenced else payload
        return self.queue_text(text, delay=delay)

    def queue_response(
        self: _S,
        body: Mapping[str, Any] | list[Any] | str | bytes,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> _S:
        """Queue an exact answer: ``body`` (JSON-encoded unless str/bytes), status, headers.

        ``headers`` override the Segmind headers and the JSON content type.
        """
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = json.dumps(body).encode()
        outcome = Outcome(status, raw, dict(headers or {}))
        return self._push(Scripted("response", lambda ctx: outcome, delay))

    def queue_error(
        self: _S,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> _S:
        """Queue ``{"error": message}`` with ``status`` (on v2: the job FAILS with it)."""
        return self.queue_response({"error": message}, status=status, headers=headers, delay=delay)

    def queue_google_error(
        self: _S,
        status: int,
        message: str,
        google_status: str,
        retry_delay: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> _S:
        """Queue an upstream Google error body; ``retry_delay`` (e.g. "34.4s") adds RetryInfo."""
        error: dict[str, Any] = {"code": status, "message": message, "status": google_status}
        if retry_delay is not None:
            error["details"] = [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
            ]
        return self.queue_response({"error": error}, status=status, headers=headers, delay=delay)

    def queue_fault(self: _S, kind: Fault | str, **options: Any) -> _S:
        """Queue a fault (see :class:`Fault` for kinds and their options).

        Every kind takes ``delay``; ``slow`` defaults it to 1.0. ``rate_limit`` takes
        ``reset_after`` and ``message``; ``blocked`` takes ``reason``. Unknown kinds or
        options raise ``ValueError``.
        """
        return self._push(fault_script(kind, options))

    #: The ``kind`` values of :meth:`queue_script` lines, each naming a ``queue_*`` method.
    SCRIPT_KINDS = (
        "text",
        "function_call",
        "function_calls",
        "prompted_tool_call",
        "prompted_tool_calls",
        "response",
        "error",
        "google_error",
        "fault",
    )

    def queue_script(self: _S, path: str | os.PathLike[str]) -> int:
        """Queue the answers of a JSON Lines file, one per line, in order; return how many.

        Each line is an object whose ``kind`` names a ``queue_*`` method and whose other
        keys are that method's arguments, for example ``{"kind": "text", "text": "hi"}``,
        ``{"kind": "function_call", "name": "get_weather", "args": {"city": "Oslo"}}``,
        ``{"kind": "error", "status": 429, "message": "slow down"}`` or ``{"kind":
        "fault", "fault": "rate_limit", "reset_after": 2}``. Blank lines and lines
        starting with ``#`` are skipped. The whole file is checked first: a bad line
        raises ``ValueError`` naming the file and line, and nothing is queued.
        """
        calls: list[Callable[[], object]] = []
        with open(path, encoding="utf-8") as file:
            for number, line in enumerate(file, 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                where = f"{os.fspath(path)}:{number}"
                try:
                    entry = json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"{where}: not a JSON object ({exc})") from None
                kinds = ", ".join(self.SCRIPT_KINDS)
                if not isinstance(entry, dict) or "kind" not in entry:
                    raise ValueError(f'{where}: each line needs a "kind", one of {kinds}')
                if entry["kind"] not in self.SCRIPT_KINDS:
                    raise ValueError(
                        f"{where}: unknown kind {entry['kind']!r}; known kinds: {kinds}"
                    )
                options = {k: v for k, v in entry.items() if k != "kind"}
                if entry["kind"] == "fault":
                    kind = options.pop("fault", None)
                    try:
                        fault_script(kind, options)
                    except ValueError as exc:
                        raise ValueError(f"{where}: {exc}") from None
                    options = {"kind": kind, **options}
                method = getattr(self, f"queue_{entry['kind']}")
                signature = inspect.signature(method)
                named = [p for p in signature.parameters if p != "options"]
                unknown = sorted(set(options) - set(named))
                if unknown and "options" not in signature.parameters:
                    raise ValueError(
                        f"{where}: queue_{entry['kind']}() takes {', '.join(named)}; "
                        f"not {', '.join(unknown)}"
                    )
                try:
                    signature.bind(**options)
                except TypeError as exc:
                    raise ValueError(f"{where}: queue_{entry['kind']}(): {exc}") from None
                calls.append(functools.partial(method, **options))
        for call in calls:
            call()
        return len(calls)

"""Cassettes for ``segmind-gemini check --record``: vcrpy, with the key filtered out.

vcrpy is an optional dependency (``pip install 'segmind-gemini[record]'``); it is
imported only when recording is asked for.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from .errors import SegmindError

__all__ = ["REDACTED", "cassette_recorder"]

REDACTED = "REDACTED"
# Never stored: cookies, and the account's balance.
_DROPPED = frozenset({"set-cookie", "x-remaining-credits"})


def _scrub_text(value: Any, secret: str) -> Any:
    if isinstance(value, bytes):
        raw = secret.encode()
        return value.replace(raw, REDACTED.encode()) if raw in value else value
    if isinstance(value, str):
        return value.replace(secret, REDACTED)
    return value


def cassette_recorder(
    directory: Path, secret: str
) -> Callable[[str, str], AbstractContextManager[Any]]:
    """A ``(slug, probe) -> context manager`` that records into ``directory/slug/probe.yaml``.

    The ``x-api-key`` and ``authorization`` headers are replaced with ``REDACTED``; the
    key's value is cut out of URIs, bodies and response headers; cookies and
    ``x-remaining-credits`` are dropped. Each probe's cassette is rewritten.

    Raises:
        SegmindError: vcrpy is not installed (it says which extra to install).
    """
    try:
        import vcr
    except ImportError:
        raise SegmindError(
            "--record needs vcrpy, which is not installed: pip install 'segmind-gemini[record]'"
        ) from None

    def scrub_request(request: Any) -> Any:
        request = copy.deepcopy(request)
        request.uri = _scrub_text(request.uri, secret)
        request.body = _scrub_text(request.body, secret)
        return request

    def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
        response = copy.deepcopy(response)
        response["headers"] = {
            name: [_scrub_text(v, secret) for v in values]
            if isinstance(values, list)
            else _scrub_text(values, secret)
            for name, values in response.get("headers", {}).items()
            if name.lower() not in _DROPPED
        }
        body = response.get("body", {})
        if "string" in body:
            body["string"] = _scrub_text(body["string"], secret)
        return response

    recorder = vcr.VCR(
        record_mode="all",
        filter_headers=[("x-api-key", REDACTED), ("authorization", REDACTED)],
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
        match_on=["method", "path", "body"],
    )

    def around(slug: str, probe: str) -> AbstractContextManager[Any]:
        folder = directory / slug
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{probe}.yaml"
        path.unlink(missing_ok=True)  # record_mode "all" appends to an existing file
        return recorder.use_cassette(str(path))  # type: ignore[no-any-return]

    return around

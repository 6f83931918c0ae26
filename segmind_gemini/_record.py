"""Cassettes for ``segmind-gemini check --record``: vcrpy, with the key filtered out.

vcrpy is an optional dependency (``pip install 'segmind-gemini[record]'``); it is
imported only when recording is asked for.

A key can come back in any spelling a body can carry: literally, JSON-escaped (any
of its characters as ``\\uXXXX``, ``\\/``), URL-encoded (``%XX``, ``+``) or inside
base64. :func:`scrub` masks all of them; a gateway that echoes credentials must not
put them into a cassette.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

from segmind_gemini.errors import SegmindError
from segmind_gemini.secret_forms import secret_pattern

__all__ = ["REDACTED", "CassetteRecorder", "cassette_recorder", "scrub"]

REDACTED = "REDACTED"
# Never stored: cookies, and the account's balance.
_DROPPED = frozenset({"set-cookie", "x-remaining-credits"})

V = TypeVar("V")


def scrub(value: V, secrets: Iterable[str]) -> V:
    """``value`` (``str`` or ``bytes``; anything else as is) with every spelling of
    each secret replaced by ``REDACTED``."""
    for secret in secrets:
        if not secret:
            continue
        pattern = secret_pattern(secret)
        if isinstance(value, bytes):
            # surrogateescape: bytes that are not UTF-8 come back unchanged.
            text = value.decode("utf-8", "surrogateescape")
            value = pattern.sub(REDACTED, text).encode("utf-8", "surrogateescape")  # type: ignore[assignment]
        elif isinstance(value, str):
            value = pattern.sub(REDACTED, value)  # type: ignore[assignment]
    return value


def _credentials(headers: Any) -> list[str]:
    """The key as the request carried it (``x-api-key``, ``Authorization: Bearer``)."""
    found: list[str] = []
    for name, values in dict(headers or {}).items():
        if name.lower() not in ("x-api-key", "authorization"):
            continue
        for value in values if isinstance(values, list) else [values]:
            text = value.decode() if isinstance(value, bytes) else str(value)
            scheme, _, rest = text.partition(" ")
            text = rest if scheme.lower() == "bearer" and rest else text
            if text.strip() and text != REDACTED:
                found.append(text.strip())
    return found


class CassetteRecorder:
    """Called with ``(slug, probe)``, gives the context manager recording that probe.

    ``secrets`` holds every key the recorded requests carried (for scrubbing more).
    """

    def __init__(
        self, around: Callable[[str, str], AbstractContextManager[Any]], secrets: list[str]
    ) -> None:
        self._around = around
        self.secrets = secrets

    def __call__(self, slug: str, probe: str) -> AbstractContextManager[Any]:
        return self._around(slug, probe)


def cassette_recorder(directory: Path, secret: str | None = None) -> CassetteRecorder:
    """A ``(slug, probe) -> context manager`` that records into ``directory/slug/probe.yaml``.

    The ``x-api-key`` and ``authorization`` headers are replaced with ``REDACTED``; the
    key (``secret``, and whatever key the requests themselves carry) is cut out of
    URIs, bodies and response headers in every spelling :func:`scrub` knows; cookies
    and ``x-remaining-credits`` are dropped. Each probe's cassette is rewritten.

    Raises:
        SegmindError: vcrpy is not installed (it says which extra to install).
    """
    try:
        import vcr
    except ImportError:
        raise SegmindError(
            "--record needs vcrpy, which is not installed: pip install 'segmind-gemini[record]'"
        ) from None
    secrets: list[str] = [secret] if secret else []

    def scrub_request(request: Any) -> Any:
        for key in _credentials(request.headers):
            if key not in secrets:
                secrets.append(key)
        request = copy.deepcopy(request)
        for name in list(request.headers):
            if name.lower() in ("x-api-key", "authorization"):
                request.headers[name] = REDACTED
        request.uri = scrub(request.uri, secrets)
        request.body = scrub(request.body, secrets)
        return request

    def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
        response = copy.deepcopy(response)
        response["headers"] = {
            name: [scrub(v, secrets) for v in values]
            if isinstance(values, list)
            else scrub(values, secrets)
            for name, values in response.get("headers", {}).items()
            if name.lower() not in _DROPPED
        }
        body = response.get("body", {})
        if "string" in body:
            body["string"] = scrub(body["string"], secrets)
        return response

    recorder = vcr.VCR(
        record_mode="all",
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

    return CassetteRecorder(around, secrets)

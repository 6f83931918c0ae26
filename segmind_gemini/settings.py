"""Where the API key and base URL come from, and the defaults every client shares."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from .errors import InvalidRequestError, MissingAPIKeyError
from .registry import DEFAULT_MODEL  # defined once, in the registry

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RATE_LIMIT_WAIT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MODEL",
    "DEFAULT_TIMEOUT",
    "REQUESTS_PER_MINUTE_ENV",
    "resolve_api_key",
    "resolve_base_url",
    "resolve_requests_per_minute",
]

API_KEY_ENV = "SEGMIND_API_KEY"
BASE_URL_ENV = "SEGMIND_BASE_URL"
REQUESTS_PER_MINUTE_ENV = "SEGMIND_REQUESTS_PER_MINUTE"
DEFAULT_BASE_URL = "https://api.segmind.com/v1"
# Segmind averages 3-40 s a call; two minutes leaves room for long answers
# while still failing a hung call. Connecting should never take long.
DEFAULT_TIMEOUT = 120.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
# Large enough that asyncio.gather of a few hundred calls is not serialised.
DEFAULT_MAX_CONNECTIONS = 256
# A call may wait this long for its turn under a rate limit: 15 Segmind windows. Longer
# waits (daily quotas) fail at once with retry_after instead.
DEFAULT_MAX_RATE_LIMIT_WAIT = 900.0


def resolve_api_key(api_key: str | None) -> str:
    """Return the key given, else ``$SEGMIND_API_KEY``; raise a clear error when neither is set."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if key is None or not key.strip():
        raise MissingAPIKeyError(
            f"No Segmind API key, so nothing was sent: pass api_key=... or set the "
            f"{API_KEY_ENV} environment variable (keys are at "
            "https://cloud.segmind.com/console/api-keys)."
        )
    return key.strip()


def _is_loopback(host: str) -> bool:
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_base_url(base_url: str | None) -> str:
    """The base URL given, else ``$SEGMIND_BASE_URL``, else Segmind's; no trailing ``/``.

    Plain ``http://`` is refused except for loopback hosts (the emulator), so a
    typo can never send the API key unencrypted over a network.
    """
    url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidRequestError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, got {url!r}"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InvalidRequestError(
            f"Refusing plain http:// to {parts.hostname}: the API key would travel unencrypted. "
            "Use https://, or http:// only for a loopback host such as 127.0.0.1."
        )
    return url


def resolve_requests_per_minute(value: int | None) -> int | None:
    """The pace given, else ``$SEGMIND_REQUESTS_PER_MINUTE``, else ``None`` (learn it).

    >>> resolve_requests_per_minute(50)
    50
    """
    source = "requests_per_minute"
    if value is None:
        raw = os.environ.get(REQUESTS_PER_MINUTE_ENV, "").strip()
        if not raw:
            return None
        source = REQUESTS_PER_MINUTE_ENV
        try:
            value = int(raw)
        except ValueError:
            raise InvalidRequestError(
                f"{REQUESTS_PER_MINUTE_ENV} must be a whole number of requests such as 50, "
                f"got {raw!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(
            f"{source} must be a whole number of requests, 1 or more (Segmind's plans: "
            f"5 free, 50 Pro), got {value!r}"
        )
    return value

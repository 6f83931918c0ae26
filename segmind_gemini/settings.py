"""Where the API key and base URL come from, and the defaults every client shares."""

from __future__ import annotations

import ipaddress
import math
import os
import threading
import unicodedata
import warnings
from collections.abc import Callable, Collection
from typing import Any, NoReturn, Protocol
from urllib.parse import urlsplit

from segmind_gemini.errors import InvalidAPIKeyError, InvalidRequestError, MissingAPIKeyError
from segmind_gemini.registry import DEFAULT_MODEL  # defined once, in the registry
from segmind_gemini.secret_forms import secret_pattern

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
    "MAX_COUNT",
    "MAX_SECONDS",
    "MIN_KEY_LENGTH",
    "REQUESTS_PER_MINUTE_ENV",
    "APIKey",
    "SecretLike",
    "as_secret",
    "check_count",
    "check_seconds",
    "hide_secrets",
    "resolve_api_key",
    "resolve_base_url",
    "resolve_requests_per_minute",
    "resolve_secret",
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


#: No Segmind key is this short; masking a shorter "key" in answers would only
#: rewrite ordinary text (``"k"`` would mask every k).
MIN_KEY_LENGTH = 8
# What is safe to strip from a key pasted or read from a file: surrounding
# whitespace and a byte-order mark.
_STRIP = " \t\r\n\v\f\ufeff"
_MASK = "**********"


class SecretLike(Protocol):
    """Anything holding a secret behind ``get_secret_value()`` (pydantic's ``SecretStr``)."""

    def get_secret_value(self) -> str: ...


class APIKey:
    """The API key, masked in every ``repr``, ``str`` and traceback's frame locals.

    The plain text is read only where the header is built; everywhere else the key
    travels as this object, so a debugger, ``--showlocals`` or Sentry sees ``'**********'``.
    """

    __slots__ = ("_bytes", "_value", "maskable")

    def __init__(self, value: str) -> None:
        self._value = value
        self._bytes = value.encode("utf-8", "surrogatepass")
        #: Whether echoes of the key are masked in answers (see :data:`MIN_KEY_LENGTH`).
        self.maskable = len(value) >= MIN_KEY_LENGTH

    def get_secret_value(self) -> str:
        return self._value

    get = get_secret_value

    def get_bytes(self) -> bytes:
        """The key as UTF-8, to look for it in raw bodies."""
        return self._bytes

    def mask(self, text: str) -> str:
        """``text`` with the key masked, when the key is long enough to be one.

        Escaped spellings count too (``\\u002d``, doubled backslashes, ``%2D``): a gateway
        that wraps an upstream JSON error in a string escapes the key once more.
        """
        if not self.maskable:
            return text
        if self._value in text:
            text = text.replace(self._value, _MASK)
        if "\\" in text or "%" in text:
            text = secret_pattern(self._value, in_base64=False).sub(_MASK, text)
        return text

    def __repr__(self) -> str:
        return f"'{_MASK}'"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("an API key is never pickled")


def resolve_api_key(api_key: str | SecretLike | None) -> str:
    """The key given, else ``$SEGMIND_API_KEY``, as plain text (see :func:`resolve_secret`)."""
    return resolve_secret(api_key).get_secret_value()


def resolve_secret(api_key: str | SecretLike | APIKey | None) -> APIKey:
    """The key given, else ``$SEGMIND_API_KEY``, as an :class:`APIKey`.

    Surrounding whitespace and a byte-order mark are stripped; any other character
    that cannot travel in an HTTP header is refused with :class:`InvalidAPIKeyError`,
    which never quotes the key. No frame of this function holds the key as plain text.
    """
    key = as_secret(api_key)
    del api_key
    if key is None:
        key = as_secret(os.environ.get(API_KEY_ENV))
    if key is None or not key.get_secret_value():
        raise MissingAPIKeyError(
            f"No Segmind API key, so nothing was sent: pass api_key=... or set the "
            f"{API_KEY_ENV} environment variable (keys are at "
            "https://cloud.segmind.com/console/api-keys)."
        )
    problem = _key_problem(key)
    if problem:
        raise InvalidAPIKeyError(f"The Segmind API key {problem}; nothing was sent.")
    if not key.maskable:
        _warn_short_key()
    return key


def as_secret(value: Any) -> APIKey | None:
    """``value`` stripped and wrapped, unchecked (``None`` for ``None``); never raises for
    a string, so a caller can drop its plain-text argument before any check can fail."""
    if isinstance(value, APIKey):
        return value
    if value is not None and not isinstance(value, str):
        getter = getattr(value, "get_secret_value", None)
        if getter is None:
            raise InvalidAPIKeyError(
                f"api_key must be a string or a SecretStr, got {type(value).__name__}"
            )
        value = getter()
        if not isinstance(value, str):
            raise InvalidAPIKeyError("api_key's secret value must be a string")
    if value is None:
        return None
    return APIKey(value.strip(_STRIP))


def _key_problem(key: APIKey) -> str | None:
    """Why the key cannot be sent as a header value (naming the character, never the key)."""
    for position, char in enumerate(key.get_secret_value(), 1):
        if not "\x21" <= char <= "\x7e":
            name = unicodedata.name(char, "a control character")
            return (
                f"contains U+{ord(char):04X} ({name}) at character {position}, which no "
                "Segmind key has and an HTTP header cannot carry (copied from a file or a "
                "web page?)"
            )
    return None


def hide_secrets(values: Any, names: Collection[str], wrap: Callable[[str], Any]) -> Any:
    """``values`` (a model's raw arguments) with the plain-text secrets under ``names`` wrapped.

    The adapters run this before any other validation (pydantic ``SecretStr`` as
    ``wrap``), so a ``ValidationError`` about another argument, whose ``input`` is the
    whole argument dict, shows the key masked in its message, ``errors()`` and ``json()``.
    """
    if isinstance(values, dict) and any(isinstance(values.get(name), str) for name in names):
        return {k: wrap(v) if k in names and isinstance(v, str) else v for k, v in values.items()}
    return values


_short_key_warned = threading.Event()


def _warn_short_key() -> None:
    if not _short_key_warned.is_set():
        _short_key_warned.set()
        warnings.warn(
            f"The API key is shorter than {MIN_KEY_LENGTH} characters, so it cannot be a "
            "Segmind key (fine for a local emulator); echoes of it are not masked in answers.",
            UserWarning,
            stacklevel=4,
        )


#: The most seconds any setting may hold: a week. Longer is a mistake (or ``inf``),
#: and would overflow the clocks and timers that carry it.
MAX_SECONDS = 7 * 24 * 3600.0
#: The largest count (retries, connections, requests per minute) a setting may hold.
MAX_COUNT = 1_000_000


def check_seconds(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """``value`` as float seconds; a clear error unless finite, positive and at most a week."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _refuse(name, value, "a number of seconds")
    seconds = float(value)
    low_ok = seconds >= 0 if allow_zero else seconds > 0
    if not (math.isfinite(seconds) and low_ok and seconds <= MAX_SECONDS):
        least = "0 or more" if allow_zero else "more than 0"
        _refuse(name, value, f"a finite number of seconds, {least} and at most {MAX_SECONDS:g}")
    return seconds


def check_count(name: str, value: Any, *, minimum: int = 0) -> int:
    """``value`` as a whole number between ``minimum`` and :data:`MAX_COUNT`."""
    if isinstance(value, bool) or not isinstance(value, int) or not (minimum <= value <= MAX_COUNT):
        _refuse(name, value, f"a whole number from {minimum} to {MAX_COUNT}")
    return int(value)


def _refuse(name: str, value: Any, wanted: str) -> NoReturn:
    shown = repr(value) if isinstance(value, (int, float)) else type(value).__name__
    raise InvalidRequestError(f"{name} must be {wanted}, got {shown}")


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
    if "@" in parts.netloc:
        # A password here would be shown by every repr, log line and error that names the
        # URL; the key travels in a header, and a proxy's credentials belong to the proxy
        # settings (HTTPS_PROXY) or additional headers.
        raise InvalidRequestError(
            "base_url must not hold a user name or password (user:password@host): the "
            "Segmind key travels in a header; for a proxy use HTTPS_PROXY or headers"
        )
    if parts.query or parts.fragment or "?" in url or "#" in url:
        # The model's slug is appended to the path: a query would swallow it, and one
        # holding a key would be named by every error that names the URL.
        raise InvalidRequestError(
            "base_url must not hold a query or fragment (?... or #...): the model is "
            "appended to its path, and the key travels in a header"
        )
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidRequestError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, "
            f"got {url.split('?', 1)[0]!r}"
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
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise InvalidRequestError(
            f"{source} must be a whole number of requests, 1 or more (Segmind's plans: "
            f"5 free, 50 Pro), got {value!r}"
        )
    return value

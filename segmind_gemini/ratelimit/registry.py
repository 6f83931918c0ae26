"""One governor per (API key, origin, store) in a process, forgotten when idle.

Clients hold their governor; the registry holds it weakly, plus strongly for
:data:`IDLE_AFTER` seconds after its last use, so clients made and dropped per call
still share what was learned, and a process that meets thousands of keys and origins
does not keep a governor for each of them for ever.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import weakref

from segmind_gemini.ratelimit.governor import RateGovernor
from segmind_gemini.ratelimit.store import open_store, opened_stores, resolve_rate_limit_store

__all__ = ["IDLE_AFTER", "forget_rate_limits", "governor_for", "live_governors"]

#: A governor no client holds is dropped this long after its last use.
IDLE_AFTER = 600.0
#: How often the registry looks for idle governors.
_SWEEP_EVERY = 30.0

_Key = tuple[str, str, str]
_registry: weakref.WeakValueDictionary[_Key, RateGovernor] = weakref.WeakValueDictionary()
_recent: dict[_Key, RateGovernor] = {}
_registry_lock = threading.Lock()
_last_sweep = 0.0


def governor_for(api_key: str, origin: str, store: str | None = None) -> RateGovernor:
    """The process-wide governor of ``api_key`` at ``origin`` (created on first use).

    ``store`` is a ``rate_limit_store`` value (``None``: ``$SEGMIND_RATE_LIMIT_STORE``,
    else ``"machine"``); a value that names no store raises
    :class:`~segmind_gemini.errors.InvalidRequestError`. Keyed by a hash of the API key,
    so neither the registry nor any store holds the secret.
    """
    spec = resolve_rate_limit_store(store)
    digest = hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).hexdigest()
    origin = origin.lower()
    key = (digest, origin, spec)
    global _last_sweep
    with _registry_lock:
        now = time.monotonic()
        if now - _last_sweep > _SWEEP_EVERY or len(_recent) > 1000:
            _last_sweep = now
            for old in [k for k, g in _recent.items() if g.idle_since(now) > IDLE_AFTER]:
                del _recent[old]
        governor = _registry.get(key)
        if governor is None:
            governor = RateGovernor(origin, store=open_store(spec), key=digest)
            _registry[key] = governor
        governor.last_used = now
        _recent[key] = governor
        return governor


def live_governors() -> int:
    """How many governors this process keeps (for tests and diagnostics)."""
    with _registry_lock:
        return len(_registry)


def forget_rate_limits(origin: str | None = None) -> None:
    """Make every governor (or those of ``origin``) forget what it learned.

    For tests: a 429 scripted in one test must not hold back the next one. Shared
    stores this process opened forget it too.
    :meth:`SegmindEmulator.reset() <segmind_gemini.testing.SegmindEmulator.reset>` calls it
    for its own origin.
    """
    where = None if origin is None else origin.lower()
    with _registry_lock:
        governors = [g for (_, o, _), g in _registry.items() if where is None or o == where]
    for store in opened_stores():
        store.forget(where)
    for governor in governors:
        governor.forget()


def _after_fork() -> None:
    # A child must not inherit a lock held by a thread that no longer exists.
    global _registry_lock, _registry
    _registry_lock = threading.Lock()
    _registry = weakref.WeakValueDictionary()
    _recent.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)

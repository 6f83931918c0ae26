"""Where the rate state of each key lives: one small interface, three places.

* :class:`ProcessStore` (``"process"``): a dict in this process, on its monotonic clock.
* :class:`SqliteStore` (``"machine"``, ``"sqlite:///PATH"``): one SQLite file in WAL mode;
  each change is one ``BEGIN IMMEDIATE`` transaction, on the machine's wall clock.
  A process that dies holding the write lock frees it (SQLite's locks are the
  kernel's), so a crashed worker never blocks the others.
* :class:`RedisStore` (``"redis://"``, ``"rediss://"``): one key per API key and origin,
  changed under ``WATCH``/``MULTI``/``EXEC`` and timed by Redis's own ``TIME``, so many
  machines agree on one clock; every key expires a day after its last change.

A store holds :class:`~segmind_gemini.ratelimit.policy.WindowPolicy` documents. A
change is a function of ``(policy, now)`` that only changes the policy (it may run again
when another process changed the state meanwhile). A store that fails raises
:class:`StoreUnavailable`; the governor then carries on alone (see ``governor.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.ratelimit.policy import WindowPolicy

__all__ = [
    "RATE_LIMIT_STORE_ENV",
    "ProcessStore",
    "RateStore",
    "RedisStore",
    "SqliteStore",
    "StoreUnavailable",
    "machine_store_path",
    "open_store",
    "resolve_rate_limit_store",
]

T = TypeVar("T")
Change = Callable[[WindowPolicy, float], T]

RATE_LIMIT_STORE_ENV = "SEGMIND_RATE_LIMIT_STORE"
#: A state untouched this long is deleted (SQLite) or expires (Redis).
STATE_TTL = 86400


class StoreUnavailable(Exception):
    """The store could not be read or written (never leaves the package)."""


class RateStore(ABC):
    """The rate state of every (key digest, origin) in one place."""

    #: Whether other processes see the same state.
    shared: bool = True
    #: While nothing is learned, calls may go without asking the store for this many
    #: seconds after a look, and are counted there late (0: every call is counted in
    #: the store before it is sent, for stores whose transactions take microseconds).
    idle_recheck: float = 0.0

    def __init__(self, spec: str) -> None:
        self.spec = spec

    @abstractmethod
    def transact(self, key: str, origin: str, change: Change[T], *, write: bool = True) -> T:
        """Apply ``change`` to the state of ``key`` at ``origin`` atomically; return its result."""

    @abstractmethod
    def forget(self, origin: str | None = None) -> None:
        """Drop the state of every key (at ``origin``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_safe(self.spec)!r})"  # logged: no password


class ProcessStore(RateStore):
    """Nothing shared: a policy object per key, on ``clock``."""

    shared = False

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__("process")
        self.clock = clock
        self._policies: dict[tuple[str, str], WindowPolicy] = {}

    def transact(self, key: str, origin: str, change: Change[T], *, write: bool = True) -> T:
        policy = self._policies.get((key, origin))
        if policy is None:
            policy = self._policies[(key, origin)] = WindowPolicy()
        return change(policy, self.clock())

    def put(self, key: str, origin: str, policy: WindowPolicy) -> None:
        """Keep ``policy`` as the state of ``key`` at ``origin``."""
        self._policies[(key, origin)] = policy

    def forget(self, origin: str | None = None) -> None:
        for key, policy in self._policies.items():
            if origin is None or key[1] == origin:
                policy.forget()


#: How long a SQLite statement waits for another process's lock before the store counts
#: as unavailable.
BUSY_TIMEOUT = 1.0
#: SQLITE_BUSY and SQLITE_LOCKED (``sqlite3`` names them from Python 3.11 only).
_BUSY_CODES = (5, 6)


def _while_busy(step: Callable[[], T]) -> T:
    """Run ``step``, again while SQLite says busy, for up to :data:`BUSY_TIMEOUT`.

    Turning a new file to WAL needs the file to itself, and SQLite answers that request
    "database is locked" at once, without its busy handler, when another process is
    opening the same new file (four workers started together hit it one run in two).
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.001
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
            if code is None:
                busy = "locked" in str(exc) or "busy" in str(exc)
            else:  # SQLITE_BUSY or SQLITE_LOCKED, extended codes included
                busy = (code & 0xFF) in _BUSY_CODES
            if not busy or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


class SqliteStore(RateStore):
    """One SQLite file (WAL mode) shared by every process that opens it."""

    # A transaction costs ~40-120 us, a third of a whole call to a local server; while
    # no limit is learned, one look every 10 ms (counting what went since) keeps the
    # per-call cost in the core's budget and the count at most 10 ms behind.
    idle_recheck = 0.01

    def __init__(self, spec: str, path: Path) -> None:
        super().__init__(spec)
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        # Connections inherited over fork(): never used nor closed in the child.
        self._inherited: list[sqlite3.Connection] = []

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self._conn is not None:
            self._inherited.append(self._conn)
        self._conn = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(self.path), timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            _while_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS rate_state (key TEXT NOT NULL, origin TEXT NOT NULL,"
                " doc TEXT NOT NULL, updated REAL NOT NULL, PRIMARY KEY (key, origin))"
            )
            conn.execute("DELETE FROM rate_state WHERE updated < ?", (time.time() - STATE_TTL,))
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _drop(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None

    def transact(self, key: str, origin: str, change: Change[T], *, write: bool = True) -> T:
        with self._lock:
            try:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    now = time.time()
                    row = conn.execute(
                        "SELECT doc FROM rate_state WHERE key = ? AND origin = ?", (key, origin)
                    ).fetchone()
                    policy = WindowPolicy.from_doc(row[0] if row else None, now)
                    result = change(policy, now)
                    if write:
                        conn.execute(
                            "INSERT OR REPLACE INTO rate_state VALUES (?, ?, ?, ?)",
                            (key, origin, policy.to_doc(), now),
                        )
                    conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as exc:
                self._drop()
                raise StoreUnavailable(f"{self.path}: {exc}") from None
            return result

    def forget(self, origin: str | None = None) -> None:
        with self._lock:
            try:
                conn = self._connection()
                if origin is None:
                    conn.execute("DELETE FROM rate_state")
                else:
                    conn.execute("DELETE FROM rate_state WHERE origin = ?", (origin,))
            except (sqlite3.Error, OSError):
                self._drop()

    def after_fork(self) -> None:
        """In a forked child: the parent's lock and connection are not ours."""
        self._lock = threading.Lock()


class RedisStore(RateStore):
    """A Redis server shared by many machines (the ``redis`` client, ``[redis]`` extra)."""

    # Three network round trips a call are dear while no limit is in play.
    idle_recheck = 0.05

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        try:
            import redis
        except ImportError:
            raise InvalidRequestError(
                f"rate_limit_store={_safe(spec)!r} needs the redis client: "
                "pip install 'segmind-gemini[redis]'"
            ) from None
        self._redis = redis
        self._lock = threading.Lock()
        self._client: Any = None
        self._pid = 0

    def _connection(self) -> Any:
        if self._client is None or self._pid != os.getpid():
            # A forked child opens its own connections (the parent's sockets are not ours).
            self._client = self._redis.Redis.from_url(
                self.spec, socket_timeout=1.0, socket_connect_timeout=1.0
            )
            self._pid = os.getpid()
        return self._client

    @staticmethod
    def _name(key: str, origin: str) -> str:
        where = hashlib.sha256(origin.encode()).hexdigest()[:16]
        return f"segmind_gemini:rate:{key[:32]}:{where}"

    def transact(self, key: str, origin: str, change: Change[T], *, write: bool = True) -> T:
        name = self._name(key, origin)
        try:
            client = self._connection()
            with client.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(name)
                        doc = pipe.get(name)
                        seconds, micros = pipe.time()
                        now = seconds + micros / 1e6
                        policy = WindowPolicy.from_doc(doc, now)
                        result = change(policy, now)
                        if not write:
                            pipe.unwatch()
                            return result
                        pipe.multi()
                        pipe.set(name, policy.to_doc(), ex=STATE_TTL)
                        pipe.execute()
                        return result
                    except self._redis.WatchError:
                        continue  # another process changed it first: apply ours to theirs
        except self._redis.RedisError as exc:
            self._client = None
            raise StoreUnavailable(f"{_safe(self.spec)}: {type(exc).__name__}") from None

    def forget(self, origin: str | None = None) -> None:
        pattern = "segmind_gemini:rate:*"
        if origin is not None:
            pattern += ":" + hashlib.sha256(origin.encode()).hexdigest()[:16]
        try:
            client = self._connection()
            for name in client.scan_iter(match=pattern, count=500):
                client.delete(name)
        except self._redis.RedisError:
            self._client = None


def _safe(spec: str) -> str:
    """A store URL without its password (``user:pw@`` or ``?password=...``)."""
    if "?" in spec:
        spec = spec.split("?", 1)[0] + "?***"
    if "@" in spec and "://" in spec:
        scheme, rest = spec.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return spec


def machine_store_path() -> Path:
    """The ``"machine"`` store: a file in this user's cache directory."""
    from segmind_gemini.reports import user_cache_dir

    return user_cache_dir() / "rate-limits.sqlite3"


# Store URLs with a password, by the stand-in the adapters keep in their fields (what
# reprs, callbacks, traces and serialisations show). Process-local on purpose: a
# pickled model does not carry the password.
_hidden: dict[str, str] = {}
_HIDE_SALT = os.urandom(16)


def hide_store_password(spec: str) -> str:
    """``spec`` with its password replaced by a stand-in valid in this process only.

    >>> hide_store_password("process")
    'process'
    >>> hide_store_password("redis://:pw@cache:6379/0").startswith("redis://***")
    True
    """
    safe = _safe(spec)
    if safe == spec:
        return spec
    tag = hmac.new(_HIDE_SALT, spec.encode(), hashlib.sha256).hexdigest()[:8]
    hidden = safe.replace("***", f"***{tag}", 1)
    _hidden[hidden] = spec
    return hidden


def resolve_rate_limit_store(value: str | None) -> str:
    """The store named by ``value``, else ``$SEGMIND_RATE_LIMIT_STORE``, else ``"machine"``.

    >>> resolve_rate_limit_store("process")
    'process'
    """
    source = "rate_limit_store"
    if value is None:
        value = os.environ.get(RATE_LIMIT_STORE_ENV, "").strip() or "machine"
        source = RATE_LIMIT_STORE_ENV
    if not isinstance(value, str):
        raise InvalidRequestError(f"{source} must be a string, got {value!r}")
    spec = _hidden.get(value, value).strip()
    lowered = spec.lower()
    if lowered in ("machine", "process"):
        return lowered
    if lowered.startswith("sqlite:///") and len(spec) > len("sqlite:///"):
        return spec
    if lowered.startswith(("redis://", "rediss://")) and len(spec.split("://", 1)[1]) > 0:
        return spec
    raise InvalidRequestError(
        f"{source} must be 'machine', 'process', 'sqlite:///PATH', 'redis://HOST:PORT/DB' or "
        f"'rediss://...', got {_safe(spec)!r}"
    )


_stores: dict[str, RateStore] = {}
_stores_lock = threading.Lock()


def open_store(spec: str) -> RateStore | None:
    """The shared store named by a resolved ``spec`` (one per process), or ``None`` for
    ``"process"``."""
    if spec == "process":
        return None
    if spec == "machine":
        path = machine_store_path()
        key = f"sqlite:///{path}"
    else:
        key = spec
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            if key.lower().startswith("sqlite:///"):
                store = SqliteStore(spec, Path(key[len("sqlite:///") :]))
            else:
                store = RedisStore(spec)
            _stores[key] = store
        return store


def opened_stores() -> list[RateStore]:
    """Every shared store this process opened."""
    with _stores_lock:
        return list(_stores.values())


def _after_fork() -> None:
    global _stores_lock
    _stores_lock = threading.Lock()
    for store in _stores.values():
        if isinstance(store, SqliteStore):
            store.after_fork()
        elif isinstance(store, RedisStore):
            store._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)

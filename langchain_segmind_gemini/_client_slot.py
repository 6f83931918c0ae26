"""Where a ChatSegmindGemini keeps its core client, so that copies build their own."""

from __future__ import annotations

import threading
from typing import Any

from segmind_gemini.client.gemini_client import SegmindGeminiClient

# One lock for every model object: building a client is rare, and a per-object
# lock would make the model unpicklable and un-deep-copyable.
CLIENT_LOCK = threading.Lock()


class ClientSlot:
    """Holds the core client and the settings it was built with.

    Copies of a model (``copy.deepcopy``, pickling) get an empty slot and build
    their own client on first use: a live connection pool cannot be copied.
    """

    __slots__ = ("client", "key")

    def __init__(
        self, client: SegmindGeminiClient | None = None, key: tuple[Any, ...] | None = None
    ) -> None:
        self.client = client
        self.key = key

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientSlot:
        return ClientSlot()

    def __reduce__(self) -> tuple[type[ClientSlot], tuple[()]]:
        return (ClientSlot, ())

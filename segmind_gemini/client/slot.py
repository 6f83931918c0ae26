"""Where an adapter object keeps its core client, so that copies build their own.

Both adapters (``ChatSegmindGemini``, ``SegmindGemini``) hold a :class:`ClientSlot` in
a pydantic private attribute and get their client through :func:`slotted_client`, with
a key of every setting the client is built from: a setting changed (assigned or in
place) or a ``model_copy(update=...)`` with another key or headers gets its own client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
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


def slotted_client(
    model: Any, key: tuple[Any, ...], build: Callable[[], SegmindGeminiClient]
) -> SegmindGeminiClient:
    """``model``'s client for the settings ``key``; ``build()`` when it has none for them.

    ``model`` keeps its slot in the private attribute ``_slot``. ``model_copy()`` shares
    the slot: a copy with other settings gets a slot of its own rather than swapping
    the client under the original.
    """
    private = model.__pydantic_private__
    slot: ClientSlot = private["_slot"]
    client = slot.client
    if client is not None and (slot.key is key or slot.key == key):
        return client
    with CLIENT_LOCK:
        slot = private["_slot"]
        if slot.client is not None and slot.key == key:
            return slot.client
        client = build()
        if slot.client is None:
            slot.client, slot.key = client, key
        else:
            private["_slot"] = ClientSlot(client, key)
        return client

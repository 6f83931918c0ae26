"""Markers the answer checker (:mod:`segmind_gemini.wire.validation`) reads from the wire types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["REQUIRED_SHAPE", "Shape"]


class _RequiredShape:
    """Marker: a wrong JSON type here makes the whole answer unreadable."""

    def __repr__(self) -> str:
        return "REQUIRED_SHAPE"


#: ``Annotated[..., REQUIRED_SHAPE]`` marks a field on the path to the answer.
REQUIRED_SHAPE = _RequiredShape()


@dataclass(frozen=True, eq=False)
class Shape:
    """An object's fields given as a table rather than a ``TypedDict`` class.

    The checker treats it exactly like a ``TypedDict`` whose annotations are
    ``fields`` (the answer-part shape is built from :data:`~segmind_gemini.wire.parts.PARTS`).
    """

    name: str
    fields: Mapping[str, Any]

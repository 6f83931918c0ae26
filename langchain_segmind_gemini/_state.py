"""What a ``ChatSegmindGemini`` works out from its fields, kept until a field changes.

Every call used to rebuild, from the same fields, the constructor's settings layer,
LangChain's ``_identifying_params`` and the client's settings key (~15 us a call
between real socket calls). :class:`StateCache` keeps them with a fingerprint of
the fields they were built from, and a call rebuilds them only when the fingerprint
differs:

* every field this class (or a subclass) declares is compared by identity, so any
  assignment, ``model_copy(update=...)`` or ``__dict__`` write is seen;
* the fields holding lists or dicts (``generation_config``, ``model_kwargs``,
  ``stop``, ``labels``...) may also change in place, so their contents are
  compared too, as ``marshal`` bytes (exact: ``1``, ``1.0`` and ``True`` differ).
  Contents ``marshal`` cannot write (a pydantic class as ``response_schema``, enum
  members) make the state uncacheable, and everything is rebuilt on each call, as
  before this cache existed.
"""

from __future__ import annotations

import functools
import marshal
import operator
import typing
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

__all__ = ["StateCache"]

T = TypeVar("T")

_SAME = operator.is_


def _is_container(annotation: Any) -> bool:
    """Whether a field's type admits a list or a dict (values that change in place)."""
    origin = typing.get_origin(annotation)
    if annotation in (list, dict) or origin in (list, dict):
        return True
    if origin is typing.Annotated:
        return _is_container(typing.get_args(annotation)[0])
    return any(_is_container(arg) for arg in typing.get_args(annotation) if origin is not None)


@functools.cache
def _watched(cls: type[BaseModel]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fields the adapter adds to LangChain's, and which of them hold containers."""
    own = tuple(n for n in cls.model_fields if n not in BaseChatModel.model_fields)
    containers = tuple(n for n in own if _is_container(cls.model_fields[n].annotation))
    return own, containers


_Reader = Callable[[dict[str, Any]], tuple[Any, ...]]


def _getter(names: tuple[str, ...]) -> _Reader:
    """A C-level reader of ``names`` from a ``__dict__``, always giving a tuple."""
    if len(names) > 1:
        return operator.itemgetter(*names)
    return lambda state: tuple(state[n] for n in names)


@functools.cache
def _getters(cls: type[BaseModel]) -> tuple[_Reader, _Reader]:
    own, containers = _watched(cls)
    return _getter(own), _getter(containers)


class StateCache(Generic[T]):
    """One model object's derived values, with the fingerprint of the fields they came from.

    Never copied or pickled with the model (a copy starts empty); shared by
    ``model_copy()`` copies, which is safe: each lookup checks the caller's own fields.
    """

    __slots__ = ("_entry",)

    def __init__(self) -> None:
        # One tuple (values, container bytes, derived), replaced whole: threads
        # reading it never see half an update.
        self._entry: tuple[tuple[Any, ...], bytes, T] | None = None

    def get(self, model: BaseModel, build: Callable[[], T]) -> T:
        """The derived values for ``model``'s current fields; ``build()`` when they changed."""
        state = model.__dict__
        values_of, containers_of = _getters(type(model))
        try:
            values = values_of(state)
            # Version 2 writes no back-references: the bytes depend on the contents alone.
            blob = marshal.dumps(containers_of(state), 2)
        except (KeyError, ValueError):
            # A field missing from __dict__, or contents marshal cannot write: no cache.
            return build()
        entry = self._entry
        if entry is not None and entry[1] == blob and all(map(_SAME, values, entry[0])):
            return entry[2]
        derived = build()
        self._entry = (values, blob, derived)
        return derived

    def __deepcopy__(self, memo: dict[int, Any]) -> StateCache[T]:
        return StateCache()

    def __reduce__(self) -> tuple[type[StateCache[T]], tuple[()]]:
        return (StateCache, ())

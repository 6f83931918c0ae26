"""What an adapter object works out from its fields, kept until a field changes.

Both adapters (``ChatSegmindGemini``, ``SegmindGemini``) are pydantic models whose
calls used to rebuild, from the same fields, the constructor's settings layer and
(LangChain) ``_identifying_params`` and the client's settings key (~15 us a call
between real socket calls). :class:`StateCache` keeps such values with a
fingerprint of the fields they were built from (every field the adapter class or a
subclass declares, not the framework base class's), and a call rebuilds them only
when the fingerprint differs:

* fields of plain JSON-like types (numbers, strings, booleans, ``None``, lists and
  dicts of them) are fingerprinted by value, as ``marshal`` bytes: exact (``1``,
  ``1.0`` and ``True`` differ, so do ``0.0`` and ``-0.0``), and a list or dict
  changed in place (``model.generation_config["topK"] = 5``) is seen;
* the others (the key, a ``SecretStr``) by identity: an assignment is seen.

A value ``marshal`` cannot write (an enum member, a pydantic class as
``response_schema``, a subclass of a builtin) makes the state uncacheable, and
everything is rebuilt on each call, as before this cache existed.

What is kept is built from exactly what was fingerprinted: ``build`` gets a copy of
the model holding those values (the by-value ones decoded from the fingerprint's own
bytes), so another thread that changes a field while a build runs, and changes it
back, cannot leave values under a fingerprint they did not come from.

Duck-typed on pydantic's ``model_fields`` (name -> an object with ``.annotation``),
so the core does not depend on pydantic.
"""

from __future__ import annotations

import marshal
import operator
import types
import typing
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["StateCache"]

T = TypeVar("T")

_SAME = operator.is_
_PLAIN = frozenset({str, int, float, bool, type(None), list, dict, typing.Any})
_Reader = Callable[[dict[str, Any]], tuple[Any, ...]]
M = TypeVar("M")


def _by_value(annotation: Any) -> bool:
    """Whether a field's type is built from plain JSON-like types only."""
    origin = typing.get_origin(annotation)
    if origin is None:
        return annotation in _PLAIN
    if origin is typing.Literal:
        return all(type(arg) in _PLAIN for arg in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _by_value(typing.get_args(annotation)[0])
    if origin in (list, dict, typing.Union, types.UnionType):
        return all(_by_value(arg) for arg in typing.get_args(annotation))
    return False


def _reader(names: tuple[str, ...]) -> _Reader:
    """A C-level reader of ``names`` from a ``__dict__``, always giving a tuple."""
    if len(names) > 1:
        return operator.itemgetter(*names)
    if names:
        (name,) = names
        return lambda state: (state[name],)
    return lambda state: ()


_Readers = tuple[_Reader, _Reader, tuple[str, ...], tuple[str, ...]]
_READERS: dict[tuple[type[object], type[object]], _Readers] = {}


def _readers(cls: type[object], framework: type[object]) -> _Readers:
    """Readers of ``cls``'s own fields (not ``framework``'s): by value, and the others;
    then their names."""
    fields: dict[str, Any] = typing.cast(Any, cls).model_fields
    theirs: dict[str, Any] = typing.cast(Any, framework).model_fields
    own = [n for n in fields if n not in theirs]
    by_value = tuple(n for n in own if _by_value(fields[n].annotation))
    by_identity = tuple(n for n in own if n not in by_value)
    readers = _READERS[cls, framework] = (
        _reader(by_value),
        _reader(by_identity),
        by_value,
        by_identity,
    )
    return readers


class StateCache(Generic[T]):
    """One model object's derived values, with the fingerprint of the fields they came from.

    ``framework`` is the framework's base class: its fields (callbacks, tags...) are
    not fingerprinted, so values derived from them must not be kept here.
    Never copied or pickled with the model (a copy starts empty); shared by
    ``model_copy()`` copies, which is safe: each lookup checks the caller's own fields.
    """

    __slots__ = ("_entry", "_framework")

    def __init__(self, framework: type[object]) -> None:
        self._framework = framework
        # One tuple (identity-compared values, value bytes, derived), replaced whole:
        # threads reading it never see half an update.
        self._entry: tuple[tuple[Any, ...], bytes, T] | None = None

    def get(self, model: M, build: Callable[[M], T]) -> T:
        """The derived values for ``model``'s current fields; ``build(snapshot)`` when
        they changed, ``snapshot`` being a copy of ``model`` with the fingerprinted values.
        """
        state = typing.cast(Any, model).__dict__
        cls = type(model)
        readers = _READERS.get((cls, self._framework))
        by_value, by_identity, value_names, identity_names = readers or _readers(
            cls, self._framework
        )
        try:
            # Version 2 writes no back-references: the bytes depend on the values alone.
            blob = marshal.dumps(by_value(state), 2)
            others = by_identity(state)
        except (KeyError, ValueError):
            # A field missing from __dict__, or a value marshal cannot write: no cache.
            return build(model)
        entry = self._entry
        if entry is not None and entry[1] == blob and all(map(_SAME, others, entry[0])):
            return entry[2]
        # Built from what was fingerprinted, not from fields another thread may be
        # changing meanwhile: the by-value fields decoded from the bytes (a private
        # deep copy; bytes written just above, never read from outside), the others as read.
        values = marshal.loads(blob)  # noqa: S302
        update = dict(zip(value_names, values, strict=True))
        update.update(zip(identity_names, others, strict=True))
        derived = build(typing.cast(Any, model).model_copy(update=update))
        self._entry = (others, blob, derived)
        return derived

    def __deepcopy__(self, memo: dict[int, Any]) -> StateCache[T]:
        return StateCache(self._framework)

    def __reduce__(self) -> tuple[type[StateCache[T]], tuple[type[object]]]:
        return (StateCache, (self._framework,))

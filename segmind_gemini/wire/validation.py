"""Check a decoded JSON answer against the wire types in :mod:`segmind_gemini.wire.types`.

One step between ``json.loads`` and the parser: :func:`conform` walks a body along
a ``TypedDict`` schema and returns a copy in which every listed field has the
type the schema names, so the parser reads fields without a guard per field.

* A field of the wrong JSON type is dropped (and noted in ``Conformed.ignored``),
  unless the schema marks it ``REQUIRED_SHAPE``: those lie on the path to the
  answer, and a wrong type there is noted in ``Conformed.errors`` instead, which
  the parser reports as :class:`~segmind_gemini.errors.ResponseParseError`.
* ``null`` counts as absent. Integers must be whole and finite (``1e400`` is
  neither); floats finite; booleans are not numbers.
* Strings with lone surrogates (a JSON ``"\\ud800"``) get U+FFFD in their place,
  so an answer can always be encoded again.
* Every camelCase field also covers its snake_case spelling (Gemini writes either).
* Strings anywhere under a listed field (also inside free-form ``dict[str, Any]``
  values) get the same surrogate repair; keys the schema does not list are kept
  as they are.

The checkers are built once per type from its annotations.

>>> from segmind_gemini.wire.types import UsageMetadata
>>> conform({"promptTokenCount": 1e400, "totalTokenCount": 7}, UsageMetadata).value
{'totalTokenCount': 7}
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from segmind_gemini.wire.parts import snake_case
from segmind_gemini.wire.shape import REQUIRED_SHAPE, Shape

__all__ = ["Conformed", "conform"]

_DROP: Any = object()
_SURROGATE = re.compile("[\ud800-\udfff]")

# A path is built only when something is wrong: (parent path, key) pairs.
_Path = tuple[Any, ...] | None
_Check = Callable[[Any, "Conformed", _Path], Any]


@dataclass
class Conformed:
    """The checked value, and what was wrong with the original.

    ``errors`` and ``ignored`` hold messages such as
    ``"candidates[0].content: expected an object, got list"``.
    """

    value: Any = None
    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _render(path: _Path) -> str:
    keys: list[Any] = []
    while path is not None:
        path, key = path
        keys.append(key)
    out = ""
    for key in reversed(keys):
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "the body"


_JSON_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}


def _json_name(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"the non-finite number {value!r}"
    return _JSON_NAMES.get(type(value), type(value).__name__)


class _Field:
    """One schema node: its checker, and what to call it in messages."""

    __slots__ = ("check", "name", "strict")

    def __init__(self, check: _Check, name: str, strict: bool) -> None:
        self.check = check
        self.name = name
        self.strict = strict


def _wrong(out: Conformed, path: _Path, node: _Field, value: Any) -> Any:
    note = f"{_render(path)}: expected {node.name}, got {_json_name(value)}"
    (out.errors if node.strict else out.ignored).append(note)
    return _DROP


def _check_str(value: Any, out: Conformed, path: _Path) -> Any:
    if type(value) is not str:
        return _DROP
    if value.isascii():
        return value
    return _SURROGATE.sub("\ufffd", value)


def _check_int(value: Any, out: Conformed, path: _Path) -> Any:
    kind = type(value)
    if kind is int:
        return value
    if kind is float and math.isfinite(value) and value.is_integer():
        return int(value)
    return _DROP


def _check_float(value: Any, out: Conformed, path: _Path) -> Any:
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else _DROP
    if kind is int:
        return float(value)
    return _DROP


def _check_bool(value: Any, out: Conformed, path: _Path) -> Any:
    return value if type(value) is bool else _DROP


def _repaired(value: Any) -> Any:
    """``value`` with lone surrogates replaced in every string; the same object if none.

    Written for speed (it runs on every free-form field of every answer): strings are
    checked inline and a container is copied only when something in it changes.
    """
    kind = type(value)
    if kind is str:
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if kind is list:
        copied: list[Any] | None = None
        for i, item in enumerate(value):
            new = _repaired_item(item)
            if new is not item and copied is None:
                copied = list(value)
            if copied is not None:
                copied[i] = new
        return value if copied is None else copied
    if kind is dict:
        result: dict[Any, Any] | None = None
        for key, item in value.items():
            new = _repaired_item(item)
            new_key = key if type(key) is not str or key.isascii() else _repaired(key)
            if new is item and new_key == key:
                continue
            if result is None:
                result = dict(value)
            if new_key != key:
                del result[key]
            result[new_key] = new
        return value if result is None else result
    return value


def _repaired_item(item: Any) -> Any:
    kind = type(item)
    if kind is str:
        if item.isascii():
            return item
        new = _SURROGATE.sub("\ufffd", item)
        return item if new == item else new
    if kind is dict or kind is list:
        return _repaired(item)
    return item


def repaired(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD, the same object when none
    (what conform() does to a free-form ``dict[str, Any]`` field)."""
    return _repaired(value)


def _check_any(value: Any, out: Conformed, path: _Path) -> Any:
    try:
        return _repaired(value)
    except RecursionError:  # absurdly deep free-form data: keep it, the parser never reads it
        return value


def _check_object(value: Any, out: Conformed, path: _Path) -> Any:
    if type(value) is dict:
        return _check_any(value, out, path)
    return _check_any(dict(value), out, path) if isinstance(value, Mapping) else _DROP


_SCALARS: dict[Any, tuple[_Check, str]] = {
    str: (_check_str, "a string"),
    int: (_check_int, "a whole number"),
    float: (_check_float, "a finite number"),
    bool: (_check_bool, "a boolean"),
    Any: (_check_any, "any value"),
}


def _field(hint: Any) -> _Field:
    strict = False
    if typing.get_origin(hint) is typing.Annotated:
        strict = REQUIRED_SHAPE in hint.__metadata__
        shapes = [m for m in hint.__metadata__ if isinstance(m, Shape)]
        hint = shapes[0] if shapes else hint.__origin__
    check, name = _checker(hint)
    return _Field(check, name, strict)


def _checker(hint: Any) -> tuple[_Check, str]:
    if isinstance(hint, Shape):
        return _typeddict_checker(hint), hint.name
    if hint in _SCALARS:
        return _SCALARS[hint]
    if typing.is_typeddict(hint):
        return _typeddict_checker(hint), "an object"
    origin = typing.get_origin(hint)
    if origin is list:
        return _list_checker(_field(typing.get_args(hint)[0])), "a list"
    if origin is dict:
        return _check_object, "an object"
    if origin in (Union, types.UnionType):
        options = [_checker(arg) for arg in typing.get_args(hint)]
        return _union_checker([c for c, _ in options]), " or ".join(n for _, n in options)
    raise TypeError(f"no checker for {hint!r}")  # pragma: no cover - a schema bug


def _union_checker(checks: list[_Check]) -> _Check:
    def check(value: Any, out: Conformed, path: _Path) -> Any:
        for one in checks:
            result = one(value, out, path)
            if result is not _DROP:
                return result
        return _DROP

    return check


def _list_checker(item: _Field) -> _Check:
    check_item = item.check

    def check(value: Any, out: Conformed, path: _Path) -> Any:
        if type(value) is not list:
            return _DROP
        kept: list[Any] | None = None  # copied only when an element changes
        for i, element in enumerate(value):
            result = check_item(element, out, (path, i))
            if result is _DROP:
                _wrong(out, (path, i), item, element)
            if result is not element and kept is None:
                kept = value[:i]
            if kept is not None and result is not _DROP:
                kept.append(result)
        return value if kept is None else kept

    return check


_COMPILED: dict[Any, dict[str, _Field]] = {}
_ROOTS: dict[Any, _Field] = {}


def _typeddict_checker(schema: Any) -> _Check:
    def check(value: Any, out: Conformed, path: _Path) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):
            return _DROP
        fields = _COMPILED.get(schema)
        if fields is None:
            fields = _COMPILED[schema] = _compile(schema)
        result: dict[Any, Any] | None = None  # copied only when a field changes
        for key, item in value.items():
            node = fields.get(key)
            if node is None:
                continue
            checked = _DROP if item is None else node.check(item, out, (path, key))
            if checked is item:
                continue
            if checked is _DROP and item is not None:
                _wrong(out, (path, key), node, item)
            if result is None:
                result = dict(value)
            if checked is _DROP:
                del result[key]
            else:
                result[key] = checked
        if result is None:
            return value if type(value) is dict else dict(value)
        return result

    return check


def _compile(schema: Any) -> dict[str, _Field]:
    if isinstance(schema, Shape):
        hints = dict(schema.fields)
    else:
        hints = typing.get_type_hints(schema, include_extras=True)
    fields = {k: _field(h) for k, h in hints.items()}
    for key in list(fields):
        fields.setdefault(snake_case(key), fields[key])
    return fields


def listed_keys(schema: Any) -> frozenset[str]:
    """The keys :func:`conform` checks in an object of ``schema`` (both spellings)."""
    fields = _COMPILED.get(schema)
    if fields is None:
        fields = _COMPILED[schema] = _compile(schema)
    return frozenset(fields)


def conform(value: Any, schema: Any) -> Conformed:
    """``value`` checked against ``schema`` (a ``TypedDict`` from :mod:`segmind_gemini.wire.types`).

    Never raises for any JSON value; see the module docstring for the rules.
    """
    out = Conformed()
    root = _ROOTS.get(schema)
    if root is None:
        root = _ROOTS[schema] = _Field(*_checker(schema), strict=True)
    checked = root.check(value, out, None)
    if checked is _DROP:
        _wrong(out, None, root, value)
        checked = None
    out.value = checked
    return out

"""Gemini native function calling (``tool_calling="native"``).

Converts neutral :class:`~segmind_gemini.tools.ToolSpec` values to Gemini's
``tools``/``toolConfig`` request fields and tool calls/results to ``functionCall``
/``functionResponse`` parts. Segmind's gateway does not forward ``tools`` today;
this mode is for gateways that do, and for the emulator.

Gemini's ``Schema`` is an OpenAPI subset, so JSON Schema is rewritten by
:func:`json_schema_to_gemini`: ``$ref`` inlined, ``Optional`` unions turned into
``nullable``, unsupported keywords dropped.

>>> from segmind_gemini.tools import ToolSpec
>>> add = ToolSpec("add", "Add integers.", {
...     "type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]})
>>> native_tools_payload([add])
[{'functionDeclarations': [{'name': 'add', 'description': 'Add integers.', 'parameters': \
{'type': 'OBJECT', 'properties': {'a': {'type': 'INTEGER'}}, 'required': ['a']}}]}]
>>> native_tool_config("add", [add])
{'functionCallingConfig': {'mode': 'ANY', 'allowedFunctionNames': ['add']}}
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from segmind_gemini.errors import InvalidRequestError
from segmind_gemini.tools import (
    ToolCall,
    ToolChoice,
    ToolResult,
    ToolSpec,
    compact_schema,
    is_generated_call_id,
    new_call_id,
    resolve_tool_choice,
    tool_names,
    tool_result_text,
)
from segmind_gemini.wire.depth import MAX_SCHEMA_DEPTH, check_depth, too_deep

__all__ = [
    "MAX_SCHEMA_DEPTH",
    "RecursiveSchemaError",
    "decode_encoded",
    "encoded_paths",
    "function_call_part",
    "function_declaration",
    "function_declarations",
    "function_response_part",
    "json_schema_to_gemini",
    "native_tool_config",
    "native_tool_fields",
    "native_tools_payload",
    "tool_call_from_part",
]


_TYPES = {
    "string": "STRING",
    "number": "NUMBER",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
    "object": "OBJECT",
}
# Gemini rejects any other `format` ("only 'enum' and 'date-time' are supported
# for STRING type"), so others are moved into the description instead.
_FORMATS = {
    "STRING": {"enum", "date-time"},
    "NUMBER": {"float", "double"},
    "INTEGER": {"int32", "int64"},
}
_NUMERIC = {"NUMBER", "INTEGER"}
_FREE_FORM_NOTE = "(free-form JSON value, written as a JSON string)"
_FREE_OBJECT_NOTE = "(a JSON object, written as a JSON string)"


class RecursiveSchemaError(InvalidRequestError):
    """A schema refers to itself: Gemini's ``Schema`` cannot express it, plain JSON Schema
    (``parametersJsonSchema`` / ``responseJsonSchema``) can."""


def json_schema_to_gemini(
    schema: Mapping[str, Any], *, max_depth: int = MAX_SCHEMA_DEPTH
) -> dict[str, Any]:
    """Convert a JSON Schema to Gemini's OpenAPI-subset ``Schema``. The input is not mutated.

    - ``$ref`` into ``$defs``/``definitions`` (any local ``#/...`` pointer) is inlined;
      a recursive reference raises :class:`RecursiveSchemaError` (callers then send
      plain JSON Schema instead), nesting deeper than ``max_depth``
      :class:`~segmind_gemini.errors.InvalidRequestError`.
    - ``exclusiveMinimum``/``exclusiveMaximum`` (pydantic ``gt``/``lt``) become
      ``minimum``/``maximum`` with the exclusion said in the description.
    - ``anyOf``/``oneOf`` with ``{"type": "null"}`` and ``["string", "null"]`` type
      lists become ``nullable: true``; other unions stay ``anyOf``; ``allOf`` is merged.
    - ``const`` becomes a one-value ``enum``; non-string enums, which Gemini cannot
      express, are described in words; unsupported ``format`` values likewise.
    - ``$schema``, ``title``, ``default``, ``examples``, ``additionalProperties`` and
      other unsupported keywords are dropped; ``required`` keeps only listed properties.
    - A value Gemini cannot type (``{}``, an object without properties) becomes a
      ``STRING`` holding JSON, because Gemini rejects an ``OBJECT`` with no properties;
      :func:`decode_encoded` turns such values in an answer back into JSON.

    >>> json_schema_to_gemini({"anyOf": [{"type": "string"}, {"type": "null"}],
    ...                        "default": None, "title": "Nick"})
    {'type': 'STRING', 'nullable': True}
    """
    if not isinstance(schema, Mapping):
        raise InvalidRequestError(f"a JSON Schema must be an object, got {type(schema).__name__}")
    check_depth(schema, "schema", max_depth)
    return _Converter(schema, max_depth).convert(schema, 0, (), ())


#: Where a converted schema declares a JSON-in-a-string value: property names, with
#: ``None`` for "each array item"; and whether the value must decode to an object.
EncodedPath = tuple[tuple[str | None, ...], bool]


def encoded_paths(schema: Mapping[str, Any]) -> list[EncodedPath]:
    """The paths :func:`json_schema_to_gemini` turned into JSON-holding strings.

    >>> encoded_paths({"type": "object", "properties": {"params": {"type": "object"}}})
    [(('params',), True)]
    """
    converter = _Converter(schema, MAX_SCHEMA_DEPTH)
    check_depth(schema, "schema")
    converter.convert(schema, 0, (), ())
    return converter.encoded


def decode_encoded(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` (what Gemini sent for ``schema``) with JSON-in-a-string values decoded back.

    Native mode declares free-form values and objects without properties as
    strings holding JSON (Gemini's schema cannot express them); this undoes that
    at exactly those paths. A string that does not decode (or an object path that
    does not decode to an object) is left as it is. The input is not mutated.

    >>> schema = {"type": "object", "properties": {"params": {"type": "object"}}}
    >>> decode_encoded({"params": '{"q": "x"}'}, schema)
    {'params': {'q': 'x'}}
    """
    try:
        paths = encoded_paths(schema)
    except InvalidRequestError:
        return value  # not declared natively (too deep, or sent as plain JSON Schema)
    for path, must_be_object in paths:
        value = _decode_at(value, path, must_be_object)
    return value


def _decode_at(value: Any, path: tuple[str | None, ...], must_be_object: bool) -> Any:
    if not path:
        if not isinstance(value, str):
            return value
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            return value
        return decoded if isinstance(decoded, dict) or not must_be_object else value
    head, rest = path[0], path[1:]
    if head is None and isinstance(value, list):
        return [_decode_at(item, rest, must_be_object) for item in value]
    if isinstance(head, str) and isinstance(value, dict) and head in value:
        return {**value, head: _decode_at(value[head], rest, must_be_object)}
    return value


class _Converter:
    def __init__(self, root: Mapping[str, Any], max_depth: int) -> None:
        self.root = root
        self.max_depth = max_depth
        self.encoded: list[EncodedPath] = []

    def resolve(self, ref: Any) -> Mapping[str, Any]:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise InvalidRequestError(f"only local $ref pointers (#/...) are supported: {ref!r}")
        node: Any = self.root
        for token in [t for t in ref[1:].split("/") if t]:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or token not in node:
                raise InvalidRequestError(f"$ref {ref!r} does not resolve")
            node = node[token]
        if not isinstance(node, Mapping):
            raise InvalidRequestError(f"$ref {ref!r} does not point to a schema")
        return node

    def flatten(
        self, node: Mapping[str, Any], refs: tuple[str, ...]
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Inline ``$ref`` and merge ``allOf``; returns the node and the refs on its path."""
        out = dict(node)
        while "$ref" in out:
            ref = out.pop("$ref")
            if ref in refs:
                chain = " -> ".join([*refs[refs.index(ref) :], ref])
                raise RecursiveSchemaError(
                    f"recursive schema ({chain}) cannot be expressed in Gemini's schema"
                )
            # Keywords next to $ref (pydantic puts a field's description there) win.
            out = {**self.resolve(ref), **out}
            refs = (*refs, ref)
        members = out.pop("allOf", None)
        if isinstance(members, list):
            merged: dict[str, Any] = {}
            for member in members:
                if not isinstance(member, Mapping):
                    continue
                flat, refs = self.flatten(member, refs)
                for key, value in flat.items():
                    if key == "properties" and isinstance(value, Mapping):
                        merged["properties"] = {**merged.get("properties", {}), **value}
                    elif key == "required" and isinstance(value, list):
                        merged["required"] = [*merged.get("required", []), *value]
                    else:
                        merged[key] = value
            out = {**merged, **out}
        return out, refs

    def convert(
        self, node: Any, depth: int, refs: tuple[str, ...], path: tuple[str | None, ...]
    ) -> dict[str, Any]:
        if depth > self.max_depth:  # after $ref inlining, deeper than what was written
            raise too_deep("schema", self.max_depth)
        if node is True:
            node = {}
        if not isinstance(node, Mapping):
            raise InvalidRequestError(f"a schema must be an object, got {node!r}")
        flat, refs = self.flatten(node, refs)
        if isinstance(flat.get("anyOf"), list) or isinstance(flat.get("oneOf"), list):
            return self.union(flat, depth, refs, path)

        description = flat.get("description")
        notes: list[str] = []
        nullable = False
        jtype = flat.get("type")
        if isinstance(jtype, list):
            nullable = "null" in jtype
            kinds = [t for t in jtype if t != "null"]
            if len(kinds) > 1:
                rest = {k: v for k, v in flat.items() if k not in ("type", "description")}
                branches = [self.convert({**rest, "type": t}, depth + 1, refs, path) for t in kinds]
                return _finish({"anyOf": branches}, description, nullable)
            jtype = kinds[0] if kinds else None
        if jtype == "null":
            jtype, nullable = None, True

        enum: Any = [flat["const"]] if "const" in flat else flat.get("enum")
        if isinstance(enum, list):
            if None in enum:
                nullable = True
                enum = [v for v in enum if v is not None]
            if enum and all(isinstance(v, str) for v in enum) and jtype in (None, "string"):
                jtype = "string"
                # Gemini refuses empty enum entries.
                enum = [v for v in enum if v] or None
            else:
                if enum:
                    notes.append("Allowed values: " + ", ".join(json.dumps(v) for v in enum) + ".")
                jtype = jtype or _infer_scalar_type(enum)
                enum = None
        else:
            enum = None

        if jtype is None:
            if "properties" in flat:
                jtype = "object"
            elif "items" in flat or "prefixItems" in flat:
                jtype = "array"
            else:
                notes.append(_FREE_FORM_NOTE)
                self.encoded.append((path, False))
                return _finish({"type": "STRING"}, description, nullable, notes)
        gtype = _TYPES.get(jtype) if isinstance(jtype, str) else None
        if gtype is None:
            raise InvalidRequestError(f"unsupported JSON Schema type {jtype!r}")

        out: dict[str, Any] = {"type": gtype}
        fmt = flat.get("format")
        if isinstance(fmt, str):
            if fmt in _FORMATS.get(gtype, ()):
                out["format"] = fmt
            else:
                notes.append(f"(format: {fmt})")
        if enum:
            out["enum"] = list(enum)
        if gtype in _NUMERIC:
            notes.extend(_bounds(flat, out))
        elif gtype == "ARRAY":
            out["items"] = self.array_items(flat, depth, refs, path)
            for key in ("minItems", "maxItems"):
                if isinstance(flat.get(key), int):
                    out[key] = flat[key]
        elif gtype == "OBJECT":
            props = flat.get("properties")
            if not isinstance(props, Mapping) or not props:
                notes.append(_FREE_OBJECT_NOTE)
                self.encoded.append((path, True))
                return _finish({"type": "STRING"}, description, nullable, notes)
            out["properties"] = {
                name: self.convert(sub, depth + 1, refs, (*path, name))
                for name, sub in props.items()
            }
            listed = flat.get("required")
            required = (
                [r for r in listed if isinstance(r, str) and r in props]
                if isinstance(listed, list)
                else []
            )
            if required:
                out["required"] = required
        return _finish(out, description, nullable, notes)

    def union(
        self, flat: dict[str, Any], depth: int, refs: tuple[str, ...], path: tuple[str | None, ...]
    ) -> dict[str, Any]:
        variants: list[Any] = (
            flat["anyOf"] if isinstance(flat.get("anyOf"), list) else flat["oneOf"]
        )
        siblings = {k: v for k, v in flat.items() if k not in ("anyOf", "oneOf")}
        rest = [v for v in variants if not _is_null_schema(v)]
        nullable = len(rest) < len(variants)
        if len(rest) == 1 and isinstance(rest[0], Mapping):
            # Optional[X]: X itself, with the outer description/keywords on top.
            variant, refs = self.flatten(rest[0], refs)
            out = self.convert({**variant, **siblings}, depth, refs, path)
            if nullable:
                out["nullable"] = True
            return out
        if not rest:
            return _finish({"type": "STRING"}, siblings.get("description"), True)
        out = {"anyOf": [self.convert(v, depth + 1, refs, path) for v in rest]}
        return _finish(out, siblings.get("description"), nullable)

    def array_items(
        self, flat: dict[str, Any], depth: int, refs: tuple[str, ...], path: tuple[str | None, ...]
    ) -> Any:
        item_path = (*path, None)
        items = flat.get("items")
        if isinstance(items, Mapping):
            return self.convert(items, depth + 1, refs, item_path)
        prefix = flat.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            # Tuples: Gemini has no positional items, so accept any of the member types.
            converted: list[dict[str, Any]] = []
            for member in prefix:
                schema = self.convert(member, depth + 2, refs, item_path)
                if schema not in converted:
                    converted.append(schema)
            return converted[0] if len(converted) == 1 else {"anyOf": converted}
        return self.convert({}, depth + 1, refs, item_path)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bounds(flat: Mapping[str, Any], out: dict[str, Any]) -> list[str]:
    """Copy ``minimum``/``maximum``; exclusive bounds (pydantic ``gt``/``lt``) become the
    inclusive bound plus a note, since Gemini's schema has no exclusive bounds."""
    notes: list[str] = []
    for key, exclusive, word in (
        ("minimum", "exclusiveMinimum", "greater"),
        ("maximum", "exclusiveMaximum", "less"),
    ):
        if _number(flat.get(key)):
            out[key] = flat[key]
        bound = flat.get(exclusive)
        if _number(bound):
            tighter = key not in out or (
                out[key] <= bound if key == "minimum" else out[key] >= bound
            )
            if tighter:
                out[key] = bound
                notes.append(f"(must be {word} than {bound})")
    return notes


def _is_null_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and (
        schema.get("type") == "null"
        or schema.get("const", ...) is None
        or schema == {"enum": [None]}
    )


def _infer_scalar_type(values: list[Any]) -> str | None:
    if not values:
        return None
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "number"
    return None


def _finish(
    out: dict[str, Any],
    description: Any,
    nullable: bool,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    text = " ".join([description.strip()] if isinstance(description, str) else [])
    text = " ".join(p for p in (text, *notes) if p)
    result = {**out}
    if text:
        result["description"] = text
    if nullable:
        result["nullable"] = True
    return result


# --------------------------------------------------------------------------- declarations


def function_declaration(tool: ToolSpec) -> dict[str, Any]:
    """One Gemini ``FunctionDeclaration`` for ``tool``.

    A tool without arguments gets no ``parameters`` key: Gemini rejects an
    ``OBJECT`` schema with empty ``properties``. A recursive schema is declared as
    plain JSON Schema (``parametersJsonSchema``), which Gemini takes as it is.

    >>> function_declaration(ToolSpec("now", "Current time."))
    {'name': 'now', 'description': 'Current time.'}
    """
    decl: dict[str, Any] = {"name": tool.name}
    if tool.description:
        decl["description"] = tool.description
    if tool.has_parameters:
        try:
            params = json_schema_to_gemini(tool.parameters)
        except RecursiveSchemaError:
            # Plain JSON Schema takes recursion ($ref cycles) as it is.
            decl["parametersJsonSchema"] = compact_schema(tool.parameters)
            return decl
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"tool {tool.name!r}: {exc.message}") from exc
        params.pop("nullable", None)
        decl["parameters"] = params
    return decl


def function_declarations(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Gemini ``functionDeclarations`` for ``tools``; duplicate names are refused."""
    tool_names(tools)
    return [function_declaration(t) for t in tools]


def native_tools_payload(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """The request's ``tools`` value; ``[]`` for no tools (then omit the field)."""
    decls = function_declarations(tools)
    return [{"functionDeclarations": decls}] if decls else []


def native_tool_config(
    tool_choice: ToolChoice | bool | Mapping[str, Any] | None,
    tool_names: Sequence[ToolSpec] | Collection[str],
) -> dict[str, Any] | None:
    """The request's ``toolConfig``, or ``None`` when no choice was made (Gemini's default AUTO).

    ``"auto"`` -> AUTO, ``"any"``/``"required"`` -> ANY, ``"none"`` -> NONE, a tool
    name -> ANY restricted to that function. An unknown name raises
    :class:`~segmind_gemini.errors.InvalidRequestError`.

    >>> native_tool_config("none", ["add"])
    {'functionCallingConfig': {'mode': 'NONE'}}
    """
    if tool_choice is None:
        return None
    choice = resolve_tool_choice(tool_choice, tool_names)
    mode = {"auto": "AUTO", "any": "ANY", "none": "NONE"}.get(choice)
    if mode is not None:
        return {"functionCallingConfig": {"mode": mode}}
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}


def native_tool_fields(
    tools: Sequence[ToolSpec],
    tool_choice: ToolChoice | bool | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``{"tools": ..., "toolConfig": ...}`` to merge into a request; ``{}`` without tools.

    >>> native_tool_fields([])
    {}
    """
    if not tools:
        return {}
    fields: dict[str, Any] = {"tools": native_tools_payload(tools)}
    config = native_tool_config(tool_choice, tools)
    if config is not None:
        fields["toolConfig"] = config
    return fields


# --------------------------------------------------------------------------- parts


def _jsonable(value: Any) -> Any:
    # Gemini needs plain JSON; a round trip turns dates, UUIDs, tuples into JSON types.
    return json.loads(json.dumps(value, default=str))


def function_call_part(call: ToolCall, *, include_id: bool = True) -> dict[str, Any]:
    """A ``functionCall`` part for an earlier call, with its ``thoughtSignature`` echoed back.

    The signature is a sibling of ``functionCall`` on the same part, as Gemini sends it.
    An id this package generated (Gemini sent none) is left out: Gemini refuses ids
    it did not issue.

    >>> function_call_part(ToolCall("add", {"a": 1}, "call_1", thought_signature="sig"))
    {'functionCall': {'name': 'add', 'args': {'a': 1}, 'id': 'call_1'}, 'thoughtSignature': 'sig'}
    """
    fc: dict[str, Any] = {"name": call.name, "args": _jsonable(call.args)}
    if include_id and call.id and not is_generated_call_id(call.id):
        fc["id"] = call.id
    part: dict[str, Any] = {"functionCall": fc}
    if call.thought_signature:
        part["thoughtSignature"] = call.thought_signature
    return part


def function_response_part(result: ToolResult, *, include_id: bool = True) -> dict[str, Any]:
    """A ``functionResponse`` part; ``response`` is always an object.

    Dicts are sent as they are, other values as ``{"result": ...}``, errors as
    ``{"error": ...}``.

    >>> function_response_part(ToolResult("call_1", "add", 3))
    {'functionResponse': {'name': 'add', 'id': 'call_1', 'response': {'result': 3}}}
    """
    content = result.content
    if (
        isinstance(content, list)
        and content
        and all(isinstance(b, Mapping) and b.get("type") == "text" for b in content)
    ):
        content = tool_result_text(content)  # LangChain text blocks: send the text
    if result.is_error:
        response: dict[str, Any] = {"error": _jsonable(content)}
    elif isinstance(content, Mapping):
        response = _jsonable({str(k): v for k, v in content.items()})
    else:
        response = {"result": _jsonable(content)}
    fr: dict[str, Any] = {"name": result.name}
    if include_id and result.call_id and not is_generated_call_id(result.call_id):
        fr["id"] = result.call_id
    fr["response"] = response
    return {"functionResponse": fr}


def tool_call_from_part(part: Mapping[str, Any]) -> ToolCall | None:
    """Read a response part's ``functionCall`` as a :class:`ToolCall` (``None`` if it has none).

    Gemini usually omits the call ``id``, so a fresh one is made.

    >>> tool_call_from_part({"functionCall": {"name": "add", "args": {"a": 1}}}).args
    {'a': 1}
    """
    fc = part.get("functionCall") or part.get("function_call")
    if not isinstance(fc, Mapping) or not isinstance(fc.get("name"), str):
        return None
    args = fc.get("args")
    call_id = fc.get("id")
    signature = part.get("thoughtSignature") or part.get("thought_signature")
    return ToolCall(
        name=fc["name"],
        args=dict(args) if isinstance(args, Mapping) else {},
        id=call_id if isinstance(call_id, str) and call_id else new_call_id(),
        thought_signature=signature if isinstance(signature, str) else None,
    )

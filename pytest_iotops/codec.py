"""The run report's codec, generic over dataclasses: to and from JSON-ready dicts (every field's type checked on
the way in, errors naming the key path), the JSON Schema of a dataclass tree, and line sets as ranges. One
walker of the types for the model, the schema and the loader.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
import sys
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar, Union

from .errors import ReportFormatError

__all__ = ["expand_ranges", "fields_of", "from_dict", "line_ranges", "schema_of", "to_dict", "to_json"]

_RANGE = re.compile(r"(\d+)(?:-(\d+))?")


_MEMO: list[tuple[Any, dict[str, Any] | None]] = []


@contextmanager
def converted_once(obj: Any) -> Iterator[None]:
    """While the renderers of one finished report run, :func:`to_dict` of it is built once and shared (they
    only read it: JSON, HTML and the history would otherwise walk 10,000 tests three times)."""
    _MEMO.append((obj, None))
    try:
        yield
    finally:
        _MEMO.pop()


def to_dict(obj: Any) -> dict[str, Any]:
    """A JSON-ready dict; ``schema_version`` first so a reader sees it before anything else.

    Hand-rolled rather than ``dataclasses.asdict``, which deep-copies every value: 3x slower on 10,000 tests.
    """
    if _MEMO and _MEMO[-1][0] is obj:
        cached = _MEMO[-1][1]
        if cached is None:
            cached = _to_plain_dict(obj)
            _MEMO[-1] = (obj, cached)
        return cached
    return _to_plain_dict(obj)


def to_json(obj: Any) -> str:
    """A dataclass as compact JSON, ``schema_version`` first: the document ``json.dumps(to_dict(obj))`` wrote, the
    same keys in the same order with the same values, encoded by orjson straight from the dataclasses. That
    costs about 3,400 instructions per test of a run report against 37,000 for flattening and ``json.dumps``
    (callgrind, a 1,000-test report), which was the largest per-test cost of ``--iotops`` on a fast suite. The text
    differs only where JSON allows: non-ASCII characters as UTF-8 rather than ``\\u`` escapes, exponents as
    ``1e-5`` rather than ``1e-05``, and a non-finite float (``json.dumps`` wrote ``NaN``, which is not JSON) as
    ``null``. orjson is imported here, not with the module: loading it costs 8 M instructions, which an xdist
    worker (it writes no report) would pay for nothing."""
    import orjson

    if _MEMO and _MEMO[-1][0] is obj and _MEMO[-1][1] is not None:
        data: Any = _MEMO[-1][1]  # flattened already, for another renderer
    else:
        data = {name: getattr(obj, name) for name in obj.__dataclass_fields__}
        if "schema_version" in data:
            data = {"schema_version": data.pop("schema_version"), **data}
    try:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:  # a lone surrogate (a file name not in UTF-8), an int past 64 bits
        return json.dumps(to_dict(obj), separators=(",", ":"))


def _to_plain_dict(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = _plain(obj)
    if "schema_version" in data:
        data = {"schema_version": data.pop("schema_version"), **data}
    return data


#: values that are their own JSON form: checked inline, so a report's many scalar fields cost no call each
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return _flattener(type(value))(value)
    if isinstance(value, (list, tuple)):
        if value and hasattr(value[0], "__dataclass_fields__") and len(set(map(type, value))) == 1:
            return list(map(_flattener(type(value[0])), value))  # a report's many tests: no Python loop each
        return [v if type(v) in _SCALARS else _plain(v) for v in value]
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else _plain(v) for k, v in value.items()}
    return value


_FLATTENERS: dict[type[Any], Callable[[Any], dict[str, Any]]] = {}


def _flattener(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """One dataclass's instances to dicts: its fields read in one C call, and only the fields whose declared
    type is not a JSON scalar looked at again (a test's eleven fields cost one Python call, not eleven)."""
    known = _FLATTENERS.get(cls)
    if known is not None:
        return known
    names = tuple(cls.__dataclass_fields__)  # ClassVar pseudo-fields included, as the dict always had them
    try:
        hints = typing.get_type_hints(cls)
    except NameError:  # a type not imported yet (see _type_hints): every field is looked at, none is imported
        hints = {}
    nested = tuple(name for name in names if not _is_scalar_type(hints.get(name, object)))
    if len(names) > 1:
        values: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*names)
    else:  # attrgetter of one name returns the value itself, of none is an error
        values = lambda obj: tuple(getattr(obj, name) for name in names)  # noqa: E731

    def flat(obj: Any) -> dict[str, Any]:
        data = dict(zip(names, values(obj), strict=True))
        for name in nested:
            value = data[name]
            if value and type(value) not in _SCALARS:  # an empty list or dict, or None, is its own JSON too
                data[name] = _plain(value)
        return data

    _FLATTENERS[cls] = flat
    return flat


def _is_scalar_type(tp: Any) -> bool:
    """str, int, float, bool, None, a Literal of them or a union of those: a value of it is its own JSON."""
    if tp in _SCALARS:
        return True
    origin = typing.get_origin(tp)
    if origin is Literal:
        return all(type(arg) in _SCALARS for arg in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return all(_is_scalar_type(arg) for arg in typing.get_args(tp))
    return False


T = TypeVar("T")


def from_dict(cls: type[T], data: Any, where: str = "$") -> T:
    """Build ``cls`` from JSON data, checking every field; errors name the key path."""
    return typing.cast(T, _convert(cls, data, where))


def _convert(tp: Any, value: Any, where: str) -> Any:
    # the common cases first: most fields are plain strings and numbers
    if tp is str and type(value) is str:
        return value
    if tp is float and type(value) in (float, int):
        return float(value)
    return _convert_slow(tp, value, where)


def _convert_slow(tp: Any, value: Any, where: str) -> Any:  # noqa: PLR0911 - one branch per type form
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _convert_dataclass(tp, value, where)
    if origin in (Union, types.UnionType):
        errors = []
        for option in typing.get_args(tp):
            try:
                return _convert(option, value, where)
            except ReportFormatError as exc:
                errors.append(str(exc))
        raise ReportFormatError(errors[-1])
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ReportFormatError(f"{where}: expected one of {list(allowed)}, got {value!r}")
        return value
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        _expect(isinstance(value, list), where, "a list", value)
        return [_convert(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, val_tp = typing.get_args(tp)
        _expect(isinstance(value, dict), where, "an object", value)
        return {str(k): _convert(val_tp, v, f"{where}.{k}") for k, v in value.items()}
    if tp is type(None):
        _expect(value is None, where, "null", value)
        return None
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        _expect(ok, where, "a number", value)
        return float(value)
    if tp in (int, bool, str):
        ok = isinstance(value, tp) and (tp is bool or not isinstance(value, bool))
        _expect(ok, where, f"a {tp.__name__}", value)
        return value
    raise ReportFormatError(f"{where}: unsupported type {tp!r}")  # pragma: no cover - model bug


_FIELDS: dict[type[Any], tuple[tuple[tuple[str, Any, bool], ...], frozenset[str]]] = {}


def fields_of(cls: type[Any]) -> tuple[tuple[tuple[str, Any, bool], ...], frozenset[str]]:
    """(name, type, required) per field, resolved once per class: type hints are slow to compute."""
    if cls in _FIELDS:
        return _FIELDS[cls]
    hints = _type_hints(cls)
    fields = tuple(
        (f.name, hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(cls)
    )
    _FIELDS[cls] = (fields, frozenset(name for name, _, _ in fields))
    return _FIELDS[cls]


def _convert_dataclass(cls: type[Any], value: Any, where: str) -> Any:
    _expect(isinstance(value, dict), where, "an object", value)
    fields, names = fields_of(cls)
    kwargs: dict[str, Any] = {}
    for name, tp, required in fields:
        if name in value:
            kwargs[name] = _convert(tp, value[name], f"{where}.{name}")
        elif required:
            raise ReportFormatError(f"{where}: required key {name!r} is missing")
    if len(value) > len(kwargs) and not value.keys() <= names:
        raise ReportFormatError(f"{where}: unknown key(s) {sorted(set(value) - names)}")
    return cls(**kwargs)


def _expect(ok: bool, where: str, expected: str, value: Any) -> None:
    if not ok:
        raise ReportFormatError(f"{where}: expected {expected}, got {type(value).__name__} {value!r:.80}")


def line_ranges(lines: Iterable[int]) -> str:
    """Sorted line numbers as ranges: ``[1, 2, 3, 7]`` -> ``"1-3,7"``."""
    parts: list[str] = []
    start = end = -2
    for line in sorted(set(lines)):
        if line != end + 1:
            if end >= 0:
                parts.append(str(start) if start == end else f"{start}-{end}")
            start = line
        end = line
    if end >= 0:
        parts.append(str(start) if start == end else f"{start}-{end}")
    return ",".join(parts)


def expand_ranges(text: str) -> list[int]:
    """The inverse of :func:`line_ranges`; a malformed range is a ``ValueError`` naming it."""
    out: list[int] = []
    for part in text.split(",") if text else ():
        match = _RANGE.fullmatch(part.strip())
        if match is None or (match.group(2) and int(match.group(2)) < int(match.group(1))):
            raise ValueError(f"not a line range: {part!r}")
        first = int(match.group(1))
        out.extend(range(first, int(match.group(2) or first) + 1))
    return out


def _type_hints(cls: type[Any]) -> dict[str, Any]:
    """``typing.get_type_hints``, which reads names from the modules' namespaces only: a name one of them imports
    on first use (a module ``__getattr__``, as the model's deployment records) is imported, and the hints read
    again. The flattener of :func:`to_dict` does not do this: a report with no deployments needs none."""
    try:
        return typing.get_type_hints(cls)
    except NameError as exc:
        for module in {sys.modules.get(base.__module__) for base in cls.__mro__}:
            if exc.name and module is not None and exc.name not in vars(module) and hasattr(module, exc.name):
                return _type_hints(cls)  # hasattr imported it (and the module keeps it in its namespace)
        raise


def schema_of(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of ``tp``; dataclasses go into ``defs`` by name and are referenced."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if tp.__name__ not in defs:
            defs[tp.__name__] = {}  # reserve the name first: recursion stops here
            fields, _ = fields_of(tp)
            defs[tp.__name__] = {
                "type": "object",
                "additionalProperties": False,
                "required": [name for name, _, required in fields if required],
                "properties": {name: schema_of(field_tp, defs) for name, field_tp, _ in fields},
            }
        return {"$ref": f"#/$defs/{tp.__name__}"}
    if origin in (Union, types.UnionType):
        return {"anyOf": [schema_of(a, defs) for a in typing.get_args(tp)]}
    if origin is Literal:
        return {"enum": list(typing.get_args(tp))}
    if origin is list:
        return {"type": "array", "items": schema_of(typing.get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": schema_of(typing.get_args(tp)[1], defs)}
    simple = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string"}
    return {"type": simple[tp]}

"""The package's dataclasses: declared with :func:`record`, whose methods are written once instead of
generated and compiled for every class.

On Python 3.11 ``@dataclass`` compiles each method it generates (``__init__``, ``__repr__``, ``__eq__``, and for
a frozen one ``__hash__``, ``__setattr__``, ``__delattr__``) with its own ``exec`` when the class is created:
3 M instructions a class, 5 M a frozen one, and still 1.7 M / 3.3 M with ``eq=False, repr=False`` — for the
three dozen classes every ``--iotops`` run loads, a third of what importing the engine costs, in every process
(an xdist run pays it three times). :func:`record` makes a class that :mod:`dataclasses` (``fields``,
``replace``, ``asdict``, ``is_dataclass``), orjson and type checkers take for a dataclass, for 0.3 M: its
``__init__`` is one shared function until the class has made :data:`COMPILE_AFTER` instances, and only then
compiled, as ``@dataclass`` would have (most classes never get there: settings, verdicts, stages are made a
few times a run). :class:`Value` (or :class:`FrozenValue`) compare, hash and show instances from the fields
exactly as the generated methods do: equal only to an instance of the very same class with equal compared
fields, the hash of those fields, ``Name(field=value, ...)`` of the shown fields.
"""

from __future__ import annotations

import dataclasses
import inspect
import reprlib
import sys
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
elif sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # Python 3.10: only type checkers read the marker

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorated: decorated


__all__ = ["COMPILE_AFTER", "FrozenValue", "Value", "record"]

#: instances a record class makes with the shared ``__init__`` before its own is compiled: compiling costs
#: 1.2 M instructions (the first ``exec`` of a process about 6 M), the shared one about 4,000 more an instance
COMPILE_AFTER = 256

_Key = Callable[[Any], tuple[Any, ...]]
_KEYS: dict[type[Any], _Key] = {}
_SHOWN: dict[type[Any], tuple[str, ...]] = {}


def _key(cls: type[Any]) -> _Key:
    """The tuple of an instance's compared fields (``field(compare=False)`` left out), as the generated
    ``__eq__`` and ``__hash__`` build it."""
    key = _KEYS.get(cls)
    if key is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.compare)
        # attrgetter of one name returns the value itself, of none is an error
        key = attrgetter(*names) if len(names) > 1 else lambda obj: tuple(getattr(obj, name) for name in names)
        _KEYS[cls] = key
    return key


class Value:
    """A dataclass instance's equality and repr, from its fields; unhashable, as a non-frozen dataclass is."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]
    if TYPE_CHECKING:  # what dataclasses' functions require of their argument
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = _key(self.__class__)
        return bool(key(self) == key(other))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        cls = self.__class__
        names = _SHOWN.get(cls)
        if names is None:
            names = _SHOWN[cls] = tuple(f.name for f in dataclasses.fields(self) if f.repr)
        return f"{cls.__qualname__}({', '.join(f'{name}={getattr(self, name)!r}' for name in names)})"


class FrozenValue(Value):
    """A frozen dataclass's instances: hashable, by their compared fields."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(_key(self.__class__)(self))

    def __setattr__(self, name: str, value: Any) -> None:
        _refuse(self, name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        _refuse(self, name)
        object.__delattr__(self, name)


def _refuse(obj: Any, name: str) -> None:
    """As a frozen dataclass's generated methods: no attribute of the record class's own instances changes, nor
    a field of an instance of a (non-record) subclass."""
    cls = type(obj)
    if cls in _FROZEN or name in cls.__dataclass_fields__:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


_FROZEN: set[type[Any]] = set()
_MISSING: Any = dataclasses.MISSING
_FIELD: Any = dataclasses._FIELD  # type: ignore[attr-defined]  # the marker fields() selects by
_C = TypeVar("_C", bound=type[Any])


@overload
@dataclass_transform(eq_default=False, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: _C, /) -> _C: ...


@overload
def record(*, frozen: bool = False, hot: bool = False) -> Callable[[_C], _C]: ...


def record(cls: Any = None, /, *, frozen: bool = False, hot: bool = False) -> Any:
    """``@dataclass(eq=False, repr=False[, frozen=True])`` for a class on :class:`Value` (:class:`FrozenValue`
    when frozen), what the package uses of it: fields with defaults and ``field(default_factory=, compare=,
    repr=, metadata=)``, ``ClassVar`` annotations left out, base records' fields first, ``__post_init__``.
    ``hot``: a class a run makes an instance of per test compiles its ``__init__`` after its first instance (the
    shared one costs about four times as much a call)."""

    def make(cls: Any) -> Any:
        if not issubclass(cls, Value) or frozen != issubclass(cls, FrozenValue):
            raise TypeError(f"{cls.__qualname__}: a record is a {'FrozenValue' if frozen else 'Value'}")
        fields: dict[str, dataclasses.Field[Any]] = {}
        for base in cls.__mro__[-1:0:-1]:
            fields.update(getattr(base, "__dataclass_fields__", {}))
        for name, annotation in inspect.get_annotations(cls).items():
            if not _is_classvar(annotation):
                fields[name] = _field(cls, name, annotation)
        cls.__dataclass_fields__ = fields
        setattr(cls, "__match_args__", tuple(fields))  # noqa: B010 - a class attribute mypy will not see set
        if frozen:
            _FROZEN.add(cls)
        cls.__init__ = _shared_init(cls, tuple(fields.values()), hot)
        return cls

    return make if cls is None else make(cls)


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        if annotation.startswith(("InitVar", "dataclasses.InitVar", "KW_ONLY", "dataclasses.KW_ONLY")):
            raise TypeError(f"record: {annotation} is not supported")
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return annotation is ClassVar or getattr(annotation, "__origin__", None) is ClassVar


def _field(cls: Any, name: str, annotation: Any) -> dataclasses.Field[Any]:
    """The field as ``@dataclass`` makes it, and the class attribute as it leaves it (the default, or none)."""
    declared = cls.__dict__.get(name, _MISSING)
    spec = declared if isinstance(declared, dataclasses.Field) else dataclasses.field(default=declared)
    if not spec.init or spec.kw_only is True:
        raise TypeError(f"{cls.__qualname__}.{name}: init=False and kw_only are not supported by record")
    default = spec.default
    if default is not _MISSING and type(default).__hash__ is None:  # as dataclasses refuses a shared list
        raise ValueError(f"mutable default {type(default)} for field {name} is not allowed: use default_factory")
    spec.name, spec.type = name, annotation
    setattr(spec, "_field_type", _FIELD)  # noqa: B010 - private to dataclasses, which select fields by it
    if default is not _MISSING:
        setattr(cls, name, default)
    elif isinstance(declared, dataclasses.Field):
        delattr(cls, name)
    return spec


def _shared_init(cls: Any, fields: tuple[dataclasses.Field[Any], ...], hot: bool = False) -> Callable[..., None]:
    """``cls.__init__`` until it has made :data:`COMPILE_AFTER` instances: the generated one's behaviour (the
    same parameters, errors and attribute order) without compiling anything."""
    names = tuple(f.name for f in fields)
    plan: tuple[tuple[str, Any, Callable[[], Any] | None], ...] = tuple(
        (f.name, f.default, _factory(f)) for f in fields
    )
    required = tuple(f.name for f in fields if f.default is _MISSING and f.default_factory is _MISSING)
    defaulted = False
    for f in fields:
        if f.name in required and defaulted:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        defaulted = defaulted or f.name not in required
    known = frozenset(names)
    least, most = len(required) + 1, len(names) + 1  # self included, as Python counts
    takes = str(most) if least == most else f"from {least} to {most}"
    qualname = f"{cls.__qualname__}.__init__()"
    post_init = hasattr(cls, "__post_init__")
    made = 0

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        if made == (1 if hot else COMPILE_AFTER) and cls.__init__ is __init__:
            cls.__init__ = _compiled_init(cls, fields, post_init)
        given = dict(zip(names, args, strict=False))
        for key in kwargs:  # in the order Python checks a call's arguments
            if key not in known:
                raise TypeError(f"{qualname} got an unexpected keyword argument {key!r}")
            if key in given:
                raise TypeError(f"{qualname} got multiple values for argument {key!r}")
        if len(args) > len(names):
            plural = "s" * (takes != "1")
            raise TypeError(f"{qualname} takes {takes} positional argument{plural} but {len(args) + 1} were given")
        given.update(kwargs)
        values = self.__dict__
        for name, default, factory in plan:
            if name in given:
                values[name] = given[name]
            elif factory is not None:
                values[name] = factory()
            elif default is not _MISSING:
                values[name] = default
        if len(values) < len(plan):
            _missing(qualname, [name for name in required if name not in values])
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = qualname[:-2]
    return __init__


def _factory(f: dataclasses.Field[Any]) -> Callable[[], Any] | None:
    return None if f.default_factory is dataclasses.MISSING else f.default_factory


def _missing(qualname: str, names: list[str]) -> None:
    quoted = [repr(name) for name in names]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])}{',' * (len(quoted) > 2)} and {quoted[-1]}"
    plural = "s" if len(names) > 1 else ""
    raise TypeError(f"{qualname} missing {len(names)} required positional argument{plural}: {listed}")


class _Factory:
    """The default of a parameter whose field has a ``default_factory``."""


def _compiled_init(cls: Any, fields: tuple[dataclasses.Field[Any], ...], post_init: bool) -> Callable[..., None]:
    """The ``__init__`` ``@dataclass`` would have generated for the fields, compiled once the class is hot."""
    scope: dict[str, Any] = {"_set": object.__setattr__, "_FACTORY": _Factory}
    params, lines = [], []
    for f in fields:
        value = f.name
        if f.default_factory is not _MISSING:
            scope[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            value = f"_factory_{f.name}() if {f.name} is _FACTORY else {f.name}"
        elif f.default is not _MISSING:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        else:
            params.append(f.name)
        lines.append(f"    _set(self, {f.name!r}, {value})" if cls in _FROZEN else f"    self.{f.name} = {value}")
    if post_init:
        lines.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(lines or ["    pass"])
    exec(source, scope)  # noqa: S102 - the source is built from the class's own field names, as dataclasses does
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init

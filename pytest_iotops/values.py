"""Value semantics for the package's dataclasses, written once instead of generated for every class.

On Python 3.11 a dataclass compiles each method it generates (``__init__``, ``__repr__``, ``__eq__``, and for a
frozen one ``__hash__``, ``__setattr__``, ``__delattr__``) with its own ``exec`` when the class is created: about
3 M instructions a class, 5 M a frozen one — for the fifty classes a test run loads, most of what importing the
plugin costs on every run. So every dataclass here is declared ``@dataclass(eq=False, repr=False)`` (with
``frozen=True`` where it is frozen) on :class:`Value` (or :class:`FrozenValue`), which compare, hash and show
instances from the fields exactly as the generated methods do: equal only to an instance of the very same
class with equal compared fields, the hash of those fields, ``Name(field=value, ...)`` of the shown fields.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any

__all__ = ["FrozenValue", "Value"]

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
            names = _SHOWN[cls] = tuple(f.name for f in dataclasses.fields(self) if f.repr)  # type: ignore[arg-type]
        return f"{cls.__qualname__}({', '.join(f'{name}={getattr(self, name)!r}' for name in names)})"


class FrozenValue(Value):
    """A frozen dataclass's instances: hashable, by their compared fields."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(_key(self.__class__)(self))

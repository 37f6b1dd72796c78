"""values.record, Value and FrozenValue behave as the methods dataclasses would generate: each pair below is one
class declared both ways, and construction (its errors included), fields, every comparison, hash, repr and
the JSON must agree between the two — with the shared ``__init__`` and with the one compiled for a hot class."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_iotops import values
from pytest_iotops.config import Settings
from pytest_iotops.evidence.config import EvidenceSource
from pytest_iotops.model import RunReport, TestResult
from pytest_iotops.values import FrozenValue, Value, record


@record
class Ours(Value):
    name: str
    count: int = 0
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)


@dataclass
class Generated:
    name: str
    count: int = 0
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)


@record(frozen=True)
class OursFrozen(FrozenValue):
    name: str
    count: float = 0.0
    note: str = field(default="", compare=False)


@dataclass(frozen=True)
class GeneratedFrozen:
    name: str
    count: float = 0.0
    note: str = field(default="", compare=False)


@record
class OneField(Value):
    only: Any


@record
class Subclass(Ours):
    extra: int = 1


_values = st.tuples(st.text(max_size=5), st.integers(-3, 3), st.lists(st.text(max_size=2), max_size=2), st.text())


@given(_values, _values)
def test_equality_and_repr_are_the_generated_ones(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    ours_a, ours_b, gen_a, gen_b = Ours(*a), Ours(*b), Generated(*a), Generated(*b)
    assert (ours_a == ours_b) == (gen_a == gen_b)
    assert (ours_a != ours_b) == (gen_a != gen_b)
    assert repr(ours_a) == repr(gen_a).replace("Generated(", "Ours(")


@given(
    st.tuples(st.text(max_size=3), st.floats(allow_nan=True), st.text(max_size=3)),
    st.tuples(st.text(max_size=3), st.floats(allow_nan=True), st.text(max_size=3)),
)
def test_frozen_equality_hash_and_repr_are_the_generated_ones(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    ours_a, ours_b, gen_a, gen_b = OursFrozen(*a), OursFrozen(*b), GeneratedFrozen(*a), GeneratedFrozen(*b)
    assert (ours_a == ours_b) == (gen_a == gen_b)
    assert hash(ours_a) == hash(gen_a)  # the hash of the compared fields' tuple, as generated
    assert repr(ours_a) == repr(gen_a).replace("GeneratedFrozen(", "OursFrozen(")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ours_a.name = "changed"  # type: ignore[misc]


def test_only_the_same_class_compares_equal_and_mutable_ones_are_unhashable() -> None:
    assert Ours("a") != Generated("a")
    assert Ours("a") != Subclass("a")  # as generated: a subclass instance is another class
    assert Ours("a").__eq__(Generated("a")) is NotImplemented
    assert OneField([1]) == OneField([1])
    assert OneField(float("nan")) != OneField(float("nan"))  # tuple comparison: nan is not equal to itself...
    nan = float("nan")
    assert OneField(nan) == OneField(nan)  # ...unless it is the very same object, as the generated one says
    with pytest.raises(TypeError, match="unhashable"):
        hash(Ours("a"))


def test_the_packages_classes_keep_value_semantics() -> None:
    assert Settings() == Settings()
    assert EvidenceSource(name="s", kind="junit") == EvidenceSource(name="s", kind="junit")
    assert hash(EvidenceSource(name="s", kind="junit")) == hash(EvidenceSource(name="s", kind="junit"))
    assert TestResult("t", "unit", "passed", 0.0) != TestResult("t", "unit", "failed", 0.0)
    assert "nodeid='t'" in repr(TestResult("t", "unit", "passed", 0.0))
    assert all(dataclasses.is_dataclass(c) for c in (Settings, RunReport, TestResult))


# -- construction: record's __init__ (shared, then compiled) against the generated one --------------------------

_ARG = st.one_of(st.text(max_size=2), st.integers(-2, 2), st.lists(st.integers(), max_size=2))
_KEYS = st.sampled_from(["name", "kind", "size", "count", "tags", "note", "bogus"])


def _construct(cls: type[Any], args: list[Any], kwargs: dict[str, Any]) -> tuple[str, Any]:
    """What a call makes: the instance's attributes in their order, or the error it raises, without the class
    name (the two classes' names differ)."""
    try:
        made = cls(*args, **kwargs)
    except TypeError as exc:
        return "TypeError", str(exc).replace(cls.__qualname__, "C")
    return "made", list(vars(made).items())


def _pair(frozen: bool, hot: bool = False) -> tuple[type[Any], type[Any]]:
    """A fresh record class (its own instance count) and the dataclass declared the same way."""
    body = {
        "__annotations__": {
            "name": "str",
            "kind": "str",
            "size": "int",
            "count": "int",
            "tags": "list[str]",
            "note": "str",
        },
        "count": 0,
        "tags": field(default_factory=list),
        "note": field(default="", compare=False, repr=False),
    }
    ours = record(frozen=frozen, hot=hot)(type("Fresh", (FrozenValue if frozen else Value,), dict(body)))
    generated = dataclass(frozen=frozen)(type("Generated", (), dict(body)))
    return ours, generated


@pytest.mark.parametrize("compile_after", [1, 3, 10**9])
@pytest.mark.parametrize("frozen", [False, True])
@given(calls=st.lists(st.tuples(st.lists(_ARG, max_size=7), st.dictionaries(_KEYS, _ARG, max_size=3)), max_size=6))
def test_construction_is_the_generated_one(
    calls: list[tuple[list[Any], dict[str, Any]]], frozen: bool, compile_after: int
) -> None:
    saved = values.COMPILE_AFTER
    values.COMPILE_AFTER = compile_after
    try:
        ours, generated = _pair(frozen)
        for args, kwargs in calls:
            assert _construct(ours, args, kwargs) == _construct(generated, args, kwargs)
    finally:
        values.COMPILE_AFTER = saved


def test_a_hot_class_gets_a_compiled_init_and_keeps_its_behaviour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(values, "COMPILE_AFTER", 3)
    ours, _ = _pair(frozen=True)
    shared = ours.__init__
    made = [ours(str(i), "k", 1) for i in range(4)]
    assert ours.__init__ is not shared  # compiled at the third instance
    assert made[0] == ours("0", "k", 1)
    assert made[3].tags == []
    assert made[3].tags is not made[2].tags
    with pytest.raises(dataclasses.FrozenInstanceError):
        made[3].name = "x"
    assert ours.__init__.__qualname__ == "Fresh.__init__"


@pytest.mark.parametrize("frozen", [False, True])
@given(calls=st.lists(st.tuples(st.lists(_ARG, max_size=7), st.dictionaries(_KEYS, _ARG, max_size=3)), max_size=4))
def test_a_record_declared_hot_compiles_after_its_first_instance(
    calls: list[tuple[list[Any], dict[str, Any]]], frozen: bool
) -> None:
    hot, generated = _pair(frozen, hot=True)
    shared = hot.__init__
    hot("first", "k", 1)
    assert hot.__init__ is not shared
    for args, kwargs in calls:
        assert _construct(hot, args, kwargs) == _construct(generated, args, kwargs)


def test_fields_and_dataclass_functions_are_the_generated_ones() -> None:
    def described(cls: type[Any]) -> list[tuple[Any, ...]]:
        return [(f.name, f.type, f.default, f.default_factory, f.compare, f.repr) for f in dataclasses.fields(cls)]

    assert described(Ours) == described(Generated)
    assert described(Subclass) == [*described(Generated), ("extra", "int", 1, dataclasses.MISSING, True, True)]
    assert dataclasses.is_dataclass(Ours)
    assert dataclasses.is_dataclass(Ours("a"))
    assert Ours.__match_args__ == Generated.__match_args__  # type: ignore[attr-defined]
    assert dataclasses.asdict(Ours("a", 2, ["t"])) == dataclasses.asdict(Generated("a", 2, ["t"]))
    assert dataclasses.replace(Ours("a", 2), count=3) == Ours("a", 3)
    assert dataclasses.replace(OursFrozen("a"), note="n").note == "n"
    assert not hasattr(Ours, "tags")  # class attributes as @dataclass leaves them
    assert Ours.count == 0
    assert orjson.dumps(Ours("a", 2, ["t"], "n")) == orjson.dumps(Generated("a", 2, ["t"], "n"))


def test_frozen_instances_refuse_changes_as_generated() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        OursFrozen("a").other = 1  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del OursFrozen("a").name  # type: ignore[misc]

    class Plain(OursFrozen):  # not a record: as for a dataclass, only the fields stay frozen
        pass

    plain = Plain("a")
    plain.other = 1  # type: ignore[attr-defined]
    assert plain.other == 1  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.name = "b"  # type: ignore[misc]


def test_post_init_and_class_variables() -> None:
    seen: list[str] = []

    @record
    class Checked(Value):
        limits: ClassVar[int] = 3
        name: str

        def __post_init__(self) -> None:
            seen.append(self.name)

    Checked("a")
    assert [f.name for f in dataclasses.fields(Checked)] == ["name"]
    assert seen == ["a"]


def test_what_record_refuses() -> None:
    with pytest.raises(ValueError, match="mutable default"):
        record(type("Bad", (Value,), {"__annotations__": {"items": "list[int]"}, "items": []}))
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        record(type("Bad", (Value,), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))
    with pytest.raises(TypeError, match="a record is a FrozenValue"):
        record(frozen=True)(type("Bad", (Value,), {}))
    with pytest.raises(TypeError, match="a record is a Value"):
        record(type("Bad", (), {}))
    with pytest.raises(TypeError, match="not supported"):
        record(type("Bad", (Value,), {"__annotations__": {"a": "int"}, "a": field(default=1, init=False)}))


def test_the_package_declares_its_dataclasses_as_records() -> None:
    package = Path(values.__file__).parent
    declared = [p for p in package.rglob("*.py") if re.search(r"^@(dataclasses\.)?dataclass\b", p.read_text(), re.M)]
    assert declared == [], "declare with values.record (see its docstring): @dataclass compiles every method"

"""values.Value/FrozenValue behave as the methods dataclasses would generate: each pair below is one class
declared both ways, and every comparison, hash and repr must agree between the two."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_iotops.config import Settings
from pytest_iotops.evidence.config import EvidenceSource
from pytest_iotops.model import RunReport, TestResult
from pytest_iotops.values import FrozenValue, Value


@dataclass(eq=False, repr=False)
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


@dataclass(frozen=True, eq=False, repr=False)
class OursFrozen(FrozenValue):
    name: str
    count: float = 0.0
    note: str = field(default="", compare=False)


@dataclass(frozen=True)
class GeneratedFrozen:
    name: str
    count: float = 0.0
    note: str = field(default="", compare=False)


@dataclass(eq=False, repr=False)
class OneField(Value):
    only: Any


@dataclass(eq=False, repr=False)
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
    assert all(not c.__dataclass_params__.eq for c in (Settings, RunReport, TestResult))  # type: ignore[attr-defined]

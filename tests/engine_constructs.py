"""A module written to hit every construct where two coverage collectors could part (branch exits, loops,
match, closures made before a phase boundary, decorators, multi-line statements, exclusions, data read through
the package's loader), with tests in three phases that run some of it twice: the project every engine
comparison measures (SlipCover and coverage.py's sys.monitoring core against coverage.py's tracer)."""

from __future__ import annotations

from typing import Any

CONSTRUCTS = """
import functools
import pkgutil


def bundled():
    return pkgutil.get_data("app", "data.txt")  # through the package's loader, which SlipCover wraps


def deco(f):
    @functools.wraps(f)
    def wrapper(*a):
        return f(*a)
    return wrapper


@deco
def classify(x):
    if x > 10:
        return "big"
    elif x < 0:  # pragma: no cover
        return "negative"
    return "small"


def loop_to_exit(items):
    total = 0
    for i in items:
        if i % 2:
            total += i
    return total


def loop_last(items, out):
    for i in items:
        out.append(i)


def while_loop(n):
    while n > 0:
        n -= 1
        if n == 5:
            break
    else:
        return "done"
    return "broke"


def matcher(value):
    match value:
        case 1:
            return "one"
        case [a, b]:
            return a + b
        case {"k": v}:
            return v


def handled(x):
    try:
        result = 10 // x
    except ZeroDivisionError:
        result = None
    finally:
        done = True
    return result, done


def gen(n):
    for i in range(n):
        if i == 2:
            continue
        yield i


def make_counter():
    count = 0

    def bump(step=1):
        nonlocal count
        if step > 1:
            count += step
        else:
            count += 1
        return count
    return bump


COUNTER = make_counter()


class Shape:
    def __init__(self, sides):
        self.sides = sides

    @property
    def kind(self):
        if self.sides == 3:
            return "triangle"
        return "polygon"

    def area(
        self,
        scale=1,
    ):
        return (
            self.sides
            * scale
        )


square = lambda x: x * x  # noqa: E731


def tiny(): return 1  # noqa: E704


class Empty: pass  # noqa: E701


def only_integration(x):
    if x:
        return [i for i in range(x) if i % 2]
    return []


def closed_in_try(out):
    def gen():
        try:
            yield 1
            yield 2
        finally:
            out.append("cleanup")  # runs only through the exception table: GeneratorExit

    g = gen()
    next(g)
    g.close()
    return out


def annotated(items):
    total = 0
    for item in items:
        value: int  # runs nothing: coverage.py's arcs skip it
        value = item * 2
        total += value
    return total


def first_even(items):
    for item in items:
        if item % 2 == 0:
            break
    else:
        if not items:  # the end of a loop's else goes on after the loop, not back to it
            return "empty"
    return "done"


class Holder:
    def __init__(self, flag):
        if flag:
            self.kind: str  # evaluates self: a statement
            self.kind = "on"


if True:
    LEVEL: int = 3  # module level: the annotation is evaluated, a statement for both


def never_called(x):
    if x:
        return 1
    return 2
"""

UNIT = """
from app.constructs import classify, loop_to_exit, loop_last, while_loop, matcher, handled, gen, COUNTER, Shape
from app.constructs import closed_in_try, tiny, annotated, bundled, Holder, first_even

def test_constructs():
    assert classify(20) == "big" and classify(3) == "small"
    assert loop_to_exit([1, 2, 3]) == 4
    out = []
    loop_last([1], out)
    assert out == [1]
    assert while_loop(3) == "done"
    assert matcher(1) == "one" and matcher([1, 2]) == 3
    assert handled(2) == (5, True)
    assert list(gen(4)) == [0, 1, 3]
    assert COUNTER() == 1
    assert Shape(3).kind == "triangle"
    assert closed_in_try([]) == ["cleanup"]
    assert tiny() == 1
    assert annotated([1, 2]) == 6
    assert bundled() == b"calibration"
    assert Holder(True).kind == "on"
    assert first_even([1, 3]) == "done"
"""

INTEGRATION = """
from app.constructs import COUNTER, Shape, only_integration, square, handled, while_loop, matcher

def test_later_phase():
    assert COUNTER(5) >= 6  # a closure made at import, long before this phase
    assert Shape(4).kind == "polygon" and Shape(4).area(scale=2) == 8
    assert only_integration(4) == [1, 3] and only_integration(0) == []
    assert square(3) == 9
    assert handled(0) == (None, True)
    assert while_loop(9) == "broke"
    assert matcher({"k": 7}) == 7 and matcher("x") is None
"""

E2E = """
from app import constructs

def test_end_to_end():
    assert constructs.classify(11) == "big"
"""


def constructs_files() -> dict[str, str]:
    """The project's files (with ``make_project``'s layout: app/, tests/unit, tests/integration, tests/e2e)."""
    return {
        "app/constructs.py": CONSTRUCTS,
        "app/data.txt": "calibration",
        "tests/unit/test_unit.py": UNIT,
        "tests/integration/test_integration.py": INTEGRATION,
        "tests/e2e/test_e2e.py": E2E,
    }


def figures(cov: dict[str, Any]) -> tuple[Any, ...]:
    """What two engines must agree on in a run report's coverage: totals, each file's statements, missing lines
    and branches, each phase's covered lines and statements."""
    files = [(f["path"], f["statements"], f["missing"], f["branches"], f["covered_branches"]) for f in cov["files"]]
    phases = [(p["phase"], p["covered_lines"], p["statements"]) for p in cov["phases"]]
    return cov["totals"], files, phases

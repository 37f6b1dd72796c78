"""Where SlipCover's probes go, and SlipCover made to start over: the placement coverage.py needs on 3.11, fresh
probes at each phase, and code imported before the start compiled again with branch markers.

SlipCover probes where a line starts (``dis.findlinestarts``). Two kinds of code run with no line start of
their own: an exception handler whose first line is the line of the instruction before it (the exceptional
copy of a ``finally`` block: what runs when a generator is closed inside its ``try``), and a function entirely
on the line of its ``def``. coverage.py's tracer sees both; :func:`probe_handlers` adds probes there.
"""

from __future__ import annotations

import ast
import dis
import inspect
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["Key", "code_key", "forwarding_loader", "marked_functions", "probe_handlers", "probes_class"]

Key = tuple[int, tuple[int, ...]]  # (top-level code number, path of co_consts indices)


def _nested(co: types.CodeType) -> Iterator[tuple[int, types.CodeType]]:
    for i, c in enumerate(co.co_consts):
        if isinstance(c, types.CodeType):
            yield i, c


def _walk(co: types.CodeType, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], types.CodeType]]:
    """Every code object under ``co`` with its path of constant indices (SlipCover keeps those indices: it only
    replaces nested code in place and appends its own constants)."""
    yield path, co
    for i, c in _nested(co):
        yield from _walk(c, (*path, i))


def probes_class() -> type:
    """A SlipCover that remembers the code it was given, so each phase can start with fresh probes."""
    from slipcover import Slipcover

    class Probes(Slipcover):  # type: ignore[misc]  # untyped library
        def __init__(self, branch: bool) -> None:
            super().__init__(branch=branch)
            self.originals: list[types.CodeType] = []
            self.key_of: dict[int, Key] = {}  # id(code) -> key, for every generation of instrumented code
            self.alive: list[types.CodeType] = []  # keeps the ids above valid
            #: per original: its armable functions; per function: its code now tracked for de-instrumentation
            self.units: dict[int, list[tuple[tuple[int, ...], types.CodeType, set[int]]]] = {}
            self.current: dict[Key, types.CodeType] = {}

        def _remember(self, new: types.CodeType, key: Key) -> None:
            self.key_of[id(new)] = key
            self.alive.append(new)

        def instrument(self, co: Any, parent: Any = None) -> Any:
            if parent is not None or not isinstance(co, types.CodeType):
                return super().instrument(co, parent)
            number = len(self.originals)
            self.originals.append(co)
            new = super().instrument(co, parent)
            for path, code in _walk(new):
                self._remember(code, (number, path))
            return new

        def deinstrument(self, co: Any, lines: set[Any]) -> Any:
            new = super().deinstrument(co, lines)
            if isinstance(co, types.CodeType) and new is not co and id(co) in self.key_of:
                self._remember(new, self.key_of[id(co)])
            return new

        def fresh(self, fired: dict[str, set[Any]]) -> dict[Key, types.CodeType]:
            """Newly instrumented code for each function whose probes fired since the last call (``fired``: what
            was seen, per file); a function that ran nothing still has its probes. Modules and class bodies run
            once, so only the functions in them are armed again, each as a whole with what it nests."""
            result: dict[Key, types.CodeType] = {}
            with self.lock:
                for number, original in enumerate(self.originals):
                    seen = fired.get(original.co_filename)
                    if not seen:
                        continue
                    lines = {x if isinstance(x, int) else x[0] for x in seen}
                    for path, unit, unit_lines in self._units(number, original):
                        if unit_lines.isdisjoint(lines):
                            continue
                        # as a nested code object (a parent given): SlipCover skips recomputing the lines it
                        # already knows, a third of the cost; the new code is tracked here instead
                        new = Slipcover.instrument(self, unit, unit)
                        tracked = self.instrumented[original.co_filename]
                        tracked.discard(self.current.pop((number, path), None))
                        tracked.add(new)
                        self.current[(number, path)] = new
                        for sub, code in _walk(new):
                            result[(number, (*path, *sub))] = code
                            self._remember(code, (number, (*path, *sub)))
            return result

        def _units(
            self, number: int, original: types.CodeType
        ) -> list[tuple[tuple[int, ...], types.CodeType, set[int]]]:
            """The functions of an original not nested in another function, with every line under each."""
            if number not in self.units:
                found: list[tuple[tuple[int, ...], types.CodeType, set[int]]] = []
                for path, code in _walk(original):
                    if code.co_flags & inspect.CO_NEWLOCALS and not any(
                        path[: len(p)] == p for p, _, _ in found if p != path
                    ):
                        lines = {line for _, c in _walk(code) for _, _, line in c.co_lines() if line}
                        found.append((path, code, lines))
                self.units[number] = found
            return self.units[number]

    return Probes


def forwarding_loader() -> type:
    """SlipCover's loader, plus everything else the loader it wraps offers. A module's loader also serves its
    package data (``pkgutil.get_data`` asks it for ``get_data``; importlib.resources, ``get_filename``,
    ``is_package``, ``get_source``); SlipCover's offers none of these, so python-dateutil's bundled time zones
    read as an empty file and its tests failed."""
    from slipcover.importer import SlipcoverLoader

    class ForwardingLoader(SlipcoverLoader):  # type: ignore[misc]  # untyped library
        def __init__(self, sci: Any, orig_loader: Any, origin: str) -> None:
            # not SlipCover's: it deletes get_resource_reader from the instance when the wrapped loader has
            # none, which raises (the method is the class's); the property below answers that instead
            self.sci, self.orig_loader, self.origin = sci, orig_loader, Path(origin)

        @property
        def get_resource_reader(self) -> Any:
            return self.orig_loader.get_resource_reader  # AttributeError, as a loader without one would give

        def exec_module(self, module: types.ModuleType) -> None:
            """SlipCover puts branch markers only into what a SourceFileLoader loads; another SourceLoader that
            compiles its source unchanged (a framework's import hook) gets them too, from its own get_source."""
            if self.sci.branch and _plain_source_loader(self.orig_loader):
                from slipcover import branch

                source = self.orig_loader.get_source(module.__name__)
                if source is not None:
                    tree = branch.preinstrument(ast.parse(source))
                    self.sci.register_module(module)
                    code = self.sci.instrument(compile(tree, str(self.origin), "exec"))
                    exec(code, module.__dict__)  # noqa: S102 - a loader runs the module it loads
                    return
            super().exec_module(module)

        def __getattr__(self, name: str) -> Any:
            if name == "orig_loader":  # not set yet: no recursion
                raise AttributeError(name)
            return getattr(self.orig_loader, name)

    return ForwardingLoader


def _plain_source_loader(loader: Any) -> bool:
    """A SourceLoader that is not a file loader (SlipCover handles those) and compiles source as Python does."""
    import importlib.abc
    from importlib import machinery

    return (
        isinstance(loader, importlib.abc.SourceLoader)
        and not isinstance(loader, machinery.SourceFileLoader)
        and type(loader).source_to_code is importlib.abc.SourceLoader.source_to_code
    )


def probe_handlers() -> tuple[Any, str, Any]:
    """A probe at every exception handler's first instruction too; returns what undoes it. SlipCover probes where a
    line starts, and on 3.11 a ``finally`` block's exceptional copy often starts with the line of the
    instruction before it, so the lines a ``finally`` or ``except`` runs only when an exception passes
    (a generator closed in its ``try``) had no probe; coverage.py's tracer sees them."""
    from slipcover import bytecode
    from slipcover import slipcover as core

    if sys.version_info < (3, 11) or sys.version_info >= (3, 12):  # pragma: no cover - 3.11 here
        return core, "findlinestarts", core.findlinestarts

    plain = core.findlinestarts
    resume = dis.opmap["RESUME"]

    def with_handlers(co: types.CodeType) -> list[tuple[int, int]]:
        starts = list(plain(co))
        known = {offset for offset, _ in starts}
        targets = sorted({e.target for e in bytecode.ExceptionTableEntry.from_code(co)})
        if not starts and resume in co.co_code[::2]:
            # all on the line of its RESUME (``def f(): return 1``, a docstring alone): SlipCover leaves it
            # without a probe. Its probe records the arc coverage.py sees when the function returns
            # (``n -> -n``: such a def line is a branch for coverage.py, on to the next statement or out)
            after = co.co_code[::2].index(resume) * 2 + 2
            first = next(((o, n) for o, n in _lines(co) if o >= after), None)
            if first is not None:
                starts.append((first[0], (first[1], -first[1])))
                known.add(first[0])
        if targets:
            lines = _lines(co)
            for target in targets:
                # the handler's first instruction with a line (PUSH_EXC_INFO has none): a probe there
                # records only a line that really runs, whatever the handler is
                first = next(((o, n) for o, n in lines if o >= target), None)
                if first is not None and first[0] not in known:
                    known.add(first[0])
                    starts.append(first)
            starts.sort()
        return starts

    core.findlinestarts = with_handlers
    return core, "findlinestarts", plain


def _lines(co: types.CodeType) -> list[tuple[int, int]]:
    return [(begin, line) for begin, _, line in co.co_lines() if line]


def code_key(code: types.CodeType) -> tuple[str, int]:
    return getattr(code, "co_qualname", code.co_name), code.co_firstlineno


def marked_functions(filename: str) -> dict[tuple[str, int], types.CodeType]:
    """Every function of ``filename`` compiled with SlipCover's branch markers, by qualified name and first
    line (a name defined twice on one line is left out: which code belongs to which object is not known)."""
    from slipcover import branch

    try:
        module = compile(branch.preinstrument(ast.parse(Path(filename).read_bytes())), filename, "exec")
    except (OSError, SyntaxError, ValueError):
        return {}
    result: dict[tuple[str, int], types.CodeType] = {}
    twice: set[tuple[str, int]] = set()
    for _, code in _walk(module):
        key = code_key(code)
        if key in result:
            twice.add(key)
        result[key] = code
    return {k: v for k, v in result.items() if k not in twice}

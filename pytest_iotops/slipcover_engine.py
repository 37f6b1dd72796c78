"""SlipCover as the collector, coverage.py as the judge: probes that cost almost nothing, numbers from coverage.py.

SlipCover (https://github.com/plasma-umass/slipcover) inserts a probe at each line (and, with branches, at each
branch target) of the code it imports and removes a probe once it has fired, so a measured test suite runs at
nearly its plain speed. Only *what ran* is taken from it: the executed lines and branches are written into a
``coverage.CoverageData`` under the same context labels coverage.py's own tracer would use, and every figure
(statements, exclusions, multi-line statements, branch possibilities, partial branches) then comes from
coverage.py's report over that data. Which files are measured is decided by coverage.py's own rules
(``source``, ``include``, ``omit``, the standard library) through its ``InOrOut``, so both engines see the same
files.

Phases: a probe fires once, so a line run in ``unit`` would not be seen again in ``integration``. At a phase
boundary the lines seen so far are kept for the phase that ended, and every function whose probes fired gets
freshly instrumented code (found through the garbage collector, which sees closures and methods a module walk
misses).
A function whose code is running across the boundary (a suspended generator fixture) keeps its old probes;
those lines count for the total and the earlier phase only. On Python 3.12+ SlipCover uses ``sys.monitoring``
and a boundary is ``sys.monitoring.restart_events()``.
"""

from __future__ import annotations

import gc
import sys
import types
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import coverage
from coverage.files import canonical_filename

from .errors import ConfigError
from .slipcover_arcs import Shape
from .slipcover_probes import code_key, forwarding_loader, marked_functions, probe_handlers, probes_class

__all__ = ["SlipcoverCollector", "slipcover_available"]


def slipcover_available() -> bool:
    try:
        import slipcover  # noqa: F401
    except ImportError:
        return False
    return True


class _Matcher:
    """SlipCover's file matcher answered by coverage.py's rules, once per file name."""

    def __init__(self, inorout: Any) -> None:
        self.inorout = inorout
        self.cache: dict[str, bool] = {}

    def matches(self, filename: Any) -> bool:
        if filename is None:
            return False
        name = str(filename)
        if name not in self.cache:
            if name == "built-in" or name.endswith((".so", ".pyd")):
                self.cache[name] = False
            else:
                frame = _ModuleFrame(name, _module_name(name))
                self.cache[name] = bool(self.inorout.should_trace(name, frame).trace)
        return self.cache[name]


class _ModuleFrame:
    """What coverage.py reads from the frame its tracer sees: ``source_pkgs`` (and a package name as ``source``)
    match by the module's dotted name, which a file name alone does not give."""

    def __init__(self, filename: str, module: str | None) -> None:
        self.f_globals = {"__file__": filename, "__name__": module}


def _module_name(filename: str) -> str | None:
    """The dotted name a file is imported under, from the longest ``sys.path`` entry that holds it."""
    path = Path(filename).resolve()
    best: tuple[str, ...] | None = None
    for entry in sys.path:
        try:
            relative = path.relative_to(Path(entry or ".").resolve())
        except (ValueError, OSError):
            continue
        parts = relative.with_suffix("").parts
        if best is None or len(parts) < len(best):
            best = parts
    if not best:
        return None
    parts = best[:-1] if best[-1] == "__init__" else best
    return ".".join(parts) or None


def _inorout(cov: coverage.Coverage) -> Any:
    """coverage.py's file selection for ``cov``'s configuration (an internal class: checked, not assumed)."""
    try:
        from coverage.inorout import InOrOut

        cov._init()
        inorout = InOrOut(
            config=cov.config,
            warn=cov._warn,
            debug=None,
            include_namespace_packages=cov.config.include_namespace_packages,
        )
        inorout.plugins = cov._plugins
    except (ImportError, AttributeError, TypeError) as exc:  # pragma: no cover - another coverage.py major
        raise ConfigError(
            f"[tool.iotops.coverage] engine = 'slipcover' needs coverage.py 7's file selection "
            f"(coverage {coverage.__version__}: {exc})"
        ) from None
    return inorout


class SlipcoverCollector:
    """Executed lines and branches per context label, measured by SlipCover for the files coverage.py selects."""

    def __init__(self, cov: coverage.Coverage, static_context: str = "") -> None:
        import slipcover

        self.branch = bool(cov.get_option("run:branch"))
        self.static = static_context
        self.label = static_context
        self.inorout = _inorout(cov)
        # how coverage.py's collector names a file in its data (relative with [run] relative_files)
        self.mapper: Callable[[str], str] = getattr(cov, "_file_mapper", None) or str
        self.matcher = _Matcher(self.inorout)
        self.probes = probes_class()(self.branch)
        self.segments: dict[str, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
        self.importer = slipcover.ImportManager(self.probes, self.matcher)
        self._restore: list[tuple[Any, str, Any]] = []
        self.running = False
        self.rearm_seconds: list[float] = []

    # -- measuring --------------------------------------------------------------------------------------------
    def start(self) -> None:
        import importlib.util

        from slipcover import importer

        self.base_loader = importer.SlipcoverLoader
        self.loader_class = forwarding_loader()
        self._restore.append((importer, "SlipcoverLoader", self.base_loader))
        importer.SlipcoverLoader = self.loader_class
        self.importer.__enter__()
        self._restore.append(probe_handlers())
        self._patch_pytest()
        self._restore.append((importlib.util, "spec_from_file_location", importlib.util.spec_from_file_location))
        importlib.util.spec_from_file_location = self._wrap_spec_from_file_location(
            importlib.util.spec_from_file_location
        )
        self._instrument_loaded()
        self.running = True

    def _wrap_spec_from_file_location(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """Files loaded through ``importlib.util.spec_from_file_location`` (pytest's ``--import-mode=importlib``,
        plugin loaders) get SlipCover's loader when selected. SlipCover's own wrapper passes
        ``submodule_search_locations=None`` where the caller gave nothing, which turns a package's
        ``__init__.py`` into a plain module (structlog's suite then fails to import ``tests.x``); this one
        passes the caller's arguments on untouched."""
        from importlib.machinery import ExtensionFileLoader

        probes, matcher, forwarding, wrapped = self.probes, self.matcher, self.loader_class, self.base_loader

        def spec_from_file_location(*args: Any, **kwargs: Any) -> Any:
            spec = original(*args, **kwargs)
            loader = getattr(spec, "loader", None)
            if loader is None or isinstance(loader, (ExtensionFileLoader, wrapped)):
                return spec
            if type(loader).__name__ == "AssertionRewritingHook":  # pytest's rewriter is wrapped on its own
                return spec
            if spec.origin and matcher.matches(spec.origin):
                spec.loader = forwarding(probes, loader, spec.origin)
            return spec

        return spec_from_file_location

    def _patch_pytest(self) -> None:
        """pytest's assertion rewriter imports test modules and conftests itself; SlipCover wraps it (undone at
        stop: the functions' code and the three hooks it replaces)."""
        import slipcover

        try:
            from _pytest.assertion import rewrite
        except ImportError:  # pragma: no cover - pytest is always there when the plugin runs
            return
        for function in slipcover.Slipcover.find_functions(list(vars(rewrite).values()), set()):
            self._restore.append((function, "__code__", function.__code__))
        for attr in ("rewrite_asserts", "_read_pyc", "_write_pyc"):
            self._restore.append((rewrite, attr, getattr(rewrite, attr)))
        if hasattr(rewrite, "_Slipcover_exec_wrapper"):
            del rewrite._Slipcover_exec_wrapper
        # SlipCover's own branch wrapping checks pytest's private signatures by name and gives up on pytest 9;
        # it is done here by position (below), so it only gets to redirect the rewriter's exec
        self.probes.branch = False
        try:
            slipcover.wrap_pytest(self.probes, self.matcher)
        finally:
            self.probes.branch = self.branch
        self._restore.append((rewrite, "_Slipcover_exec_wrapper", None))
        if self.branch:
            self._mark_rewritten_branches(rewrite)

    def _mark_rewritten_branches(self, rewrite: Any) -> None:
        """Branch markers in the test modules and conftests pytest rewrites (those coverage.py selects), cached
        apart from pytest's own pyc files so neither run loads the other's code."""
        from slipcover import branch
        from slipcover.version import __version__

        rewrite_asserts, read_pyc, write_pyc = rewrite.rewrite_asserts, rewrite._read_pyc, rewrite._write_pyc
        matcher = self.matcher
        tag = f"-iotops-slipcover-{__version__}"

        def tagged(pyc: Path) -> Path:
            return pyc.with_name(pyc.stem + tag + pyc.suffix)

        def marked_rewrite(mod: Any, source: bytes, module_path: str | None = None, *rest: Any) -> Any:
            if module_path is not None and matcher.matches(module_path):
                mod = branch.preinstrument(mod)
            return rewrite_asserts(mod, source, module_path, *rest)

        def marked_read(source: Path, pyc: Path, *rest: Any) -> Any:
            return read_pyc(source, tagged(pyc), *rest)

        def marked_write(state: Any, co: Any, source_hash: bytes, pyc: Path, *rest: Any) -> Any:
            return write_pyc(state, co, source_hash, tagged(pyc), *rest)

        rewrite.rewrite_asserts, rewrite._read_pyc, rewrite._write_pyc = marked_rewrite, marked_read, marked_write

    def _instrument_loaded(self) -> None:
        """Code imported before the start (pytest imports pluggy; a conftest imports the project): coverage.py's
        tracer sees its functions run, so they get probes too, every function object the garbage collector
        knows (closures and methods included). With branches, each such file is compiled again with SlipCover's
        branch markers and a function takes the marked code of the same name, line and free variables.
        Module code that has run already is lost to both engines alike."""
        functions: dict[str, list[types.FunctionType]] = defaultdict(list)
        for obj in gc.get_objects():
            if type(obj) is types.FunctionType:
                filename = obj.__code__.co_filename
                if filename.endswith(".py") and self.matcher.matches(filename):
                    functions[filename].append(obj)
        for filename, found in functions.items():
            marked = marked_functions(filename) if self.branch else {}
            for function in found:
                code = function.__code__
                if "__slipcover__" in code.co_consts:
                    continue  # imported after the start after all (an import hook ran while we looked)
                replacement = marked.get(code_key(code))
                if replacement is not None and replacement.co_freevars == code.co_freevars:
                    function.__code__ = replacement
                self.probes.instrument(function)
        for module in list(sys.modules.values()):
            if getattr(module, "__file__", None) in functions:
                self.probes.register_module(module)

    def switch(self, label: str) -> None:
        """A new phase: what ran so far belongs to the last label; the probes are armed again for the next."""
        import time

        if label == self.label or not self.running:
            return
        started = time.perf_counter()
        fired = self._drain()
        self.label = label
        if sys.version_info >= (3, 12):  # pragma: no cover - this machine's Python is 3.11
            sys.monitoring.restart_events()
        else:
            self._rearm(fired)
        self.rearm_seconds.append(time.perf_counter() - started)

    def _rearm(self, fired: dict[str, set[Any]]) -> None:
        fresh = self.probes.fresh(fired)
        if not fresh:
            return
        key_of = self.probes.key_of
        for obj in gc.get_objects():
            if type(obj) is types.FunctionType:
                key = key_of.get(id(obj.__code__))
                if key is not None and key in fresh and obj.__code__ is not fresh[key]:
                    obj.__code__ = fresh[key]

    def _drain(self) -> dict[str, set[Any]]:
        """What the probes saw since the last drain, added to the current label's segment (and returned)."""
        with self.probes.lock:
            seen: dict[str, set[Any]] = self.probes._get_newly_seen()
            for filename, items in self.probes.all_seen.items():
                seen[filename].update(items)
            self.probes.all_seen.clear()
        segment = self.segments[self.label]
        for filename, items in seen.items():
            segment[filename].update(x for x in items if x)
        return seen

    def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        self._drain()
        self.importer.__exit__(None, None, None)
        for owner, attr, value in reversed(self._restore):
            if value is None:
                if hasattr(owner, attr):
                    delattr(owner, attr)
            else:
                setattr(owner, attr, value)
        self._restore.clear()

    # -- handing over -----------------------------------------------------------------------------------------
    def write_into(self, data: coverage.CoverageData) -> None:
        """Everything measured, under its context labels, in coverage.py's data (lines, or arcs with branches),
        plus the selected files nothing imported (0 %, as coverage.py reports them)."""
        shapes: dict[str, Shape] = {}
        for label, files in sorted(self.segments.items()):
            data.set_context(label)
            if self.branch:
                data.add_arcs({self._name(name): self._arcs(name, items, shapes) for name, items in files.items()})
            else:
                data.add_lines(
                    {
                        self._name(name): {x if isinstance(x, int) else x[0] for x in items}
                        for name, items in files.items()
                    }
                )
        self.segments.clear()
        unexecuted = [self._name(path) for path, _ in self.inorout.find_possibly_unexecuted_files()]
        if unexecuted:
            data.touch_files(unexecuted)

    def _name(self, path: str) -> str:
        return str(self.mapper(canonical_filename(path)))

    def _arcs(self, name: str, items: set[Any], shapes: dict[str, Shape]) -> set[tuple[int, int]]:
        """Lines become entry arcs (``-n -> n``: never a branch, so they only mark the line); SlipCover's branch
        ``(a, b)`` is coverage.py's arc ``a -> b``, its exit ``(a, 0)`` is ``a -> -start`` of the code object the
        branch leaves; :class:`Shape` has the constructs the two mark differently."""
        if name not in shapes:
            shapes[name] = Shape(name)
        shape = shapes[name]
        arcs: set[tuple[int, int]] = set()
        for x in items:
            arcs.update(shape.line_arcs(x) if isinstance(x, int) else shape.arcs(x[0], x[1]))
        return arcs

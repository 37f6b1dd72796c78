"""``[tool.iotops.coverage] trace = "tests"``: the hooks that switch coverage.py's tracer on around each test
(:mod:`pytest_iotops.covwindow` holds the switches and why they keep coverage.py's figures)."""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..coverage import CoverageMeter
    from ..covwindow import TraceWindows

__all__ = ["TraceWindowsPlugin"]


class TraceWindowsPlugin:
    """Registered when ``trace = "tests"`` and our own coverage.py tracer measures; decides at the test loop's
    start whether the gaps between tests may go untraced, and says why not in the run report if they may not."""

    def __init__(self, meter: CoverageMeter) -> None:
        self.meter = meter
        self.windows: TraceWindows | None = None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        self.windows = self._begin(session.config)
        try:
            return (yield)
        finally:
            if self.windows is not None:
                self.windows.end()
                self.windows = None

    def _begin(self, config: pytest.Config) -> TraceWindows | None:
        from ..covwindow import TraceWindows, gap_reason

        tracer = sys.gettrace()
        cov = self.meter.cov
        if cov is None or (getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput")):
            return None  # the xdist controller: its workers trace (and say how)
        should = getattr(cov, "_should_trace", None)
        if tracer is None:
            why = "no tracer is installed (coverage.py measures through sys.monitoring)"
        elif type(tracer).__name__ != "CTracer" or should is None:
            why = "coverage.py's C tracer is not the one tracing"
        elif cov.get_option("run:dynamic_context"):
            why = "[run] dynamic_context: per-test contexts start in pytest's own frames"
        else:
            hooks = list(_hook_impls(config, self))
            known = {path: module for _, path, module in hooks}
            packages = _packages()
            known.update(packages)

            def measured(path: str) -> bool:
                return _is_measured(should, path, known.get(path))

            why = gap_reason(measured, [(name, path) for name, path, _ in hooks], list(packages))
        if why:
            self.meter.trace = f"always ({why})"
            return None
        windows = TraceWindows(tracer)
        if not windows.begin():
            self.meter.trace = "always (another tracer was installed when the tests started)"
            return None
        self.meter.trace = "tests"
        return windows

    def _window(self) -> Generator[None, object, object]:
        """Trace one set-up, call or teardown. A raise leaves the tracer on until the next window ends normally,
        so the failure's report and the freeing of the test's frames are seen as pytest-cov would see them."""
        windows = self.windows
        if windows is None:
            return (yield)
        windows.open()
        result = yield
        windows.close()
        return result

    pytest_runtest_setup = pytest.hookimpl(wrapper=True, tryfirst=True)(_window)
    pytest_runtest_call = pytest.hookimpl(wrapper=True, tryfirst=True)(_window)
    pytest_runtest_teardown = pytest.hookimpl(wrapper=True, tryfirst=True)(_window)


def _is_measured(should: Any, path: str, module_globals: dict[str, Any] | None) -> bool:
    """coverage.py's own decision for ``path``, given the module's globals where known (``source_pkgs`` is matched
    by module name). A file it cannot judge counts as measured: the tracer then stays on."""
    frame = SimpleNamespace(f_globals=module_globals) if module_globals else None
    try:
        return bool(should(path, frame).trace)
    except Exception:
        return True


_WINDOWED = ("pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown")


def _hook_impls(config: pytest.Config, ours: object) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(hook name, file, module globals) of every hook implementation registered now, conftest files included.
    A wrapper of set-up, call or teardown called before ours (``tryfirst``, registered later) runs partly
    outside the window: it is named as such, so that a measured one keeps the tracer on."""
    for name, caller in vars(config.pluginmanager.hook).items():
        impls: list[Any] = getattr(caller, "get_hookimpls", list)()
        mine = next((i for i, impl in enumerate(impls) if impl.plugin is ours), None)
        for i, impl in enumerate(impls):
            code = getattr(impl.function, "__code__", None)
            if code is None:
                continue
            around = name in _WINDOWED and mine is not None and i > mine  # pluggy calls the list from its end
            shown = f"{name} (a wrapper outside iotops's window)" if around else name
            yield shown, code.co_filename, getattr(impl.function, "__globals__", {})


def _packages() -> dict[str, dict[str, Any]]:
    """pytest's, pluggy's and iotops's files (one each), which run between tests, with their globals."""
    import _pytest.main
    import pluggy._callers

    from .. import covwindow

    return {str(m.__file__): vars(m) for m in (_pytest.main, pluggy._callers, covwindow) if m.__file__}

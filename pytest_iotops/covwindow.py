"""coverage.py's tracer on while tests run, off for pytest's own work between them (``trace = "tests"``).

A C tracer is called for every line Python runs in the thread, measured or not: on a suite of fast tests most of
what coverage.py costs is pytest's bookkeeping between tests (reports, hooks, terminal output). Here the main
thread's tracer stays on through start-up and collection, then, during the test loop, only while a test is set
up, run and torn down; after a test raises (a failure, a skip, an xfail) until the next test's set-up ends, so
the report's ``repr``/``str`` of the test's objects and the freeing of its frames are seen; while the garbage
collector runs (finalizers); and again for good after the last test. Other threads keep their tracers.

Why no line is recorded in the wrong file: coverage.py's C tracer keeps a stack of per-frame entries, pushed on a
frame's call event and popped on its return; frames entered or left while it is off are missing from it. The
switches keep one invariant: whenever tracing goes off, every entry at or below the stack's top belongs to an
unmeasured frame (ours or pytest's). A switch on is made in a frame of ours whose ``f_trace`` is set, so its
return pops one entry; the switch off is made in that frame when it resumes (pushed again): each window is
balanced. Lines of frames entered while off then land in an unmeasured entry, which records nothing. Every
figure is still coverage.py's; what the tracer no longer sees is measured code run *between* tests — so a
measured file that implements a hook running there (a ``conftest.py`` or plugin under the measured source), or
pytest, pluggy or iotops being measured themselves, keeps the tracer on throughout (:func:`gap_reason`).
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["RUN_IN_WINDOWS", "TraceWindows", "gap_reason"]

#: hooks whose implementations run before the test loop, inside a window or after the loop: a measured one is
#: still fully seen (anything else measured keeps the tracer on throughout)
RUN_IN_WINDOWS = frozenset(
    {
        "pytest_addhooks",
        "pytest_addoption",
        "pytest_plugin_registered",
        "pytest_cmdline_parse",
        "pytest_cmdline_main",
        "pytest_load_initial_conftests",
        "pytest_configure",
        "pytest_sessionstart",
        "pytest_report_header",
        "pytest_collection",
        "pytest_collection_modifyitems",
        "pytest_collection_finish",
        "pytest_ignore_collect",
        "pytest_collect_directory",
        "pytest_collect_file",
        "pytest_collectstart",
        "pytest_make_collect_report",
        "pytest_collectreport",
        "pytest_pycollect_makemodule",
        "pytest_pycollect_makeitem",
        "pytest_generate_tests",
        "pytest_make_parametrize_id",
        "pytest_itemcollected",
        "pytest_deselected",
        "pytest_report_collectionfinish",
        "pytest_runtest_setup",
        "pytest_runtest_call",
        "pytest_runtest_teardown",
        "pytest_pyfunc_call",
        "pytest_fixture_setup",
        "pytest_fixture_post_finalizer",
        "pytest_assertrepr_compare",
        "pytest_assertion_pass",
        "pytest_markeval_namespace",
        "pytest_sessionfinish",
        "pytest_terminal_summary",
        "pytest_unconfigure",
    }
)


def gap_reason(measured: Callable[[str], bool], hooks: Iterable[tuple[str, str]], packages: Iterable[str]) -> str:
    """Why measured code could run between tests, named; "" when nothing measured can. ``hooks``: (hook name,
    file of an implementation); ``packages``: files of pytest, pluggy and iotops."""
    for path in packages:
        if measured(path):
            return f"{path} is measured, and it runs between tests"
    for name, path in hooks:
        if name not in RUN_IN_WINDOWS and measured(path):
            return f"{path} is measured and implements {name}, which runs between tests"
    return ""


class TraceWindows:
    """The main thread's switches for one tracer (see the module's docstring for the invariant they keep)."""

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        self._main = threading.get_ident()
        self._gc_opened = False
        #: how many windows were opened (for tests and the report)
        self.opened = 0

    def begin(self) -> bool:
        """At the test loop's start: off between tests from now on. False (and nothing changed) when the tracer
        is not this thread's current one."""
        if sys.gettrace() is not self.tracer:
            return False
        sys.settrace(None)
        gc.callbacks.append(self._collecting)
        return True

    def end(self) -> None:
        """After the loop (whichever way it ended): on for good."""
        if self._collecting in gc.callbacks:
            gc.callbacks.remove(self._collecting)
        if sys.gettrace() is None:
            sys.settrace(self.tracer)

    def open(self) -> None:
        """Trace what the calling frame runs next. Called from the frame that will call :meth:`close` after it
        resumes; nothing happens if something traces already (a window left open by a failure, a debugger)."""
        if sys.gettrace() is None:
            sys.settrace(self.tracer)
            # the caller's return (or yield) is then seen and pops the entry its resumption will push
            sys._getframe(1).f_trace = self.tracer
            self.opened += 1

    def close(self) -> None:
        """Stop tracing this thread if our tracer is the one tracing (a debugger's or a test's own is left)."""
        if sys.gettrace() is self.tracer:
            sys.settrace(None)

    def _collecting(self, phase: str, info: dict[str, int]) -> None:
        """gc's callback: finalizers of measured objects run under the tracer wherever the collection happens."""
        if threading.get_ident() != self._main:
            return
        if phase == "start":
            if sys.gettrace() is None:
                sys.settrace(self.tracer)
                sys._getframe().f_trace = self.tracer
                self._gc_opened = True
        elif self._gc_opened:
            self._gc_opened = False
            self.close()

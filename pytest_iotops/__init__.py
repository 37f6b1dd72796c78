"""pytest-iotops: ``pytest --iotops`` turns a test run into a gated delivery pipeline.

PYTEST_DONT_REWRITE: this package holds no test assertions (see :class:`_OwnModules`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType


class _OwnModules:
    """Loads this package's modules with Python's own finder and loader, ahead of pytest's assertion rewriter.

    pytest rewrites the asserts of every module of a distribution that declares a pytest plugin, and loads each
    from its own cache with ``marshal.load`` on a file: about 2.4 M instructions a module against 0.5 M for
    Python's loader, some 100 M for the modules an ``--iotops`` run imports. None of them holds a test's assert
    (the few asserts are invariants for the type checker), so rewriting buys nothing. Every other name is left to
    the finders after this one.
    """

    @staticmethod
    def find_spec(name: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> ModuleSpec | None:
        if path is None or not name.startswith("pytest_iotops."):
            return None
        return PathFinder.find_spec(name, path, target)


if not any(type(finder).__qualname__ == "_OwnModules" for finder in sys.meta_path):  # one a process, reloads too
    sys.meta_path.insert(0, _OwnModules())

__version__ = "0.1.0"

from .hookspecs import hookimpl  # noqa: E402 - after the finder, so it loads this module too

__all__ = ["__version__", "hookimpl"]

"""What coverage measures: the project's own coverage.py selection, else a guess at the distribution's packages.

coverage.py reads the project's configuration (``.coveragerc``, ``setup.cfg``, ``tox.ini``, ``pyproject.toml``,
``COVERAGE_RCFILE``); when it selects code (``source``, ``source_pkgs`` or ``include``) that selection is used
unchanged, because forcing a ``source`` on top makes coverage.py ignore ``include`` (it warns and measures
something else). Only a project that selects nothing gets a guess, and the guess takes every top-level package
of the distribution, since a distribution often ships several (attrs ships ``attr`` and ``attrs``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import read_toml
from .values import FrozenValue, record

if TYPE_CHECKING:
    import coverage

__all__ = ["SELECTING_OPTIONS", "Selection", "config_origin", "describe_selection", "detect_source"]

#: coverage.py options that choose what is measured; any of them set means the project chose
SELECTING_OPTIONS = ("run:source", "run:source_pkgs", "run:include")

_NOT_SOURCE_DIRS = {
    "tests",
    "test",
    "testing",
    "docs",
    "doc",
    "examples",
    "example",
    "benchmarks",
    "bench",
    "build",
    "dist",
    "scripts",
    "tools",
    "site-packages",
    "node_modules",
}
_NOT_SOURCE_MODULES = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "tasks.py", "manage.py"}
_TEST_FILES = ("*/tests/*", "*/test/*", "*/test_*.py", "*_test.py", "*/conftest.py")


@record(frozen=True)
class Selection(FrozenValue):
    """Directories (absolute) chosen by the guess, and why; ``omit`` when no package was found at all."""

    paths: list[str]
    description: str
    omit: tuple[str, ...] = ()


def detect_source(rootdir: Path) -> Selection:
    """Every top-level package of the distribution: declared by the build backend, else found in src/, else
    the flat layout's packages; the rootdir without test files when there is none."""
    project: dict[str, Any] = {}
    pyproject = rootdir / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = read_toml(pyproject)
        except Exception:
            project = {}
    declared = _declared(rootdir, project)
    if declared:
        return _selection(rootdir, declared, "packages declared by the build configuration")
    src = rootdir / "src"
    if src.is_dir():
        found = [p for p in sorted(src.iterdir()) if _is_package(p, namespace_ok=True) or _is_module(p)]
        if found:
            return _selection(rootdir, found, "every top-level package in src/")
    flat = [p for p in sorted(rootdir.iterdir()) if _is_package(p, namespace_ok=False)]
    name = _module_name(project)
    if name and not flat:
        flat = [p for p in (rootdir / name, rootdir / f"{name}.py") if p.is_dir() or p.is_file()]
    if flat:
        return _selection(rootdir, flat, "every top-level package in the rootdir")
    return Selection([str(rootdir)], "the rootdir without test files (no package found)", _TEST_FILES)


def _selection(rootdir: Path, paths: list[Path], why: str) -> Selection:
    shown = ", ".join(p.relative_to(rootdir).as_posix() for p in paths)
    return Selection([str(p) for p in paths], f"{shown} (guessed: {why})")


def _module_name(doc: dict[str, Any]) -> str | None:
    name = doc.get("project", {}).get("name") if isinstance(doc.get("project"), dict) else None
    return name.replace("-", "_").replace(".", "_").lower() if isinstance(name, str) else None


def _declared(rootdir: Path, doc: dict[str, Any]) -> list[Path]:
    """Packages listed by hatch (``packages = ["src/x"]``), setuptools (``packages = ["x"]`` with
    ``package-dir``) or poetry (``packages = [{include = "x", from = "src"}]``): top-level ones only."""
    tool = doc.get("tool", {}) if isinstance(doc.get("tool"), dict) else {}
    candidates: list[Path] = []
    hatch = tool.get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {}).get("packages")
    if isinstance(hatch, list):
        candidates += [rootdir / p for p in hatch if isinstance(p, str)]
    setuptools = tool.get("setuptools", {})
    packages = setuptools.get("packages") if isinstance(setuptools, dict) else None
    if isinstance(packages, list):
        package_dir = setuptools.get("package-dir", {})
        base = package_dir.get("", "") if isinstance(package_dir, dict) else ""
        candidates += [rootdir / base / p for p in packages if isinstance(p, str) and "." not in p]
    poetry = tool.get("poetry", {}).get("packages")
    if isinstance(poetry, list):
        for entry in poetry:
            if isinstance(entry, dict) and isinstance(entry.get("include"), str) and "*" not in entry["include"]:
                candidates.append(rootdir / str(entry.get("from", "")) / entry["include"])
    return [p for p in dict.fromkeys(candidates) if p.is_dir() or (p.suffix == ".py" and p.is_file())]


def _is_module(path: Path) -> bool:
    return path.is_file() and path.suffix == ".py" and path.name not in _NOT_SOURCE_MODULES


def _is_package(path: Path, namespace_ok: bool) -> bool:
    """A directory of Python code; without ``__init__.py`` only where namespace packages are expected (src/)."""
    if not path.is_dir() or path.name.startswith((".", "_")) or path.name in _NOT_SOURCE_DIRS:
        return False
    if path.name.endswith((".egg-info", ".dist-info")) or path.name.startswith("test"):
        return False
    if (path / "__init__.py").is_file():
        return True
    return namespace_ok and any(path.rglob("*.py"))


def describe_selection(cov: coverage.Coverage) -> str:
    """``source a, b; include x/*``: the options that select code, as coverage.py holds them."""
    parts = []
    for key in SELECTING_OPTIONS:
        values = [str(v) for v in (cov.get_option(key) or [])]  # type: ignore[union-attr]
        if values:
            parts.append(f"{key.split(':')[1]} {', '.join(values)}")
    return "; ".join(parts) or "everything executed"


def config_origin(cov: coverage.Coverage, rootdir: Path) -> str:
    """Where coverage.py read the selection: ``from pyproject.toml [tool.coverage.run]``, ``.coveragerc [run]``."""
    path = getattr(cov.config, "config_file", None)
    if not path:
        return "from coverage.py's configuration"
    name = Path(path)
    try:
        shown = name.resolve().relative_to(rootdir.resolve()).as_posix()
    except ValueError:
        shown = str(name)
    section = {"pyproject.toml": "[tool.coverage.run]", "setup.cfg": "[coverage:run]", "tox.ini": "[coverage:run]"}
    return f"from {shown} {section.get(name.name, '[run]')}"

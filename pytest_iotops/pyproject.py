"""Finding and reading a project's pyproject.toml: all a run without ``--iotops`` needs of the configuration
(whether ``[tool.iotops] enabled`` is set), kept apart from the settings schema so such a run imports little."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["find_pyproject", "read_table", "read_toml"]


def find_pyproject(rootpath: Path, inipath: Path | None) -> Path | None:
    """The pyproject.toml pytest chose as its config file, else the one at the rootdir."""
    if inipath is not None and inipath.name == "pyproject.toml":
        return inipath
    candidate = rootpath / "pyproject.toml"
    return candidate if candidate.is_file() else None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def read_table(path: Path) -> dict[str, Any]:
    """``[tool.iotops]`` of a pyproject.toml, ``{}`` when absent."""
    doc = read_toml(path)
    table = doc.get("tool", {}).get("iotops", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.iotops] must be a table")
    return table

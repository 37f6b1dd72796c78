"""What every analysis import shares: its result (signal tables and scoring keys), the importer record a
format registers, and the hardened readers of YAML and JSON files (errors name the file)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..values import FrozenValue, Value, record

__all__ = ["Imported", "Importer", "listing", "load_json", "load_yaml", "mapping"]


@record
class Imported(Value):
    """Signal tables, and monitoring keys (``scoring``, ``pass_score``, ``marginal_score``, ``groups``)."""

    metrics: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


@record(frozen=True)
class Importer(FrozenValue):
    """``extra``: the import table's own keys beyond format, path and args (file paths, relative to the
    project), each with what it is."""

    load: Callable[[Path, Mapping[str, str], Mapping[str, Path]], Imported]
    extra: Mapping[str, str] = field(default_factory=dict)


def load_yaml(path: Path, what: str) -> list[Any]:
    """Every document of a YAML file (safe loader; PyYAML imported only here)."""
    import yaml

    try:
        return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: the {what} is not YAML: {exc}") from None


def load_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: the {what} is not JSON: {exc}") from None


def mapping(value: Any, at: str, absent_ok: bool = True) -> dict[str, Any]:
    """``value`` as a mapping (absent: empty when ``absent_ok``); anything else is an error naming ``at``."""
    if value is None and absent_ok:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{at}: expected a mapping, got {type(value).__name__} {value!r:.60}")
    return value


def listing(value: Any, at: str) -> list[Any]:
    """``value`` as a list (absent: empty); anything else is an error naming ``at``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{at}: expected a list, got {type(value).__name__} {value!r:.60}")
    return value

"""Configuration tables a plugin owns: ``[tool.iotops.<name>]`` is read by the plugin's own parser (its schema,
its error messages), instead of being refused as an unknown key; gates then find the parsed value in
``settings.plugin_tables[name]``. Declared with the ``iotops_config_tables`` hook by installed packages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .values import FrozenValue, record

__all__ = ["ConfigTable"]


@record(frozen=True)
class ConfigTable(FrozenValue):
    """A ``[tool.iotops.<name>]`` table a plugin owns: its name and the parser that validates it."""

    #: the key under ``[tool.iotops]`` (a table name the built-in configuration does not use)
    name: str
    #: (the raw table, where it is: "pyproject.toml: [tool.iotops.<name>]") -> the value gates read; raises
    #: ``ConfigError`` naming the key at fault, which pytest turns into a usage error (exit 4)
    parse: Callable[[Any, str], Any]

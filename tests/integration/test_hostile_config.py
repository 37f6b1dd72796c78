"""Every configuration key with values of every wrong type: refused with the key's name, never coerced.

A value that is accepted must come through unchanged (``enabled = "yes"`` once meant "off"); everything else is
a configuration error naming the key — exit 4 through ``iotops gate`` and pytest alike.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import make_project, run_iotops

from pytest_iotops.config import OPTIONS, load_settings
from pytest_iotops.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WRONG = ['"text"', "1", "1.5", "true", "[1]", '["a", 2]', "{ a = 1 }", "-5", "101", '""', "[]", "nan", "1e400"]


def _toml(key: str, value: str) -> str:
    table, _, leaf = key.rpartition(".")
    return f"[tool.iotops{'.' + table if table else ''}]\n{leaf} = {value}\n"


def _effective(settings: Any, key: str) -> Any:
    value = settings
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _same(given: Any, effective: Any) -> bool:
    if isinstance(given, list):
        return isinstance(effective, (list, tuple)) and list(effective) == given
    if isinstance(given, float) and math.isnan(given):
        return False
    return bool(given == effective and type(given) is type(effective)) or (
        isinstance(given, int) and not isinstance(given, bool) and isinstance(effective, float) and given == effective
    )


def _load(path: Path) -> tuple[Any, str | None]:
    """The settings, or the configuration error's message."""
    try:
        return load_settings(path, environ={}), None
    except ConfigError as exc:
        return None, str(exc)


@pytest.mark.parametrize("option", OPTIONS, ids=[o.key for o in OPTIONS])
def test_every_key_refuses_wrong_types(tmp_path: Path, option: Any) -> None:
    refused = 0
    for value in WRONG:
        text = _toml(option.key, value)
        path = tmp_path / "pyproject.toml"
        path.write_text(text, encoding="utf-8")
        given = tomllib.loads(text)["tool"]["iotops"]
        for part in option.key.split("."):
            given = given[part]
        settings, error = _load(path)
        if error is not None:
            assert option.key.rpartition(".")[2] in error, f"{option.key} = {value}: {error}"
            refused += 1
            continue
        assert _same(given, _effective(settings, option.key)), f"{option.key} = {value} was coerced"
    assert refused >= len(WRONG) - 4, f"{option.key} accepted too many of {WRONG}"


@pytest.mark.parametrize(("key", "value"), [("enabled", '"yes"'), ("coverage.fail_under", '"80"'), ("phases", "3")])
def test_wrong_types_exit_4_through_both_front_doors(pytester: pytest.Pytester, key: str, value: str) -> None:
    make_project(pytester, _toml(key, value) + '\n[[tool.iotops.evidence]]\nkind = "lcov"\npath = "x.info"\n')
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov")
    assert result.ret == 4, result.stdout.str()
    assert key.rpartition(".")[2] in result.stderr.str()
    done = run_iotops(pytester.path, "gate")
    assert done.returncode == 4, done.stdout + done.stderr
    assert key.rpartition(".")[2] in done.stderr
    assert "Traceback" not in done.stderr

"""Hostile variants of the real analysis files (Argo, Flagger, Kayenta, Keptn): every key deleted, every value
replaced by a value of another type, the text cut short. An import either succeeds or is a ConfigError naming the
file — never another exception, never a silent pass of a metric it could not read."""

from __future__ import annotations

import copy
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DATA

from pytest_iotops.errors import ConfigError
from pytest_iotops.monitoring.config import parse_monitoring

ANALYSIS = DATA / "samples" / "analysis"
SLI = "indicators:\n" + "".join(
    f"  {name}: q\n"
    for name in (
        "response_time_p90",
        "problem_open",
        "response_time_p95",
        "throughput",
        "error_rate",
        "response_time_p50",
    )
)
SAMPLES = [
    (
        "argo",
        "argo-rollouts-appmesh-prometheus-analysistemplate.yaml",
        {"args": {"envoy_cluster_name": "{{ version }}"}},
    ),
    ("flagger", "flagger-canary-templateref.yaml", {"templates": "flagger-metrictemplates-istio.yaml"}),
    ("kayenta", "kayenta-canary-config-prometheus-muted.json", {"args": {"namespace": "shop"}}),
    ("keptn", "keptn-slo-1.0-key-sli.yaml", {"sli": "sli.yaml", "args": {"SERVICE": "carts"}}),
    ("keptn", "keptn-slo-0.1.0-informational-objectives.yaml", {"sli": "sli.yaml"}),
]
ODD_VALUES: list[Any] = [None, 0, -1, 1.5, "", "x", [], {}, [1], {"a": 1}, True, "{{ nope }}", "${nope}", "<=+x%"]


def _paths(doc: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*at, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*at, i))


def _set(doc: Any, at: tuple[Any, ...], value: Any, delete: bool) -> Any:
    doc = copy.deepcopy(doc)
    if not at:
        return value
    parent = doc
    for key in at[:-1]:
        parent = parent[key]
    if delete:
        del parent[at[-1]]
    else:
        parent[at[-1]] = value
    return doc


def _variants(doc: Any, rng: random.Random, count: int) -> Iterator[Any]:
    paths = list(_paths(doc))
    for _ in range(count):
        at = rng.choice(paths)
        yield _set(doc, at, rng.choice(ODD_VALUES), delete=bool(at) and rng.random() < 0.4)


def _load(name: str) -> list[Any]:
    text = (ANALYSIS / name).read_text()
    return [json.loads(text)] if name.endswith(".json") else list(yaml.safe_load_all(text))


def _write(path: Path, name: str, documents: list[Any]) -> None:
    if name.endswith(".json"):
        path.write_text(json.dumps(documents[0] if documents else documents))
    else:
        path.write_text(yaml.safe_dump_all(documents))


def _import(tmp_path: Path, fmt: str, name: str, extra: dict[str, Any]) -> None:
    (tmp_path / "pyproject.toml").touch()
    parse_monitoring({"imports": [{"format": fmt, "path": name, **extra}]}, str(tmp_path / "pyproject.toml"))


@pytest.mark.parametrize(("fmt", "name", "extra"), SAMPLES, ids=[s[1] for s in SAMPLES])
def test_hostile_variants_import_or_fail_with_a_named_error(
    tmp_path: Path, fmt: str, name: str, extra: dict[str, Any]
) -> None:
    (tmp_path / "sli.yaml").write_text(SLI)
    (tmp_path / "flagger-metrictemplates-istio.yaml").write_bytes(
        (ANALYSIS / "flagger-metrictemplates-istio.yaml").read_bytes()
    )
    documents = _load(name)
    _write(tmp_path / name, name, documents)
    _import(tmp_path, fmt, name, extra)  # the real file imports
    rng = random.Random(name)
    outcomes = {"imported": 0, "refused": 0}
    named: list[bool] = []
    for variant in _variants(documents, rng, int(os.environ.get("IOTOPS_FUZZ_VARIANTS", "150"))):
        _write(tmp_path / name, name, variant if isinstance(variant, list) else [variant])
        try:
            _import(tmp_path, fmt, name, extra)
        except ConfigError as exc:
            named.append(str(tmp_path) in str(exc) or "deploy.monitoring" in str(exc))
            outcomes["refused"] += 1
        else:
            outcomes["imported"] += 1
    text = (ANALYSIS / name).read_text()
    for cut in range(0, len(text), max(1, len(text) // 40)):
        (tmp_path / name).write_text(text[:cut])
        try:
            _import(tmp_path, fmt, name, extra)
        except ConfigError:
            outcomes["refused"] += 1
        else:
            outcomes["imported"] += 1
    assert outcomes["refused"] > 20, outcomes  # the corpus does break things
    assert all(named)  # and every refusal names the file or the key

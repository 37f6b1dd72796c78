"""Fuzzing every parser: any bytes give a result or our own EvidenceError — never another exception."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from conftest import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_iotops.errors import EvidenceError
from pytest_iotops.evidence.config import KINDS, EvidenceSource
from pytest_iotops.evidence.run import PARSERS

SAMPLES = DATA / "samples"
#: raise locally to hunt harder (IOTOPS_FUZZ_EXAMPLES=5000); CI keeps the suite fast
EXAMPLES = int(os.environ.get("IOTOPS_FUZZ_EXAMPLES", "150"))
SEEDS = {
    "cobertura": "coveragepy/coverage-branch.xml",
    "tarpaulin": "tarpaulin/cobertura-single-file.xml",
    "lcov": "coveragepy/coverage-branch.lcov",
    "coveragepy-json": "coveragepy/coverage-lines-only.json",
    "cargo-audit": "cargo-audit/vulnerable-single.json",
    "clippy": "clippy/messages-error-lints.json",
    "bandit": "bandit/report-severity-medium-plus.json",
    "pip-audit": "pip-audit/formatter-with-fixes-and-skips.json",
    "sarif": "sarif/semgrep-findings.sarif",
    "junit": "junit/testmo-junit-complete.xml",
}


def _mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, and real files cut, spliced and corrupted, which reach much deeper into a parser."""
    cut = st.integers(0, len(seed)).map(lambda n: seed[:n])
    spliced = st.tuples(st.integers(0, len(seed)), st.binary(max_size=40), st.integers(0, 200)).map(
        lambda t: seed[: t[0]] + t[1] + seed[t[0] + t[2] :]
    )
    return st.one_of(st.binary(max_size=400), cut, spliced)


def _keys(value: object, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            _keys(v, out)
    elif isinstance(value, list):
        for v in value[:20]:
            _keys(v, out)
    return out


def _json_shaped(seed: bytes) -> st.SearchStrategy[bytes]:
    """JSON documents built from the real format's own keys: wrong types in every place a parser looks."""
    keys = sorted(_keys(json.loads(seed.decode("utf-8-sig")), set()))
    leaves = st.none() | st.booleans() | st.integers(-5, 10**12) | st.floats(allow_nan=False) | st.text(max_size=12)
    tree = st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(keys), children, max_size=6),
        max_leaves=30,
    )
    return st.dictionaries(st.sampled_from(keys), tree, max_size=8).map(lambda d: json.dumps(d).encode())


def _check(kind: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "evidence"
        path.write_bytes(data)
        source = EvidenceSource(name="fuzz", kind=kind, path="evidence", phase="unit")
        try:
            PARSERS[kind](path, source, Path(tmp))
        except EvidenceError as exc:
            message = str(exc)
        else:
            return
        assert str(path) in message or "evidence" in message


@pytest.mark.parametrize("kind", KINDS)
def test_parser_never_crashes(kind: str) -> None:
    seed = (SAMPLES / SEEDS[kind]).read_bytes()

    strategy = _mutations(seed)
    if kind not in ("cobertura", "tarpaulin", "junit", "lcov", "clippy"):
        strategy = st.one_of(strategy, _json_shaped(seed))

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategy)
    def run(data: bytes) -> None:
        _check(kind, data)

    run()


@pytest.mark.parametrize("kind", ["cobertura", "tarpaulin", "junit"])
def test_a_tag_name_lxml_refuses_is_an_error_not_a_crash(kind: str) -> None:
    """Found by the fuzzer: ``<:\\x01`` parses (lxml recovers) to a tag ``:`` that lxml's own QName then
    refuses with a ValueError, which crashed the Cobertura/tarpaulin reader."""
    seed = (SAMPLES / SEEDS[kind]).read_bytes()
    _check(kind, seed[:1] + b":\x01" + seed[1:])

"""Every parser on real tool output (tests/data/samples, provenance in its SOURCES.md) and on hostile input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import DATA, TESTS

from pytest_iotops.errors import EvidenceError
from pytest_iotops.evidence.config import KINDS, EvidenceSource
from pytest_iotops.evidence.run import PARSERS, totals_of

SAMPLES = DATA / "samples"
ROOT = TESTS


def parse(kind: str, rel: str, **options: object):
    source = EvidenceSource(name="s", kind=kind, path=rel, **options)  # type: ignore[arg-type]
    return PARSERS[kind](SAMPLES / rel, source, ROOT)


@pytest.mark.parametrize(
    ("kind", "rel", "files", "covered", "statements", "branches"),
    [
        ("tarpaulin", "tarpaulin/cobertura-multi-file.xml", 11, 970, 1023, None),
        ("tarpaulin", "tarpaulin/cobertura-single-file.xml", 1, 1, 2, None),
        ("cobertura", "coveragepy/coverage-branch.xml", 5, 13, 21, (4, 10)),
        ("cobertura", "coveragepy/coverage-lines-only.xml", 5, 13, 21, None),
        ("cobertura", "cobertura-other/diffcover-dotnet-bom-doctype-methods.xml", 1, 9, 12, None),
        ("cobertura", "cobertura-other/diffcover-coveragepy-3.6-doctype-no-totals.xml", 1, 5, 10, None),
        ("lcov", "coveragepy/coverage-branch.lcov", 5, 13, 21, (4, 10)),
        ("lcov", "cobertura-other/diffcover-typescript-branches.lcov", 1, 11, 11, None),
        ("coveragepy-json", "coveragepy/coverage-branch.json", 5, 13, 21, (4, 10)),
        ("coveragepy-json", "coveragepy/coverage-zero-executed.json", 5, 0, 21, None),
    ],
)
def test_coverage_formats_agree_with_the_tools(kind, rel, files, covered, statements, branches) -> None:
    parsed = parse(kind, rel)
    totals = totals_of(parsed.files, parsed.branch_data)
    assert (totals.files, totals.covered_lines, totals.statements) == (files, covered, statements)
    if branches is not None:
        assert (totals.covered_branches, totals.branches) == branches


def test_coveragepy_formats_give_identical_per_file_numbers() -> None:
    """The same coverage.py run written as XML, LCOV and JSON: one set of numbers."""
    xml = {
        f.path: (f.covered_lines, f.statements, f.missing)
        for f in parse("cobertura", "coveragepy/coverage-branch.xml").files
    }
    lcov = {
        f.path: (f.covered_lines, f.statements, f.missing)
        for f in parse("lcov", "coveragepy/coverage-branch.lcov").files
    }
    js = {
        f.path: (f.covered_lines, f.statements, f.missing)
        for f in parse("coveragepy-json", "coveragepy/coverage-branch.json").files
    }
    assert xml == lcov == js
    assert "calc/ops.py" in xml  # <source>calc</source> + filename="ops.py", relative_files on


def test_tarpaulin_nan_and_empty_package() -> None:
    parsed = parse("tarpaulin", "tarpaulin/cobertura-nan-empty-windows.xml")
    assert parsed.files == []
    assert totals_of(parsed.files, False).statements == 0


def test_tarpaulin_paths_from_another_machine_map_to_the_evidence_root() -> None:
    parsed = parse("tarpaulin", "tarpaulin/cobertura-multi-file.xml", root="rust")
    assert {f.path for f in parsed.files} >= {"rust/src/adadelta.rs", "rust/src/adagrad.rs"}


def test_cargo_audit_severities_from_cvss_and_warnings() -> None:
    (vuln,) = parse("cargo-audit", "cargo-audit/vulnerable-single.json").findings
    assert (vuln.rule, vuln.severity, vuln.package, vuln.fix_versions) == ("RUSTSEC-2023-0071", "medium", "rsa", [])
    assert vuln.note == "CVSS 5.9"
    unsound = parse("cargo-audit", "cargo-audit/warnings-unsound-yanked-ignored.json").findings
    assert Counter(f.level for f in unsound) == {"unsound": 4, "yanked": 1}
    assert {f.severity for f in unsound if f.level == "unsound"} == {"medium"}
    bom = parse("cargo-audit", "cargo-audit/warnings-unmaintained-utf8-bom.json").findings
    assert [f.level for f in bom] == ["unmaintained"] * 4
    assert parse("cargo-audit", "cargo-audit/clean.json").findings == []


def test_cargo_audit_without_cvss_counts_as_high(tmp_path: Path) -> None:
    from pytest_iotops.evidence.cargo_audit import cvss_severity

    assert cvss_severity(None) == ("high", "no CVSS vector: counted as high")
    assert cvss_severity("CVSS:3.1/garbage")[0] == "high"
    assert cvss_severity("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")[0] == "critical"


def test_clippy_levels_dedup_and_summary_lines() -> None:
    findings = parse("clippy", "clippy/messages.json").findings
    assert len(findings) == 8
    assert Counter(f.tool for f in findings) == {"clippy": 7, "rustc": 1}
    assert parse("clippy", "clippy/messages-cached-rerun.json").findings == findings
    denied = parse("clippy", "clippy/messages-deny-warnings.json")
    assert {f.level for f in denied.findings} == {"error"}
    assert denied.notes
    assert "did not finish" in denied.notes[0]
    errors = parse("clippy", "clippy/messages-error-lints.json").findings
    assert {f.rule for f in errors if f.level == "error"} == {"clippy::approx_constant", "clippy::never_loop"}
    assert parse("clippy", "clippy/messages-clean.json").findings == []


def test_bandit_json_sarif_and_old_format() -> None:
    current = parse("bandit", "bandit/report.json").findings
    assert Counter(f.severity for f in current) == {"low": 5, "high": 3, "medium": 3}
    assert next(f for f in current if f.rule == "scan-error").path.endswith("pkg/broken.py")
    sarif = parse("bandit", "bandit/report.sarif").findings
    assert sorted(f.rule for f in sarif) == sorted(f.rule for f in current if f.rule != "scan-error")
    assert Counter(f.severity for f in sarif)["medium"] == 3  # MEDIUM has no level in bandit's SARIF
    old = parse("bandit", "bandit/report-1.7.0-old-format.json").findings
    assert len(old) == 11
    assert parse("bandit", "bandit/report-clean.json").findings == []


def test_pip_audit_vulnerabilities_and_offline_run() -> None:
    findings = parse("pip-audit", "pip-audit/report-vulnerable.json").findings
    assert len(findings) == 4
    assert {f.package for f in findings} == {"asteval", "pip", "urllib3"}
    assert any(f.fix_versions == [] for f in findings)
    with pytest.raises(EvidenceError, match="audited none of 2 dependencies"):
        parse("pip-audit", "pip-audit/report-skipped-offline.json")
    with pytest.raises(EvidenceError, match="CycloneDX SBOM"):
        parse("pip-audit", "pip-audit/report-skipped-offline.cdx.json")
    partial = parse("pip-audit", "pip-audit/formatter-with-fixes-and-skips.json")
    assert "1 dependencies not audited: my-local-app" in partial.notes[0]


@pytest.mark.parametrize(
    ("rel", "count", "severities", "suppressed"),
    [
        ("sarif/semgrep-findings.sarif", 4, {"high": 1, "medium": 2, "low": 1}, 0),
        ("sarif/semgrep-with-inline-suppression.sarif", 4, {"high": 1, "medium": 2, "low": 1}, 1),
        ("sarif/semgrep-clean.sarif", 0, {}, 0),
        ("sarif/trivy-alpine-310.sarif", 4, {"medium": 4}, 0),
        ("sarif/trivy-v0.9.2-legacy-template.sarif", 4, {"medium": 3, "low": 1}, 0),
        ("sarif/clippy-sarif-empty.sarif", 0, {}, 0),
        ("sarif/spec-examples/empty-runs.sarif", 0, {}, 0),
        ("sarif/spec-examples/one-run-with-results-no-level.sarif", 1, {"medium": 1}, 0),
        ("sarif/spec-examples/default-rule-configuration.sarif", 2, {"high": 1, "medium": 1}, 0),
        # only accepted suppressions (or ones without a status) hide a result; underReview and rejected do not
        ("sarif/spec-examples/suppressions.sarif", 9, {"medium": 9}, 5),
    ],
)
def test_sarif(rel, count, severities, suppressed) -> None:
    findings = parse("sarif", rel).findings
    assert len(findings) == count
    assert Counter(f.severity for f in findings) == severities
    assert sum(f.status == "suppressed" for f in findings) == suppressed


def test_sarif_uri_base_ids_and_failed_runs() -> None:
    paths = {f.path for f in parse("sarif", "sarif/spec-examples/original-uri-base-ids.sarif").findings}
    assert "io/kb.c" in paths
    for rel in ("catastrophic-configuration-error", "catastrophic-execution-error", "notifications"):
        with pytest.raises(EvidenceError, match="the tool reports its run failed"):
            parse("sarif", f"sarif/spec-examples/{rel}.sarif")


@pytest.mark.parametrize(
    ("rel", "outcomes"),
    [
        ("junit/pytest-xunit2.xml", {"passed": 9, "failed": 2, "skipped": 1, "error": 1, "xfailed": 1}),
        ("junit/gotestsum-report.xml", {"passed": 42, "failed": 13, "skipped": 5}),
        ("junit/nextest-fixture-project.xml", {"passed": 2, "failed": 1}),
        ("junit/jenkins-surefire-3.0.2-flaky.xml", {"passed": 1}),
        # a suite-level <error> (a nested suite with no test case) is kept as a failed entry
        ("junit/jenkins-nested-testsuites.xml", {"passed": 2, "error": 1}),
        ("junit/jenkins-odd-time-attrs.xml", {"passed": 8}),
        ("junit/jenkins-bare-testsuite-error.xml", {"error": 1}),
        ("junit/trivy-alpine-310.xml", {"failed": 4}),
        ("junit/pytest-no-tests.xml", {}),
    ],
)
def test_junit_recounts_testcases(rel, outcomes) -> None:
    tests = parse("junit", rel, phase="integration").tests
    assert Counter(t.outcome for t in tests) == outcomes
    assert all(t.duration >= 0 for t in tests)
    assert all(t.phase == "integration" and t.origin == "s" for t in tests)


def test_junit_odd_times(tmp_path: Path) -> None:
    durations = [t.duration for t in parse("junit", "junit/jenkins-odd-time-attrs.xml").tests]
    assert sum(durations) == pytest.approx(10 + 11 + 10 + 12 + 12 + 13 + 13 + 20)  # suite times are not used
    (repeated,) = parse("junit", "junit/jenkins-negative-duration.xml").tests  # one name twice: two attempts
    assert (repeated.duration, repeated.attempts) == (100.0, ["passed", "passed"])  # the negative time counts 0
    assert {t.duration for t in parse("junit", "junit/trivy-alpine-310.xml").tests} == {0.0}  # time=""
    odd = tmp_path / "odd.xml"
    huge = "9" * 400  # parses as an infinite float: a run report holds finite numbers only (JSON has no others)
    odd.write_text(
        '<testsuite><testcase name="a" time="2,503.1"/><testcase name="b" time="NaN"/>'
        f'<testcase name="c" time="{huge}"/><testcase name="d" time="-inf"/></testsuite>'
    )
    source = EvidenceSource(name="s", kind="junit", path="odd.xml")
    assert [t.duration for t in PARSERS["junit"](odd, source, tmp_path).tests] == [2503.1, 0.0, 0.0, 0.0]


# -- hostile and broken input: always an EvidenceError that names the file -----------------------------------
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE coverage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<coverage><packages><package><classes><class filename="&xxe;"><lines/></class></classes></package></packages></coverage>
"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuites><testsuite><testcase name="&lol3;"/></testsuite></testsuites>
"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE coverage SYSTEM "http://127.0.0.1:9/never-fetched.dtd">
<coverage><packages/></coverage>
"""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (XXE, "entity declarations are not allowed"),
        (LAUGHS, "entity declarations are not allowed"),
        (b"", "file is empty"),
        (b'{"files": {}}', "looks like JSON"),
        (b"<ROOT><packages><package>", "not well-formed XML"),
        (b"<html><body>502 Bad Gateway</body></html>", "root element <html>"),
        (b"not xml at all", "does not start with '<'"),
    ],
)
@pytest.mark.parametrize("kind", ["cobertura", "junit"])
def test_bad_xml_is_an_error_naming_the_file(tmp_path: Path, kind: str, content: bytes, message: str) -> None:
    path = tmp_path / "report.xml"
    path.write_bytes(content)
    content = content.replace(b"ROOT", b"coverage" if kind == "cobertura" else b"testsuites")
    path.write_bytes(content)
    source = EvidenceSource(name="s", kind=kind, path="report.xml")
    if message == "root element <html>":
        message = "root element <html>" if kind == "cobertura" else "not a JUnit XML report"
    with pytest.raises(EvidenceError, match=message) as info:
        PARSERS[kind](path, source, tmp_path)
    assert str(path) in str(info.value)


def test_external_dtd_is_never_fetched(tmp_path: Path) -> None:
    path = tmp_path / "c.xml"
    path.write_bytes(EXTERNAL_DTD)
    parsed = PARSERS["cobertura"](path, EvidenceSource(name="s", kind="cobertura", path="c.xml"), tmp_path)
    assert parsed.files == []


JSON_KINDS = ["coveragepy-json", "cargo-audit", "bandit", "pip-audit", "sarif"]


@pytest.mark.parametrize("kind", [*JSON_KINDS, "clippy", "lcov"])
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"<?xml version='1.0'?><coverage/>", "looks like XML"),
        (b'{"truncated": [1, 2', "not|expected an LCOV"),
        (b'{"unexpected": "schema"}', "not|expected an LCOV"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_bad_json_is_an_error_naming_the_file(tmp_path: Path, kind: str, content: bytes, message: str) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(content)
    with pytest.raises(EvidenceError, match=message) as info:
        PARSERS[kind](path, EvidenceSource(name="s", kind=kind, path="report.json"), tmp_path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("kind", sorted(set(KINDS)))
def test_missing_file_is_an_error(tmp_path: Path, kind: str) -> None:
    with pytest.raises(EvidenceError, match="file not found"):
        PARSERS[kind](tmp_path / "nope", EvidenceSource(name="s", kind=kind, path="nope"), tmp_path)


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"files": {}}' + " " * 100)
    with pytest.raises(EvidenceError, match="over the limit of 50"):
        PARSERS["coveragepy-json"](
            path, EvidenceSource(name="s", kind="coveragepy-json", path="big.json", max_bytes=50), tmp_path
        )

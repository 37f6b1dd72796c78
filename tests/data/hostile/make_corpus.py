"""Writes the hostile corpus: malformed, truncated, contradictory, empty, hostile and edge-case tool outputs.

Each case is built here from the format's own specification (SARIF 2.1.0, the JUnit XML conventions of
Surefire/pytest/Jenkins, the LCOV tracefile format of geninfo(1), Cobertura's DTD, coverage.py's JSON report,
pip-audit's and cargo-audit's JSON, cargo's JSON messages) and written to ``files/``; ``cases.json`` says what
each must end as:

- ``error:<reason>``: the source's gate ends ``error`` with that reason (saw-nothing, contradiction,
  truncated, unsafe, unreadable) — never a pass;
- ``ok`` plus exact figures: a valid edge case read exactly (``lines`` covered/coverable, ``findings`` per
  severity, ``tests`` per outcome).

Run ``python tests/data/hostile/make_corpus.py`` to rewrite the files (the test checks they are current).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
Case = dict[str, Any]
CASES: list[Case] = []


def case(name: str, kind: str, data: bytes | str, expect: str, **figures: Any) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    CASES.append(
        {"name": name, "kind": kind, "file": f"{kind}/{name}", "expect": expect, "figures": figures, "data": raw}
    )


def j(value: Any) -> str:
    return json.dumps(value)


# -- SARIF 2.1.0 -----------------------------------------------------------------------------------------------
def sarif(runs: Any, **extra: Any) -> str:
    return j({"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": runs, **extra})


def run(results: Any = None, rules: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"tool": {"driver": {"name": "scanner", "rules": rules or []}}, **extra}
    if results is not None:
        out["results"] = results
    return out


def result(level: str | None = "error", rule: str = "R1", uri: str = "src/a.py", **extra: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "ruleId": rule,
        "message": {"text": "problem"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 3}}}],
        **extra,
    }
    if level is not None:
        r["level"] = level
    return r


def rule_with_score(score: Any, rule: str = "R1") -> dict[str, Any]:
    return {"id": rule, "properties": {"security-severity": score}}


def sarif_cases() -> None:
    k = "sarif"
    case("runs-null.sarif", k, sarif(None), "error:unreadable")
    case("runs-empty.sarif", k, sarif([]), "error:saw-nothing")
    case("run-without-results.sarif", k, sarif([run()]), "error:saw-nothing")
    case("results-null.sarif", k, sarif([run(None) | {"results": None}]), "error:saw-nothing")
    case("two-runs-one-without-results.sarif", k, sarif([run([]), run()]), "error:saw-nothing")
    case("results-empty.sarif", k, sarif([run([])]), "ok", findings={})
    case("one-error.sarif", k, sarif([run([result()])]), "ok", findings={"high": 1})
    case("score-zero-string.sarif", k, sarif([run([result()], [rule_with_score("0.0")])]), "ok", findings={"high": 1})
    case("score-nan.sarif", k, sarif([run([result()], [rule_with_score("NaN")])]), "ok", findings={"high": 1})
    case("score-negative.sarif", k, sarif([run([result()], [rule_with_score(-3)])]), "ok", findings={"high": 1})
    case("score-eleven.sarif", k, sarif([run([result()], [rule_with_score(11)])]), "ok", findings={"high": 1})
    case("score-text.sarif", k, sarif([run([result()], [rule_with_score("HIGH")])]), "ok", findings={"high": 1})
    case("score-9.8.sarif", k, sarif([run([result("note")], [rule_with_score("9.8")])]), "ok", findings={"critical": 1})
    case("score-infinity.sarif", k, sarif([run([result()], [rule_with_score("inf")])]), "ok", findings={"high": 1})
    for status, count in (("underReview", {"high": 1}), ("rejected", {"high": 1}), ("accepted", {})):
        sup = [{"kind": "inSource", "status": status}]
        case(f"suppression-{status}.sarif", k, sarif([run([result(suppressions=sup)])]), "ok", findings=count)
    case(
        "suppression-no-status.sarif", k, sarif([run([result(suppressions=[{"kind": "external"}])])]), "ok", findings={}
    )
    failed_inv = [{"executionSuccessful": False, "toolExecutionNotifications": [{"message": {"text": "crashed"}}]}]
    case("invocation-failed.sarif", k, sarif([run([], invocations=failed_inv)]), "error:unreadable")
    case("version-1.sarif", k, j({"version": "1.0.0", "runs": [run([])]}), "error:unreadable")
    case("runs-object.sarif", k, sarif({"0": run([])}), "error:unreadable")
    case("results-object.sarif", k, sarif([run(None) | {"results": {"a": 1}}]), "error:unreadable")
    case("result-string.sarif", k, sarif([run(["oops"])]), "error:unreadable")
    case("truncated.sarif", k, sarif([run([result()])])[:-7], "error:truncated")
    case("no-level-warning-default.sarif", k, sarif([run([result(None)])]), "ok", findings={"medium": 1})
    rules = [{"id": "R1", "defaultConfiguration": {"level": "error"}}]
    case("default-config-level.sarif", k, sarif([run([result(None)], rules)]), "ok", findings={"high": 1})
    case("kind-pass.sarif", k, sarif([run([result(kind="pass")])]), "ok", findings={})
    case("bom.sarif", k, b"\xef\xbb\xbf" + sarif([run([result()])]).encode(), "ok", findings={"high": 1})
    case("utf16.sarif", k, sarif([run([result()])]).encode("utf-16"), "error:unreadable")
    case("gzip.sarif", k, gzip.compress(sarif([run([result()])]).encode(), mtime=0), "error:unreadable")
    case("nul-bytes.sarif", k, sarif([run([result()])]).encode()[:20] + b"\0\0\0", "error:unreadable")
    case("giant-int.sarif", k, '{"version": "2.1.0", "runs": [{"x": ' + "9" * 5000 + "}]}", "error:unreadable")
    case(
        "deep-nesting.sarif",
        k,
        '{"version": "2.1.0", "runs": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "error:unreadable",
    )
    dup = '{"version": "2.1.0", "runs": [' + j(run([result()])) + '], "runs": []}'
    case("duplicate-runs-key.sarif", k, dup, "error:contradiction")
    case("xml-not-json.sarif", k, "<sarif/>", "error:unreadable")
    case("empty-object.sarif", k, "{}", "error:unreadable")
    case("only-whitespace.sarif", k, "   \n\t  ", "error:unreadable")
    case(
        "file-uri-single-slash.sarif",
        k,
        sarif([run([result(uri="file:/opt/app/a.py")])]),
        "ok",
        findings={"high": 1},
        paths=["/opt/app/a.py"],
    )
    base = {"SRC": {"uri": "file:///"}}
    based = result(uri="work/app/a.py")
    based["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] = "SRC"
    uri_case = sarif([run([based], originalUriBaseIds=base)])
    case("file-uri-base.sarif", k, uri_case, "ok", findings={"high": 1}, paths=["/work/app/a.py"])
    case("windows-path.sarif", k, sarif([run([result(uri="C:\\\\build\\\\src\\\\a.py")])]), "ok", findings={"high": 1})


# -- JUnit -----------------------------------------------------------------------------------------------------
def junit_cases() -> None:
    k = "junit"
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    case("no-testcases.xml", k, head + '<testsuite name="s" tests="0"/>', "error:saw-nothing")
    case("empty-testsuites.xml", k, head + "<testsuites/>", "error:saw-nothing")
    case(
        "only-suite-error.xml",
        k,
        head + '<testsuite name="s" errors="1"><error message="boom"/></testsuite>',
        "ok",
        tests={"error": 1},
    )
    case(
        "header-failures-cases-pass.xml",
        k,
        head + '<testsuite name="s" tests="2" failures="2"><testcase name="a"/><testcase name="b"/></testsuite>',
        "error:contradiction",
    )
    case(
        "header-errors-cases-pass.xml",
        k,
        head + '<testsuite name="s" errors="1"><testcase name="a"/></testsuite>',
        "error:contradiction",
    )
    case(
        "header-fewer-failures.xml",
        k,
        head
        + '<testsuite name="s" tests="0" failures="0"><testcase name="a"><failure message="x"/></testcase></testsuite>',
        "ok",
        tests={"failed": 1},
    )
    repeated = "".join(
        f'<testcase classname="c" name="stress">{x}</testcase>' for x in ('<failure message="1st"/>', "", "")
    )
    case(
        "repeated-name-first-failed.xml",
        k,
        head + f'<testsuite name="s" failures="1">{repeated}</testsuite>',
        "ok",
        tests={"failed": 1},
    )
    repeated = "".join('<testcase classname="c" name="t"/>' for _ in range(3))
    case(
        "repeated-name-all-pass.xml", k, head + f'<testsuite name="s">{repeated}</testsuite>', "ok", tests={"passed": 1}
    )
    flaky = '<testcase name="t"><flakyFailure message="once"/></testcase>'
    case(
        "surefire-flaky.xml",
        k,
        head + f'<testsuite name="s" failures="1">{flaky}</testsuite>',
        "ok",
        tests={"passed": 1},
        flaky=1,
    )
    rerun = '<testcase name="t"><rerunFailure message="a"/><rerunFailure message="b"/></testcase>'
    case(
        "surefire-rerun-failed.xml",
        k,
        head + f'<testsuite name="s" failures="2">{rerun}</testsuite>',
        "ok",
        tests={"failed": 1},
    )
    case("truncated.xml", k, head + '<testsuite name="s"><testcase name="a"/><testcase na', "error:truncated")
    case("unclosed-root.xml", k, head + '<testsuite name="s"><testcase name="a"/>', "error:truncated")
    case("testcase-without-name.xml", k, head + '<testsuite name="s"><testcase/></testsuite>', "error:unreadable")
    case("wrong-root.xml", k, head + "<coverage/>", "error:unreadable")
    case("json-not-xml.xml", k, '{"testsuite": []}', "error:unreadable")
    xxe = (
        head
        + '<!DOCTYPE t [<!ENTITY e SYSTEM "file:///etc/passwd">]><testsuite name="s"><testcase name="&e;"/></testsuite>'
    )
    case("xxe.xml", k, xxe, "error:unsafe")
    laughs = (
        head
        + '<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><testsuite name="&b;"><testcase name="x"/></testsuite>'
    )
    case("billion-laughs.xml", k, laughs, "error:unsafe")
    comment_trick = (
        head + '<!-- <a --><!DOCTYPE t [<!ENTITY f "<failure/>">]><testsuite name="s"><testcase name="x"/></testsuite>'
    )
    case("entity-after-comment.xml", k, comment_trick, "error:unsafe")
    case(
        "pytest-skip-xfail.xml",
        k,
        head
        + '<testsuite name="s"><testcase name="a"><skipped message="x"/></testcase><testcase name="b"><skipped type="pytest.xfail" message="y"/></testcase></testsuite>',
        "ok",
        tests={"skipped": 1, "xfailed": 1},
    )
    case(
        "bom.xml",
        k,
        b"\xef\xbb\xbf" + (head + '<testsuite name="s"><testcase name="a"/></testsuite>').encode(),
        "ok",
        tests={"passed": 1},
    )
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?><testsuite name="s"><testcase name="a"/></testsuite>').encode(
        "utf-16"
    )
    case("utf16.xml", k, utf16, "ok", tests={"passed": 1})
    case(
        "nul-in-name.xml",
        k,
        head.encode() + b'<testsuite name="s"><testcase name="a\x00b"/></testsuite>',
        "error:unreadable",
    )
    case(
        "gzip.xml",
        k,
        gzip.compress((head + '<testsuite name="s"><testcase name="a"/></testsuite>').encode(), mtime=0),
        "error:unreadable",
    )
    case(
        "nested-suites.xml",
        k,
        head
        + '<testsuites><testsuite name="o"><testsuite name="i" failures="1"><testcase name="a"><failure/></testcase></testsuite></testsuite></testsuites>',
        "ok",
        tests={"failed": 1},
    )
    case(
        "crlf.xml",
        k,
        (head + '<testsuite name="s">\r\n<testcase name="a"/>\r\n</testsuite>\r\n'),
        "ok",
        tests={"passed": 1},
    )
    case(
        "huge-time.xml",
        k,
        head + f'<testsuite name="s"><testcase name="a" time="{"9" * 400}"/></testsuite>',
        "ok",
        tests={"passed": 1},
    )
    case(
        "negative-counts.xml",
        k,
        head + '<testsuite name="s" failures="-3"><testcase name="a"/></testsuite>',
        "ok",
        tests={"passed": 1},
    )
    case(
        "error-and-failure.xml",
        k,
        head
        + '<testsuite name="s" failures="1" errors="1"><testcase name="a"><failure/><error/></testcase></testsuite>',
        "error:contradiction",
    )


# -- LCOV ------------------------------------------------------------------------------------------------------
GOOD_LCOV = "TN:\nSF:src/lib.rs\nDA:1,1\nDA:2,0\nDA:3,5\nLF:3\nLH:2\nend_of_record\n"


def lcov_cases() -> None:
    k = "lcov"
    case("good.info", k, GOOD_LCOV, "ok", lines=[2, 3])
    case("no-final-end-of-record.info", k, GOOD_LCOV.replace("end_of_record\n", ""), "error:truncated")
    case("cut-mid-line.info", k, GOOD_LCOV[: GOOD_LCOV.index("DA:3") + 3], "error:truncated")
    two = GOOD_LCOV + "SF:src/main.rs\nDA:1,1\n" + "DA:{},0\n" * 0 + "DA:2,0\nend_of_record\n"
    case("two-records.info", k, two, "ok", lines=[3, 5])
    case("cut-mid-sf-path.info", k, GOOD_LCOV + "SF:src/ma", "error:truncated")
    case("cut-after-sf.info", k, GOOD_LCOV + "SF:src/main.rs\nDA:1,1\nDA:2", "error:truncated")
    case("negative-hits.info", k, GOOD_LCOV.replace("DA:2,0", "DA:2,-1"), "error:unreadable")
    case("negative-line.info", k, GOOD_LCOV.replace("DA:2,0", "DA:-2,0"), "error:unreadable")
    case("da-missing-hits.info", k, GOOD_LCOV.replace("DA:2,0", "DA:2"), "error:unreadable")
    case("da-text-hits.info", k, GOOD_LCOV.replace("DA:2,0", "DA:2,many"), "error:unreadable")
    case("da-too-many-fields.info", k, GOOD_LCOV.replace("DA:2,0", "DA:2,0,abc,def"), "error:unreadable")
    case("da-with-checksum.info", k, GOOD_LCOV.replace("DA:2,0", "DA:2,0,abcdef"), "ok", lines=[2, 3])
    case("float-hits.info", k, GOOD_LCOV.replace("DA:3,5", "DA:3,5.0"), "ok", lines=[2, 3])
    case("huge-hits.info", k, GOOD_LCOV.replace("DA:3,5", "DA:3," + "9" * 50), "ok", lines=[2, 3])
    case("huge-line.info", k, GOOD_LCOV.replace("DA:3,5", "DA:99999999999,1"), "error:unreadable")
    case("no-records.info", k, "TN:\n", "error:saw-nothing")
    case("only-summary.info", k, "LF:10\nLH:10\n", "error:saw-nothing")
    case("record-without-lines.info", k, "SF:src/a.rs\nend_of_record\n", "error:saw-nothing")
    case("da-before-sf.info", k, "DA:1,1\nSF:a\nend_of_record\n", "error:unreadable")
    case("unknown-key.info", k, GOOD_LCOV.replace("TN:", "XX:1"), "error:unreadable")
    case("summary-lies.info", k, GOOD_LCOV.replace("LH:2", "LH:3"), "ok", lines=[2, 3])
    case("crlf.info", k, GOOD_LCOV.replace("\n", "\r\n"), "ok", lines=[2, 3])
    case("mixed-endings.info", k, "TN:\r\nSF:src/lib.rs\nDA:1,1\r\nDA:2,0\nend_of_record\r\n", "ok", lines=[1, 2])
    case("bom.info", k, b"\xef\xbb\xbf" + GOOD_LCOV.encode(), "ok", lines=[2, 3])
    case("latin1.info", k, GOOD_LCOV.replace("src/lib.rs", "src/l\xe9b.rs").encode("latin-1"), "error:unreadable")
    case("nul-byte.info", k, GOOD_LCOV.replace("DA:2,0", "DA:2,\x000"), "error:unreadable")
    case("gzip.info", k, gzip.compress(GOOD_LCOV.encode(), mtime=0), "error:unreadable")
    case("xml-not-lcov.info", k, "<coverage/>", "error:unreadable")
    case("dotdot-path.info", k, GOOD_LCOV.replace("src/lib.rs", "../../etc/lib.rs"), "ok", lines=[2, 3])
    case("other-machine-path.info", k, GOOD_LCOV.replace("src/lib.rs", "/home/ci/build/src/lib.rs"), "ok", lines=[2, 3])
    case("windows-path.info", k, GOOD_LCOV.replace("src/lib.rs", "C:\\build\\src\\lib.rs"), "ok", lines=[2, 3])
    brda = GOOD_LCOV.replace("LF:3", "BRDA:1,0,0,1\nBRDA:1,0,1,-\nLF:3")
    case("branches.info", k, brda, "ok", lines=[2, 3], branches=[1, 2])
    case("brda-negative.info", k, GOOD_LCOV.replace("LF:3", "BRDA:1,0,0,-4\nLF:3"), "error:unreadable")
    case("brda-short.info", k, GOOD_LCOV.replace("LF:3", "BRDA:1,0\nLF:3"), "error:unreadable")
    case("sf-twice-unterminated.info", k, "SF:a.rs\nDA:1,1\nSF:b.rs\nDA:1,0\nend_of_record\n", "error:truncated")
    case("duplicate-record.info", k, GOOD_LCOV + GOOD_LCOV.replace("DA:2,0", "DA:2,1"), "ok", lines=[3, 3])


# -- Cobertura -------------------------------------------------------------------------------------------------
def cob(lines: str, extra: str = "", head: str = '<?xml version="1.0" ?>\n') -> str:
    return (
        f'{head}<coverage version="7.6" line-rate="0.5">{extra}<sources><source>/build</source></sources><packages>'
        f'<package name="p"><classes><class name="a" filename="src/a.py"><lines>{lines}</lines></class></classes>'
        "</package></packages></coverage>"
    )


TWO = '<line number="1" hits="1"/><line number="2" hits="0"/>'


def cobertura_cases() -> None:
    k = "cobertura"
    case("good.xml", k, cob(TWO), "ok", lines=[1, 2])
    case("zero-lines.xml", k, cob(""), "error:saw-nothing")
    case("no-packages.xml", k, '<?xml version="1.0"?><coverage line-rate="1.0"/>', "error:saw-nothing")
    case("truncated.xml", k, cob(TWO)[:-40], "error:truncated")
    case("negative-hits.xml", k, cob('<line number="1" hits="-1"/>'), "error:unreadable")
    case("text-hits.xml", k, cob('<line number="1" hits="yes"/>'), "error:unreadable")
    case("no-number.xml", k, cob('<line hits="1"/>'), "error:unreadable")
    case("huge-line-number.xml", k, cob('<line number="999999999999" hits="1"/>'), "error:unreadable")
    case("no-filename.xml", k, cob(TWO).replace(' filename="src/a.py"', ""), "error:unreadable")
    case(
        "xxe.xml",
        k,
        cob(TWO, head='<?xml version="1.0"?>\n<!DOCTYPE coverage [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'),
        "error:unsafe",
    )
    internal = '<?xml version="1.0"?>\n<!-- <a --><!DOCTYPE coverage [<!ENTITY one "1">]>\n'
    case(
        "internal-entity-after-comment.xml",
        k,
        cob('<line number="1" hits="1"/><line number="2" hits="&one;"/>', head=internal),
        "error:unsafe",
    )
    utf7 = cob(
        '<line number="1" hits="1"/><line number="2" hits="&one;"/>',
        head='<?xml version="1.0" encoding="UTF-7"?>\n+ADw-!DOCTYPE coverage +AFs-+ADw-!ENTITY one +ACI-1+ACI-+AD4-+AF0-+AD4-\n',
    )
    case("utf7-entity.xml", k, utf7, "error:unsafe")
    case(
        "external-dtd-line.xml",
        k,
        cob(
            TWO,
            head='<?xml version="1.0"?>\n<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">\n',
        ),
        "ok",
        lines=[1, 2],
    )
    case("line-rate-lies.xml", k, cob(TWO).replace('line-rate="0.5"', 'line-rate="1.0"'), "ok", lines=[1, 2])
    case("bom.xml", k, b"\xef\xbb\xbf" + cob(TWO).encode(), "ok", lines=[1, 2])
    case("json-not-xml.xml", k, '{"coverage": 1}', "error:unreadable")
    case("wrong-root.xml", k, '<?xml version="1.0"?><testsuite/>', "error:unreadable")
    case("gzip.xml", k, gzip.compress(cob(TWO).encode(), mtime=0), "error:unreadable")
    case("float-hits.xml", k, cob('<line number="1" hits="2.0"/><line number="2" hits="0"/>'), "ok", lines=[1, 2])
    case("windows-filename.xml", k, cob(TWO).replace("src/a.py", "C:\\build\\src\\a.py"), "ok", lines=[1, 2])
    case("dotdot-filename.xml", k, cob(TWO).replace("src/a.py", "../../outside/a.py"), "ok", lines=[1, 2])
    case("nul-byte.xml", k, cob(TWO).encode().replace(b"src/a.py", b"src/a\x00.py"), "error:unreadable")


# -- coverage.py JSON ------------------------------------------------------------------------------------------
def covjson(files: Any, **extra: Any) -> str:
    return j({"meta": {"version": "7.6.1"}, "files": files, "totals": {}, **extra})


GOOD_FILE = {"executed_lines": [1, 2, 3], "missing_lines": [4], "summary": {"num_branches": 0, "covered_branches": 0}}


def coveragepy_cases() -> None:
    k = "coveragepy-json"
    case("good.json", k, covjson({"src/a.py": GOOD_FILE}), "ok", lines=[3, 4])
    case("no-files.json", k, covjson({}), "error:saw-nothing")
    case(
        "files-without-lines.json",
        k,
        covjson({"src/a.py": {"executed_lines": [], "missing_lines": []}}),
        "error:saw-nothing",
    )
    case("files-list.json", k, covjson([GOOD_FILE]), "error:unreadable")
    case(
        "lines-not-ints.json", k, covjson({"a.py": {"executed_lines": ["1"], "missing_lines": []}}), "error:unreadable"
    )
    case("lines-bools.json", k, covjson({"a.py": {"executed_lines": [True], "missing_lines": []}}), "error:unreadable")
    case("negative-line.json", k, covjson({"a.py": {"executed_lines": [-1], "missing_lines": []}}), "error:unreadable")
    case("huge-line.json", k, covjson({"a.py": {"executed_lines": [10**12], "missing_lines": []}}), "error:unreadable")
    case("truncated.json", k, covjson({"src/a.py": GOOD_FILE})[:-12], "error:truncated")
    case(
        "duplicate-file-key.json",
        k,
        '{"files": {"a.py": ' + j(GOOD_FILE) + ', "a.py": {"executed_lines": [1], "missing_lines": []}}}',
        "error:contradiction",
    )
    case(
        "giant-int.json",
        k,
        '{"files": {"a.py": {"executed_lines": [' + "1" * 5000 + '], "missing_lines": []}}}',
        "error:unreadable",
    )
    case(
        "branch-counts-text.json",
        k,
        covjson({"a.py": GOOD_FILE | {"summary": {"num_branches": "2"}}}),
        "error:unreadable",
    )
    case("bom.json", k, b"\xef\xbb\xbf" + covjson({"src/a.py": GOOD_FILE}).encode(), "ok", lines=[3, 4])
    case("nan.json", k, '{"files": {"a.py": {"executed_lines": [NaN], "missing_lines": []}}}', "error:unreadable")
    case("xml.json", k, "<coverage/>", "error:unreadable")
    case("array-root.json", k, "[]", "error:unreadable")
    case("null-root.json", k, "null", "error:unreadable")


# -- pip-audit ---------------------------------------------------------------------------------------------------
def pip_audit_cases() -> None:
    k = "pip-audit"
    dep = {"name": "requests", "version": "2.19.0", "vulns": []}
    vuln = {"id": "PYSEC-1", "fix_versions": ["2.20.0"], "aliases": ["CVE-1"], "description": "bad"}
    case("clean.json", k, j({"dependencies": [dep], "fixes": []}), "ok", findings={})
    case("dependencies-empty.json", k, j({"dependencies": [], "fixes": []}), "error:saw-nothing")
    case("all-skipped.json", k, j({"dependencies": [{"name": "x", "skip_reason": "offline"}]}), "error:saw-nothing")
    case("one-vuln.json", k, j({"dependencies": [dep | {"vulns": [vuln]}]}), "ok", findings={"high": 1})
    case("vuln-without-id.json", k, j({"dependencies": [dep | {"vulns": [{"fix_versions": []}]}]}), "error:unreadable")
    case("dependencies-null.json", k, j({"dependencies": None}), "error:unreadable")
    case("no-dependencies-key.json", k, j({"fixes": []}), "error:unreadable")
    case("cyclonedx.json", k, j({"bomFormat": "CycloneDX", "components": []}), "error:unreadable")
    case("dep-without-name.json", k, j({"dependencies": [{"version": "1"}]}), "error:unreadable")
    case("truncated.json", k, j({"dependencies": [dep]})[:-3], "error:truncated")
    case(
        "some-skipped.json",
        k,
        j({"dependencies": [dep, {"name": "y", "skip_reason": "not on PyPI"}]}),
        "ok",
        findings={},
    )


# -- cargo-audit -------------------------------------------------------------------------------------------------
def cargo_audit(vulns: list[Any], count: Any = None, deps: Any = 12, **extra: Any) -> str:
    body: dict[str, Any] = {"found": bool(vulns), "list": vulns}
    if count is not None:
        body["count"] = count
    doc: dict[str, Any] = {"lockfile": {"dependency-count": deps}, "vulnerabilities": body, "warnings": {}, **extra}
    return j(doc)


ADVISORY = {
    "advisory": {"id": "RUSTSEC-2024-0001", "title": "t", "cvss": None},
    "package": {"name": "p", "version": "1"},
    "versions": {"patched": []},
}


def cargo_audit_cases() -> None:
    k = "cargo-audit"
    case("clean.json", k, cargo_audit([], 0), "ok", findings={})
    case("count-without-list.json", k, cargo_audit([], 3), "error:contradiction")
    case("list-without-count.json", k, cargo_audit([ADVISORY], 0), "error:contradiction")
    case(
        "found-false-with-list.json",
        k,
        j({"lockfile": {"dependency-count": 3}, "vulnerabilities": {"found": False, "count": 1, "list": [ADVISORY]}}),
        "error:contradiction",
    )
    case("one-vuln-no-cvss.json", k, cargo_audit([ADVISORY], 1), "ok", findings={"high": 1})
    cvss = ADVISORY | {"advisory": ADVISORY["advisory"] | {"cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}
    case("one-vuln-critical.json", k, cargo_audit([cvss], 1), "ok", findings={"critical": 1})
    bad = ADVISORY | {"advisory": ADVISORY["advisory"] | {"cvss": "CVSS:3.1/garbage"}}
    case("bad-cvss-counts-high.json", k, cargo_audit([bad], 1), "ok", findings={"high": 1})
    case("zero-dependencies.json", k, cargo_audit([], 0, deps=0), "error:saw-nothing")
    case("no-vulnerabilities.json", k, j({"lockfile": {"dependency-count": 3}}), "error:unreadable")
    case("advisory-without-id.json", k, cargo_audit([{"advisory": {"title": "x"}}], 1), "error:unreadable")
    case(
        "warnings-unmaintained.json",
        k,
        cargo_audit(
            [],
            0,
            warnings={
                "unmaintained": [
                    {"kind": "unmaintained", "package": {"name": "q", "version": "1"}, "advisory": {"id": "RUSTSEC-2"}}
                ]
            },
        ),
        "ok",
        findings={"low": 1},
    )
    case("warnings-number.json", k, cargo_audit([], 0, warnings=3), "error:unreadable")
    case("truncated.json", k, cargo_audit([ADVISORY], 1)[:-10], "error:truncated")


# -- clippy / cargo JSON messages --------------------------------------------------------------------------------
def msg(level: str, text: str, code: str | None = None, spans: bool = True) -> str:
    span = [{"file_name": "src/main.rs", "line_start": 3, "column_start": 5, "is_primary": True}] if spans else []
    message = {"level": level, "message": text, "code": {"code": code} if code else None, "spans": span}
    return j({"reason": "compiler-message", "package_id": "p 0.1.0", "message": message}) + "\n"


FINISHED_OK = j({"reason": "build-finished", "success": True}) + "\n"
FINISHED_FAIL = j({"reason": "build-finished", "success": False}) + "\n"


def clippy_cases() -> None:
    k = "clippy"
    case("clean.json", k, FINISHED_OK, "ok", findings={})
    case(
        "one-warning.json",
        k,
        msg("warning", "x", "clippy::needless_return") + FINISHED_OK,
        "ok",
        findings={"medium": 1},
    )
    case("build-failed-no-errors.json", k, FINISHED_FAIL, "error:contradiction")
    case("build-failed-warnings-only.json", k, msg("warning", "x", "clippy::a") + FINISHED_FAIL, "error:contradiction")
    case(
        "build-failed-with-error.json",
        k,
        msg("error", "mismatched types", "E0308") + FINISHED_FAIL,
        "ok",
        findings={"high": 1},
    )
    ice = msg("error: internal compiler error", "unexpected panic", None, spans=False)
    case("ice.json", k, ice + FINISHED_FAIL, "ok", findings={"critical": 1})
    summary = msg("warning", "2 warnings emitted", None, spans=False) + msg(
        "error", "aborting due to 1 previous error", None, spans=False
    )
    case("summaries-only.json", k, summary + FINISHED_OK, "ok", findings={})
    case(
        "linker-error.json",
        k,
        msg("error", "linking with `cc` failed: exit status: 1", None, spans=False) + FINISHED_FAIL,
        "ok",
        findings={"high": 1},
    )
    case(
        "failure-note.json",
        k,
        msg("failure-note", "For more information about this error, try `rustc --explain E0308`.", None, spans=False)
        + FINISHED_OK,
        "ok",
        findings={},
    )
    case("empty-lines-only.json", k, "\n\n\n", "error:unreadable")
    case("not-cargo.json", k, j({"hello": 1}) + "\n", "error:unreadable")
    case("truncated-line.json", k, msg("warning", "x", "clippy::a")[:-20], "error:unreadable")
    dup = msg("warning", "x", "clippy::a")
    case("duplicates-dropped.json", k, dup + dup + FINISHED_OK, "ok", findings={"medium": 1})
    case("message-not-object.json", k, j({"reason": "compiler-message", "message": "x"}) + "\n", "error:unreadable")
    case(
        "crlf.json",
        k,
        (msg("warning", "x", "clippy::a") + FINISHED_OK).replace("\n", "\r\n"),
        "ok",
        findings={"medium": 1},
    )
    case(
        "deny-warnings.json",
        k,
        msg("error", "x", "clippy::needless_return") + FINISHED_FAIL,
        "ok",
        findings={"high": 1},
    )


# -- bandit ------------------------------------------------------------------------------------------------------
def bandit(results: list[Any], files: int = 1, errors: list[Any] | None = None) -> str:
    metrics: dict[str, Any] = {"_totals": {"loc": 10 * files}}
    metrics.update({f"pkg/m{i}.py": {"loc": 10} for i in range(files)})
    return j({"errors": errors or [], "metrics": metrics, "results": results})


ISSUE = {
    "test_id": "B602",
    "issue_severity": "HIGH",
    "issue_confidence": "HIGH",
    "issue_text": "shell",
    "filename": "pkg/m0.py",
    "line_number": 3,
}


def bandit_cases() -> None:
    k = "bandit"
    case("clean.json", k, bandit([]), "ok", findings={})
    case("no-files-scanned.json", k, bandit([], files=0), "error:saw-nothing")
    case("one-high.json", k, bandit([ISSUE]), "ok", findings={"high": 1})
    case(
        "scan-error.json",
        k,
        bandit([], errors=[{"filename": "pkg/m0.py", "reason": "syntax error"}]),
        "ok",
        findings={"high": 1},
    )
    case("result-without-test-id.json", k, bandit([{"issue_severity": "HIGH"}]), "error:unreadable")
    case("results-missing.json", k, j({"errors": []}), "error:unreadable")
    case(
        "unknown-severity-counts-low.json", k, bandit([ISSUE | {"issue_severity": "WEIRD"}]), "ok", findings={"low": 1}
    )
    case("truncated.json", k, bandit([ISSUE])[:-5], "error:truncated")


BUILDERS: list[Callable[[], None]] = [
    sarif_cases,
    junit_cases,
    lcov_cases,
    cobertura_cases,
    coveragepy_cases,
    pip_audit_cases,
    cargo_audit_cases,
    clippy_cases,
    bandit_cases,
]


def build() -> list[Case]:
    CASES.clear()
    for builder in BUILDERS:
        builder()
    names = [c["file"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    return CASES


def write() -> None:
    cases = build()
    for c in cases:
        path = FILES / c["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(c["data"])
    manifest = [{k: v for k, v in c.items() if k != "data"} for c in cases]
    (HERE / "cases.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(f"{len(cases)} cases written to {FILES}")


if __name__ == "__main__":
    write()

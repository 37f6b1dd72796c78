"""The streaming JSON reader against the standard library's own decoder, at buffer sizes that split every
token, and on every truncation of a document; and the streamed parsers equal to whole-file reading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_iotops.errors import EvidenceError
from pytest_iotops.evidence import jsonstream
from pytest_iotops.evidence.config import EvidenceSource
from pytest_iotops.evidence.jsonstream import JsonStream
from pytest_iotops.evidence.run import PARSERS
from pytest_iotops.evidence.sarif import parse as parse_sarif
from pytest_iotops.evidence.sarif import parse_data as parse_sarif_data

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def read_all(path: Path, depth: int) -> Any:
    with JsonStream(path, 0) as stream:
        value = walk(stream, depth)
        stream.end()
    return value


def walk(stream: JsonStream, depth: int) -> Any:
    """Rebuild a value through the streaming API: containers walked down to ``depth``, the rest decoded."""
    first = stream.peek()
    if depth and first == "{":
        return {key: walk(stream, depth - 1) for key in stream.members()}
    if depth and first == "[":
        return [walk(stream, depth - 1) for _ in stream.items()]
    return stream.value()


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON, chunk=st.integers(1, 9), depth=st.integers(0, 3), indent=st.sampled_from([None, 1]))
def test_stream_equals_json_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: Any, chunk: int, depth: int, indent: int | None
) -> None:
    monkeypatch.setattr(jsonstream, "_CHUNK", chunk)
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(value, indent=indent), encoding="utf-8")
    assert read_all(path, depth) == value


def test_every_truncation_is_an_error_never_a_shorter_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "_CHUNK", 5)
    text = json.dumps({"files": {"a.py": {"executed_lines": [1, 22, 333], "x": "y"}}, "n": 12345, "t": [True]})
    path = tmp_path / "cut.json"
    for cut in range(1, len(text)):
        path.write_text(text[:cut], encoding="utf-8")
        if not text[:cut].strip():
            continue
        with pytest.raises(EvidenceError) as caught:
            read_all(path, 2)
        assert "cut.json" in str(caught.value), cut


@pytest.mark.parametrize(
    ("text", "message", "reason"),
    [
        ('{"a": 1, "a": 2}', "key 'a' twice", "contradiction"),
        ('{"a": {"b": 1, "b": 2}}', "key 'b' twice", "contradiction"),
        ('{"a": NaN}', "NaN is not a JSON number", ""),
        ('{"a": 1} {"b": 2}', "extra data", "unreadable"),
        ('{"a": 1,}', "expected an object key", "unreadable"),
        ("<xml/>", "looks like XML", ""),
        ("   \n ", "empty", ""),
        ('{"a": ' + "9" * 5000 + "}", "unreadable JSON value", ""),
        ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply", ""),
        ('{"a": "x\u0000"}', "NUL byte", ""),
    ],
)
def test_refusals_name_the_file_and_why(tmp_path: Path, text: str, message: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EvidenceError, match=message) as caught:
        read_all(path, 1)
    assert "bad.json" in str(caught.value)
    if reason:
        assert caught.value.reason == reason


def _sarif(order: list[str]) -> dict[str, Any]:
    members = {
        "tool": {"driver": {"name": "t", "rules": [{"id": "R1", "properties": {"security-severity": "9.5"}}]}},
        "originalUriBaseIds": {"SRC": {"uri": "file:///proj/"}},
        "results": [
            {
                "ruleId": "R1",
                "level": "note",
                "message": {"text": "m"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": "a.py", "uriBaseId": "SRC"},
                            "region": {"startLine": 3},
                        }
                    }
                ],
            },
        ],
    }
    return {"version": "2.1.0", "runs": [{key: members[key] for key in order}]}


@pytest.mark.parametrize(
    "order",
    [
        ["tool", "originalUriBaseIds", "results"],
        ["results", "tool", "originalUriBaseIds"],
        ["tool", "results", "originalUriBaseIds"],
    ],
)
def test_sarif_streamed_whatever_the_member_order_equals_in_memory(tmp_path: Path, order: list[str]) -> None:
    """Results before their rules or base URIs (trivy writes originalUriBaseIds last) are read again."""
    data = _sarif(order)
    path = tmp_path / "r.sarif"
    path.write_text(json.dumps(data), encoding="utf-8")
    source = EvidenceSource(name="s", kind="sarif", path="r.sarif")
    streamed = parse_sarif(path, source, Path("/proj"))
    whole = parse_sarif_data(data, path, source, Path("/proj"))
    assert streamed.findings == whole.findings
    assert [(f.severity, f.path, f.line) for f in streamed.findings] == [("critical", "a.py", 3)]


def test_lcov_concatenated_tracefiles_count_each_branch_once(tmp_path: Path) -> None:
    """``cat a.info b.info``: a file recorded twice has its lines and branches united, not added up; branch
    keys are kept per record only, so a second pass recounts the repeated file."""
    record = "SF:src/a.c\nDA:1,{a}\nDA:2,{b}\nBRDA:1,0,0,{a}\nBRDA:1,0,1,{b}\nBRDA:1,0,1,{b}\nend_of_record\n"
    other = "SF:src/b.c\nDA:5,1\nBRDA:5,0,0,1\nBRDA:5,0,1,-\nend_of_record\n"
    path = tmp_path / "all.info"
    path.write_text(record.format(a=1, b=0) + other + record.format(a=0, b=3), encoding="utf-8")
    parsed = parse_file_kind("lcov", path, tmp_path)
    files = {f.path: (f.covered_lines, f.statements, f.covered_branches, f.branches, f.missing) for f in parsed.files}
    assert files == {"src/a.c": (2, 2, 2, 2, ""), "src/b.c": (1, 1, 1, 2, "")}


def parse_file_kind(kind: str, path: Path, rootdir: Path) -> Any:
    return PARSERS[kind](path, EvidenceSource(name="x", kind=kind, path=path.name), rootdir)

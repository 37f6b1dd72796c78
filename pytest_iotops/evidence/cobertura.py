"""Cobertura XML (coverage.py, cargo-tarpaulin, .NET, Java): streamed, so a 200 MB file needs little memory.

Differences handled: coverage.py names files relative to ``<source>`` and rounds rates; tarpaulin names them
relative to the project root, writes ``NaN`` rates and no branch data; .NET repeats class lines inside
``<methods>`` (only the class's own ``<lines>`` are read); old coverage.py has a DOCTYPE (never loaded).
Rates in the file are ignored: everything is recounted from ``<line>`` elements.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import EvidenceError
from .base import LineData, Parsed, coverage_file, repo_path
from .config import EvidenceSource
from .read import iter_xml, xml_root_tag

__all__ = ["parse"]

_CONDITION = re.compile(r"\((\d+)/(\d+)\)")


def _int(value: str | None, path: Path, what: str) -> int:
    try:
        number = int(value) if value is not None else -1
    except ValueError:
        try:
            number = int(float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            number = -1
    if number < 0:
        raise EvidenceError(f"{path}: {what} is {value!r}, expected a whole number")
    return number


def parse(path: Path, source: EvidenceSource, rootdir: Path) -> Parsed:
    root = xml_root_tag(path, source.max_bytes)
    if root != "coverage":
        raise EvidenceError(f"{path}: not a Cobertura report (root element <{root}>, expected <coverage>)")
    sources: list[str] = []
    lines: dict[str, LineData] = {}
    branches: dict[str, dict[int, tuple[int, int]]] = {}
    version = ""
    for element in iter_xml(path, ("source", "class", "coverage"), source.max_bytes):
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "source":
            if element.text and element.text.strip():
                sources.append(element.text.strip())
        elif tag == "coverage":
            version = element.get("version", "")
        else:
            _read_class(element, path, lines, branches)
    mapped: dict[str, tuple[LineData, int, int]] = {}
    candidates = tuple(sources)
    for name, data in lines.items():
        rel = repo_path(name, rootdir, source.root, candidates)
        per_line = branches.get(name, {})
        total = sum(t for _, t in per_line.values())
        covered = sum(c for c, _ in per_line.values())
        if rel in mapped:  # two spellings of one file: merge
            old, ob, oc = mapped[rel]
            old.executed |= data.executed
            old.missing |= data.missing
            mapped[rel] = (old, ob + total, oc + covered)
        else:
            mapped[rel] = (data, total, covered)
    has_branches = any(b for b in branches.values())
    files = [coverage_file(rel, d, t, c) for rel, (d, t, c) in sorted(mapped.items())]
    return Parsed(
        files=files, lines={rel: d for rel, (d, _, _) in mapped.items()}, branch_data=has_branches, tool_version=version
    )


def _read_class(
    element: object, path: Path, lines: dict[str, LineData], branches: dict[str, dict[int, tuple[int, int]]]
) -> None:
    filename = element.get("filename")  # type: ignore[attr-defined]
    if not filename:
        raise EvidenceError(f"{path}: a <class> element has no filename attribute")
    data = lines.setdefault(filename, LineData())
    per_line = branches.setdefault(filename, {})
    for container in element:  # type: ignore[attr-defined]
        if not isinstance(container.tag, str) or container.tag.rsplit("}", 1)[-1] != "lines":
            continue  # <methods> repeat the class's lines (.NET): read the class's own <lines> only
        for line in container:
            if not isinstance(line.tag, str) or line.tag.rsplit("}", 1)[-1] != "line":
                continue
            number = _int(line.get("number"), path, f"{filename}: <line number>")
            hits = _int(line.get("hits"), path, f"{filename}:{number} hits")
            (data.executed if hits > 0 else data.missing).add(number)
            condition = line.get("condition-coverage")
            if line.get("branch") == "true" and condition:
                match = _CONDITION.search(condition)
                if match:
                    covered, total = int(match.group(1)), int(match.group(2))
                    old = per_line.get(number, (0, 0))
                    per_line[number] = (max(old[0], covered), max(old[1], total))
    data.missing -= data.executed

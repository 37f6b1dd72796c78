"""Cobertura XML (coverage.py, cargo-tarpaulin, .NET, Java): streamed, so a 200 MB file needs little memory.

Differences handled: coverage.py names files relative to ``<source>`` and rounds rates; tarpaulin names them
relative to the project root, writes ``NaN`` rates and no branch data; .NET repeats class lines inside
``<methods>`` (only the class's own ``<lines>`` are read); old coverage.py has a DOCTYPE (never loaded).
Rates in the file are ignored: everything is recounted from ``<line>`` elements.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EvidenceError
from .base import LineData, Parsed, PathMap, coverage_file
from .read import iter_xml, xml_root_tag

if TYPE_CHECKING:
    from .config import EvidenceSource

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
    branches: dict[str, list[int]] = {}  # filename -> [covered, total]
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
    paths = PathMap(rootdir, source.root, tuple(sources))
    for name, data in lines.items():
        rel = paths(name)
        covered, total = branches.get(name, [0, 0])
        if rel in mapped:  # two spellings of one file: merge
            old, ob, oc = mapped[rel]
            mapped[rel] = (old.merged(data), ob + total, oc + covered)
        else:
            mapped[rel] = (data, total, covered)
    has_branches = any(total for _, total in branches.values())
    files = [coverage_file(rel, d, t, c) for rel, (d, t, c) in sorted(mapped.items())]
    return Parsed(
        files=files,
        lines={rel: d for rel, (d, _, _) in mapped.items()},
        branch_data=has_branches,
        tool_version=version,
        scanned=sum(f.statements for f in files),
        scanned_what="coverable lines",
    )


def _read_class(element: Any, path: Path, lines: dict[str, LineData], branches: dict[str, list[int]]) -> None:
    filename = element.get("filename")
    if not filename:
        raise EvidenceError(f"{path}: a <class> element has no filename attribute")
    data = lines.get(filename)
    if data is None:
        data = lines[filename] = LineData()
    counts = branches.setdefault(filename, [0, 0])
    for container in element:
        if not isinstance(container.tag, str) or container.tag.rsplit("}", 1)[-1] != "lines":
            continue  # <methods> repeat the class's lines (.NET): read the class's own <lines> only
        for line in container:
            number = _int(line.get("number"), path, f"{filename}: <line number>")
            hits = _int(line.get("hits"), path, f"{filename}:{number} hits")
            if number > LineData.MAX_LINE:
                raise EvidenceError(f"{path}: {filename}: line number {number} is out of range")
            data.add(number, hits > 0)
            condition = line.get("condition-coverage")
            if condition and line.get("branch") == "true":
                match = _CONDITION.search(condition)
                if match:
                    counts[0] += int(match.group(1))
                    counts[1] += int(match.group(2))

"""Reading run report files: the schema version checked, older majors upgraded on the way in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..codec import from_dict, line_ranges
from ..errors import ReportFormatError
from . import SCHEMA_VERSION, RunReport

__all__ = ["load_report"]

#: older majors :func:`load_report` still reads, upgrading them on the way in
_UPGRADABLE = ("1",)


def _upgrade_1(data: dict[str, Any]) -> dict[str, Any]:
    """A 1.x report as 2.0: ``files[].missing_lines`` (a list) became ``files[].missing`` (ranges)."""
    holders = [data.get("coverage"), *(data.get("evidence") or [])]
    for holder in holders:
        for entry in (holder.get("files") or []) if isinstance(holder, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("missing_lines"), list):
                entry["missing"] = line_ranges(x for x in entry.pop("missing_lines") if isinstance(x, int))
    return {**data, "schema_version": SCHEMA_VERSION}


def load_report(path: str | Path) -> RunReport:
    """Read a run report file, refusing other major schema versions with a clear message."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportFormatError(f"{path}: run report not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportFormatError(f"{path}: not a readable JSON run report ({exc})") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    major = SCHEMA_VERSION.split(".", maxsplit=1)[0]
    if isinstance(version, str) and version.split(".")[0] in _UPGRADABLE:
        data = _upgrade_1(data)
    elif not isinstance(version, str) or version.split(".")[0] != major:
        readable = ", ".join(f"{m}.x" for m in (*_UPGRADABLE, major))
        message = f"schema_version {version!r} is not readable by this version (reads {readable})"
        raise ReportFormatError(f"{path}: {message}")
    try:
        return from_dict(RunReport, data)
    except ReportFormatError as exc:
        raise ReportFormatError(f"{path}: {exc}") from None

"""One writer for every report format: ``-`` is stdout, parents are created, files appear whole or not at all."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["write_output"]


def _umask() -> int:
    """The process umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_output(target: str | Path, text: str) -> Path | None:
    """Write ``text`` atomically (temp file + rename) so a crash never leaves half a report."""
    if str(target) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is shared like any file the user writes
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

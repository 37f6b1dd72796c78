"""Whether any installed distribution declares an entry point of a group, without importlib.metadata's scan.

Every ``--iotops`` process (each xdist worker too) asks for the ``iotops`` entry points before the conftest
files load. ``importlib.metadata`` answers by building a distribution object and parsing the entry points of
every installed package: 21.6 M instructions for the 108 of a development venv, a sixth of what the plugin
costs a run over plain pytest. Almost always no package declares the group; reading each ``entry_points.txt``
and looking for the group's header says so for a fraction of that. When it may be there, or when distributions
could come from where this does not look (a zip file on ``sys.path``, a finder of its own), the caller asks
importlib.metadata as before: this check may say "maybe" wrongly, never "no".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from importlib.machinery import PathFinder

__all__ = ["may_declare"]


def may_declare(group: str, path: Iterable[str] | None = None, finders: Iterable[object] | None = None) -> bool:
    """False only when no distribution importlib.metadata would find on ``path`` (``sys.path``) has a
    ``[group]`` section in its ``entry_points.txt``."""
    for finder in sys.meta_path if finders is None else finders:
        if finder is not PathFinder and getattr(finder, "find_distributions", None) is not None:
            return True  # distributions this module cannot list
    header = f"[{group}]".encode()
    for entry in sys.path if path is None else path:
        for directory in _metadata_dirs(entry or "."):
            if directory is None or header in _read(os.path.join(directory, "entry_points.txt")):
                return True
    return False


def _read(path: str) -> bytes:
    """The file's bytes; none when it cannot be read (no entry points, or an egg-info file rather than a
    directory). Bytes, read by file descriptor: a text file object costs three Python objects and a decoder
    per file, for a hundred files a run."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _metadata_dirs(entry: str) -> list[str | None]:
    """The metadata directories of one ``sys.path`` entry, as importlib.metadata finds them; ``[None]`` for an
    entry this module does not read (a zip file)."""
    try:
        names = os.listdir(entry)
    except NotADirectoryError:
        return [None]
    except OSError:  # missing or unreadable: importlib.metadata skips it too
        return []
    egg = entry.lower().endswith(".egg")
    return [
        os.path.join(entry, name)
        for name in names
        if name.lower().endswith((".dist-info", ".egg-info")) or (egg and name.lower() == "egg-info")
    ]

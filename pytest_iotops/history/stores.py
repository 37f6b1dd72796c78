"""The store a URL names: ``sqlite:///<path>`` (relative to the project unless absolute) or
``postgresql://user@host:port/db``. Another back-end is one module plus an entry here."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .postgres import PostgresStore
from .sqlite import SQLiteStore
from .store import HistoryStore

__all__ = ["open_store"]


def open_store(url: str, rootdir: Path | None = None) -> HistoryStore:
    """A URL of another kind is a configuration error naming it."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return SQLiteStore(path if path.is_absolute() else (rootdir or Path.cwd()) / path, url)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url)
    raise ConfigError(
        f"history url {url!r}: expected sqlite:///<path> (relative to the project) or postgresql://user@host/db"
    )

"""The SQLite back-end: one file, write-ahead log (readers never wait for a writer), each write under
``BEGIN IMMEDIATE`` with a busy timeout, so writers queue instead of failing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .schema import VERSION, statements
from .store import HistoryStore, check_version

__all__ = ["SQLiteStore"]


class SQLiteStore(HistoryStore):
    def __init__(self, path: Path, url: str = "") -> None:
        self.path, self.url = path, url or f"sqlite:///{path}"

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[Any]:
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    def _version(self, conn: Any) -> int:
        found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'iotops_schema'")
        if found.fetchone() is None:
            return 0
        return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM iotops_schema").fetchone()[0])

    def migrate(self, conn: Any) -> None:
        current = self._version(conn)
        check_version(current, self.url)
        if current == VERSION:
            return
        with self.transaction(conn) as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS iotops_schema (version INTEGER PRIMARY KEY, applied_at TEXT)")
            current = self._version(conn)  # another writer may have migrated while this one waited
            for version in range(current + 1, VERSION + 1):
                for sql in statements(version, "sqlite"):
                    cur.execute(sql)
                cur.execute("INSERT INTO iotops_schema VALUES (?, datetime('now'))", (version,))

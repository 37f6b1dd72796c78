"""The SQLite back-end: one file, write-ahead log (readers never wait for a writer), each write under
``BEGIN IMMEDIATE`` with a busy timeout, so writers queue instead of failing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .schema import VERSION, statements
from .store import HistoryStore, check_version

__all__ = ["SQLiteStore"]


def _write_ahead_log(conn: sqlite3.Connection, wait: float = 30.0) -> None:
    """Switch a new file to WAL once (the mode is kept in the file). Writers opening a new file together race
    for that switch, and SQLite answers "database is locked" at once, without its busy timeout (it would
    deadlock otherwise): so the switch is retried here, up to ``wait`` seconds."""
    deadline, delay = time.monotonic() + wait, 0.01
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class SQLiteStore(HistoryStore):
    def __init__(self, path: Path, url: str = "") -> None:
        self.path, self.url = path, url or f"sqlite:///{path}"

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            _write_ahead_log(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
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

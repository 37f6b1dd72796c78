"""The PostgreSQL back-end (psycopg 3, ``pip install pytest-iotops[postgres]``): rows inserted in one
transaction per run (concurrent writers never block each other's inserts), migrations under a transaction-level
advisory lock so two first writers cannot both create the tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .schema import VERSION, statements
from .store import HistoryError, HistoryStore, check_version

__all__ = ["PostgresStore"]

#: the advisory lock's key ("iotops" in ASCII)
_LOCK = 0x696F746F7073


class PostgresStore(HistoryStore):
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self) -> Any:
        try:
            import psycopg
        except ImportError:
            raise HistoryError(
                f"{self.url}: PostgreSQL needs psycopg 3 (pip install 'pytest-iotops[postgres]')"
            ) from None
        return psycopg.connect(self.url, connect_timeout=10)

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[Any]:
        with conn.transaction(), conn.cursor() as cur:
            yield cur

    def _version(self, cur: Any) -> int:
        cur.execute("SELECT to_regclass('iotops_schema') IS NOT NULL")
        if not cur.fetchone()[0]:
            return 0
        cur.execute("SELECT COALESCE(MAX(version), 0) FROM iotops_schema")
        return int(cur.fetchone()[0])

    def migrate(self, conn: Any) -> None:
        with conn.cursor() as cur:
            current = self._version(cur)
        conn.commit()
        check_version(current, self.url)
        if current == VERSION:
            return
        with self.transaction(conn) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            cur.execute("CREATE TABLE IF NOT EXISTS iotops_schema (version INTEGER PRIMARY KEY, applied_at TEXT)")
            current = self._version(cur)
            for version in range(current + 1, VERSION + 1):
                for sql in statements(version, "postgres"):
                    cur.execute(sql)
                cur.execute("INSERT INTO iotops_schema VALUES (%s, now()::text)", (version,))

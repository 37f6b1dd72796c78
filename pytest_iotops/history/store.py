"""The history store behind one interface: SQLite (a file, nothing to install) or PostgreSQL (a shared server,
psycopg 3), chosen by URL — ``sqlite:///.iotops/history.db`` (relative to the project), ``sqlite:////abs/path``,
``postgresql://user@host:port/db``. Writes are one transaction per run, retried while another writer holds
the lock, so concurrent writers (xdist controllers, CI shards, several jobs) never lose a run; the schema is
migrated on open under the same lock."""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import IotopsError
from ..model import RunReport
from .rows import Rows, run_rows
from .schema import VERSION

__all__ = ["HistoryError", "HistoryStore", "check_version"]

_TABLES = ("tests", "phases", "coverage_files", "gates", "findings", "deployments")


class HistoryError(IotopsError):
    """The store could not be read or written (named, with what it said)."""


class HistoryStore(ABC):
    """``placeholder``: the back-end's parameter marker."""

    url: str
    placeholder = "?"

    @abstractmethod
    def connect(self) -> Any:
        """A DB-API connection (the caller closes it)."""

    @abstractmethod
    @contextmanager
    def transaction(self, conn: Any) -> Iterator[Any]:
        """A cursor inside a write transaction that holds the store's lock; committed on exit."""

    @abstractmethod
    def migrate(self, conn: Any) -> None:
        """Bring the schema to :data:`VERSION` (under the lock; a store newer than this code is refused)."""

    def write(self, report: RunReport, run_id: str | None = None, attempts: int = 50) -> str:
        """One run, all of its rows in one transaction; retried while the store is busy. Returns its id."""
        run_id = run_id or uuid.uuid4().hex
        rows = run_rows(run_id, report)
        delay = 0.05
        for attempt in range(attempts):
            try:
                with self._connection() as conn, self.transaction(conn) as cur:
                    self._insert(cur, rows)
                return run_id
            except HistoryError:
                raise
            except Exception as exc:
                if attempt == attempts - 1 or not self.busy(exc):
                    raise HistoryError(f"{self.url}: cannot store the run: {exc}") from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    def busy(self, exc: Exception) -> bool:
        """Whether ``exc`` means another writer holds the lock (worth a retry)."""
        text = str(exc).lower()
        return "locked" in text or "busy" in text or "deadlock" in text or "could not serialize" in text

    def _insert(self, cur: Any, rows: Rows) -> None:
        def insert(table: str, values: Sequence[tuple[Any, ...]]) -> None:
            if values:
                marks = ", ".join([self.placeholder] * len(values[0]))
                cur.executemany(f"INSERT INTO {table} VALUES ({marks})", values)  # noqa: S608 - our table names

        insert("runs", [rows.run])
        for table in _TABLES:
            insert(table, getattr(rows, table))

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        try:
            conn = self.connect()
        except HistoryError:
            raise
        except Exception as exc:
            raise HistoryError(f"{self.url}: cannot open the history: {exc}") from None
        try:
            self.migrate(conn)
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query (``?`` as the parameter marker, whatever the back-end)."""
        with self._connection() as conn:
            cur = conn.cursor()
            cur.execute(sql.replace("?", self.placeholder), tuple(params))
            return list(cur.fetchall())

    def prune(self, keep_runs: int | None = None, keep_days: float | None = None) -> int:
        """Retention: the newest ``keep_runs`` runs and those younger than ``keep_days``; the rest (and their
        rows) deleted. Returns how many runs went."""
        doomed: set[str] = set()
        runs = self.query("SELECT run_id, started_at FROM runs ORDER BY started_at DESC, run_id")
        if keep_runs is not None:
            doomed |= {r[0] for r in runs[keep_runs:]}
        if keep_days is not None:
            cutoff = (datetime.now(timezone.utc) - timedelta(days=keep_days)).isoformat()
            doomed |= {r[0] for r in runs if r[1] < cutoff}
        if doomed:
            with self._connection() as conn, self.transaction(conn) as cur:
                for table in (*_TABLES, "runs"):
                    cur.executemany(
                        f"DELETE FROM {table} WHERE run_id = {self.placeholder}",  # noqa: S608 - our table names
                        [(r,) for r in sorted(doomed)],
                    )
        return len(doomed)


def check_version(found: int, url: str) -> None:
    """A store migrated by a newer pytest-iotops is refused, never written with an older schema's rows."""
    if found > VERSION:
        raise HistoryError(f"{url}: the history is at schema {found}, newer than this pytest-iotops knows ({VERSION})")

"""The history's tables as plain versioned SQL, one list per step, applied in order and recorded in
``iotops_schema``. Plain SQL rather than Alembic: two back-ends, a dozen tables, no ORM to carry — and a
migration stays readable next to the queries that use it. A step's statements run in one transaction; a
newer store than this code knows is refused, never written."""

from __future__ import annotations

__all__ = ["MIGRATIONS", "VERSION", "statements"]

#: (version, statements); ``{ID}`` is the back-end's auto-increment key type, ``{BLOB}`` its bytes type
MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE runs (
                run_id TEXT PRIMARY KEY,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                duration DOUBLE PRECISION NOT NULL,
                project TEXT NOT NULL,
                branch TEXT,
                commit_sha TEXT,
                committed_at TEXT,
                ci_job TEXT,
                shard TEXT,
                status TEXT NOT NULL,
                exit_code INTEGER NOT NULL,
                tests INTEGER NOT NULL,
                failed INTEGER NOT NULL,
                coverage DOUBLE PRECISION,
                branch_coverage DOUBLE PRECISION,
                schema_version TEXT NOT NULL,
                report {BLOB} NOT NULL
            )""",
            "CREATE INDEX runs_by_branch ON runs (branch, started_at)",
            "CREATE INDEX runs_by_time ON runs (started_at)",
            """CREATE TABLE tests (
                run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
                nodeid TEXT NOT NULL,
                phase TEXT NOT NULL,
                outcome TEXT NOT NULL,
                duration DOUBLE PRECISION NOT NULL,
                attempts TEXT NOT NULL,
                flaky INTEGER NOT NULL
            )""",
            "CREATE INDEX tests_by_node ON tests (nodeid, run_id)",
            "CREATE INDEX tests_by_run ON tests (run_id)",
            """CREATE TABLE phases (
                run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                tests INTEGER NOT NULL,
                failed INTEGER NOT NULL,
                status TEXT NOT NULL,
                duration DOUBLE PRECISION NOT NULL,
                coverage DOUBLE PRECISION
            )""",
            """CREATE TABLE coverage_files (
                run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
                path TEXT NOT NULL,
                statements INTEGER NOT NULL,
                covered INTEGER NOT NULL,
                percent DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE gates (
                run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
                gate TEXT NOT NULL,
                status TEXT NOT NULL,
                measured DOUBLE PRECISION,
                threshold DOUBLE PRECISION
            )""",
            """CREATE TABLE findings (
                run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
                fingerprint TEXT NOT NULL,
                tool TEXT NOT NULL,
                rule TEXT NOT NULL,
                severity TEXT NOT NULL,
                status TEXT NOT NULL
            )""",
            """CREATE TABLE deployments (
                run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                kind TEXT NOT NULL,
                test TEXT NOT NULL,
                environment TEXT NOT NULL,
                candidate TEXT NOT NULL,
                outcome TEXT NOT NULL,
                started_at TEXT NOT NULL,
                duration DOUBLE PRECISION NOT NULL,
                steps INTEGER NOT NULL,
                detail TEXT NOT NULL
            )""",
            "CREATE INDEX deployments_by_time ON deployments (started_at)",
        ],
    ),
]

VERSION = MIGRATIONS[-1][0]


def statements(version: int, dialect: str) -> list[str]:
    """One step's statements in a back-end's dialect (``sqlite`` or ``postgres``)."""
    types = {"sqlite": {"BLOB": "BLOB"}, "postgres": {"BLOB": "BYTEA"}}[dialect]
    step = next(s for v, s in MIGRATIONS if v == version)
    return [sql.replace("{BLOB}", types["BLOB"]) for sql in step]

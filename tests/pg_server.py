"""A private PostgreSQL server for the history tests: Debian's binaries, a fresh data directory, listening on
127.0.0.1 only (and a socket in the data directory), stopped and removed afterwards. PostgreSQL refuses to run
as root, so under root the server runs as the ``postgres`` user (the Debian package creates it)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["postgres_binaries", "postgres_server"]


def postgres_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> tuple[list[str], int | None, int | None]:
    """The command prefix and ids to run the server's programs with (root: the postgres user)."""
    if os.geteuid() != 0:
        return [], None, None
    user = pwd.getpwnam("postgres")
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"], user.pw_uid, user.pw_gid


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A URL of a fresh database (``postgresql://postgres@127.0.0.1:<port>/iotops``)."""
    binaries = postgres_binaries()
    if binaries is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required in CI but is not installed (Debian: postgresql)")
        pytest.skip("PostgreSQL is not installed")
    prefix, uid, gid = _as_server_user()
    home = Path(tempfile.mkdtemp(prefix="iotops-pg-"))
    data = home / "data"
    if uid is not None and gid is not None:
        os.chown(home, uid, gid)

    def run(*argv: str) -> None:
        done = subprocess.run(
            [*prefix, str(binaries / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=120, check=False
        )
        log = home / "server.log"
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        assert done.returncode == 0, f"{argv[0]} failed: {done.stdout[-1500:]}{done.stderr[-1500:]}\n{tail}"

    try:
        run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        for attempt in range(3):  # the free port can be taken before the server binds it (tests run in parallel)
            port = _free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off -c max_connections=50"
            try:
                run("pg_ctl", "-D", str(data), "-o", options, "-l", str(home / "server.log"), "-w", "-t", "60", "start")
                break
            except AssertionError:
                if attempt == 2:
                    raise
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 30
        while True:  # -w waited for the socket; the TCP listener answers a moment later on a loaded machine
            try:
                import psycopg

                with psycopg.connect(url, connect_timeout=5) as conn:
                    conn.autocommit = True
                    conn.execute("CREATE DATABASE iotops")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"postgresql://postgres@127.0.0.1:{port}/iotops"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(home, ignore_errors=True)

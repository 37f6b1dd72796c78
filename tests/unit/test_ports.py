"""Port picks claimed machine-wide: a port picked by one run is not picked by another before it is bound."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from pytest_iotops.deploy import ports


@pytest.fixture
def claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Claims under this test's own temporary directory (other runs on the machine are not disturbed)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path / f"pytest-iotops-{os.getuid()}" / "ports"


def _claim_elsewhere(port: int, tmp: Path) -> bool:
    """``claim(port)`` in another process, as another xdist worker or CI job would."""
    code = f"from pytest_iotops.deploy.ports import claim; print(claim({port}))"
    out = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "TMPDIR": str(tmp)}, capture_output=True, text=True, check=True
    )
    return {"True": True, "False": False}[out.stdout.strip()]


def test_a_picked_port_is_not_picked_by_another_process_before_its_server_binds(claims: Path) -> None:
    # the CI failure this answers: nginx's listen port was probed free, and another run took it before nginx bound it
    port = ports.free_port()
    assert ports.port_in_use(port) is False  # nothing holds it: only the claim keeps it ours
    assert (claims / str(port)).is_file()
    assert _claim_elsewhere(port, claims.parent.parent) is False
    assert ports.claim(port) is False  # this process's next pick passes over it too
    other = ports.free_port()
    assert other != port


def test_a_released_port_is_claimed_again_for_the_start_that_follows(claims: Path) -> None:
    port = ports.free_port(hold=True)
    try:
        old = time.time() - ports.CLAIM_SECONDS + 1  # about to go stale while the router held the port
        os.utime(claims / str(port), (old, old))
    finally:
        ports.release_port(port)
    assert time.time() - (claims / str(port)).stat().st_mtime < 60
    assert _claim_elsewhere(port, claims.parent.parent) is False


def test_a_stale_claim_is_taken_over(claims: Path) -> None:
    port = ports.free_port()
    old = time.time() - ports.CLAIM_SECONDS - 1
    os.utime(claims / str(port), (old, old))
    assert _claim_elsewhere(port, claims.parent.parent) is True
    assert ports.claim(port) is False  # now the other process's


def test_stale_claims_are_pruned_and_fresh_ones_kept(claims: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh, stale = ports.free_port(), ports.free_port()
    old = time.time() - ports.CLAIM_SECONDS - 1
    os.utime(claims / str(stale), (old, old))
    monkeypatch.setattr(ports._rng, "random", lambda: 0.0)  # the next pick prunes
    ports.free_port()
    assert (claims / str(fresh)).exists()
    assert not (claims / str(stale)).exists()


def test_without_a_writable_claim_directory_ports_are_still_picked(claims: Path) -> None:
    claims.parent.mkdir(parents=True)
    claims.write_text("not a directory")
    port = ports.free_port()
    assert 10000 <= port < 65536
    assert not ports.port_in_use(port)

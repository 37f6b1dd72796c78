"""Evidence commands keep their deadline even when a descendant escapes the process group and holds the pipes."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from pytest_iotops.errors import EvidenceError
from pytest_iotops.evidence.command import run_command

# a child in its own session (setsid) that keeps stdout and stderr open, writing its pid first
ESCAPE = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True)\n"
    "open(sys.argv[1], 'w').write(str(child.pid))\n"
    "{tail}\n"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is gone for our purpose
        return fh.read().split()[2] != "Z"


def _gone(pid: int, deadline: float = 5.0) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_command_that_ended_in_time_is_not_called_timed_out(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = ESCAPE.format(tail="print('done')")
    start = time.monotonic()
    result = run_command((sys.executable, "-c", script, str(pidfile)), tmp_path, 2, (0,))
    elapsed = time.monotonic() - start
    assert elapsed < 2 + 5, elapsed
    assert result.exit_code == 0
    assert "done" in result.stdout_tail
    assert "descendant" in result.stderr_tail
    assert _gone(int(pidfile.read_text()))


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_command_that_hangs_times_out_within_its_deadline(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = ESCAPE.format(tail="import time; time.sleep(300)")
    start = time.monotonic()
    with pytest.raises(EvidenceError, match="timed out after 1s") as info:
        run_command((sys.executable, "-c", script, str(pidfile)), tmp_path, 1, (0,))
    assert time.monotonic() - start < 1 + 5
    assert info.value.reason == "command"
    pid = int(pidfile.read_text())
    if not _gone(pid):
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the escaped child was left running")

"""Run an evidence command as a pipeline stage: an argument list (never a shell string), a timeout, the whole
process group killed on timeout, and the tails of stdout and stderr kept for the report."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

from ..errors import EvidenceError
from ..model import CommandResult

__all__ = ["TAIL", "CommandFailed", "run_command"]

TAIL = 4000


def _tail(data: bytes | str | None) -> str:
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text[-TAIL:]


def _file_tail(path: Path) -> str:
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - TAIL))
        return _tail(fh.read())


def run_command(
    argv: tuple[str, ...], cwd: Path, timeout: float, ok_exit_codes: tuple[int, ...], stdout_to: Path | None = None
) -> CommandResult:
    """Run ``argv``; an exit code outside ``ok_exit_codes``, a timeout or a missing program is an error."""
    if not argv:
        raise EvidenceError("empty command", "command")
    start = time.perf_counter()
    out: IO[bytes] | int = subprocess.PIPE
    if stdout_to is not None:
        stdout_to.parent.mkdir(parents=True, exist_ok=True)
        out = stdout_to.open("wb")
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except FileNotFoundError:
        _close(out)
        raise EvidenceError(f"command not found: {argv[0]!r} (is it installed and on PATH?)", "command") from None
    except OSError as exc:
        _close(out)
        raise EvidenceError(f"cannot run {argv[0]!r}: {exc.strerror}", "command") from None
    try:
        stdout, stderr, note = _communicate(proc, timeout)
    except subprocess.TimeoutExpired:
        _close(out)
        raise EvidenceError(
            f"command timed out after {timeout:g}s and was killed: {' '.join(argv)}", "command"
        ) from None
    finally:
        if proc.poll() is None:  # interrupted (KeyboardInterrupt): take the whole tree down
            _kill_group(proc)
    _close(out)
    result = CommandResult(
        argv=list(argv),
        exit_code=proc.returncode,
        duration=round(time.perf_counter() - start, 6),
        stdout_tail=_file_tail(stdout_to) if stdout_to is not None else _tail(stdout),
        stderr_tail=_tail(stderr) + (f"\n[iotops] {note}" if note else ""),
    )
    if proc.returncode not in ok_exit_codes:
        raise CommandFailed(result)
    return result


class CommandFailed(EvidenceError):
    def __init__(self, result: CommandResult) -> None:
        self.result = result
        super().__init__(
            f"command exited {result.exit_code} (accepted: ok_exit_codes): {' '.join(result.argv)}\n"
            f"{result.stderr_tail[-1500:]}",
            "command",
        )


def _communicate(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes | None, bytes | None, str]:
    """Output within ``timeout``, the deadline kept even when a descendant that left the process group
    (``setsid``) holds the pipes open. Raises ``TimeoutExpired`` only if the command itself did not finish."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        return stdout, stderr, ""
    except subprocess.TimeoutExpired:
        finished = proc.poll() is not None
        _kill_group(proc)
        escaped = _kill_pipe_holders(proc)
        try:
            stdout, stderr = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # something we could not kill still holds them: stop reading
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
            stdout, stderr = b"", b""
        if not finished:
            raise subprocess.TimeoutExpired(proc.args, timeout, output=stdout, stderr=stderr) from None
    note = f"the command ended, but {escaped or 'a'} descendant process(es) kept its output open; killed"
    return stdout, stderr, note


def _kill_pipe_holders(proc: subprocess.Popen[bytes]) -> int:
    """Kill every process that still holds the write end of our pipes (Linux /proc): descendants that escaped
    the process group with setsid. Returns how many were killed."""
    inodes = {f"pipe:[{os.fstat(pipe.fileno()).st_ino}]" for pipe in (proc.stdout, proc.stderr) if pipe is not None}
    killed = 0
    proc_dir = Path("/proc")
    if not inodes or not proc_dir.is_dir():
        return 0
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


def _close(out: IO[bytes] | int) -> None:
    if not isinstance(out, int):
        out.close()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

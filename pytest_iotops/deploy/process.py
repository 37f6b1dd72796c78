"""Versions of a service as local processes: ``command`` is an argument list with a ``{port}`` placeholder,
started in its own process group on 127.0.0.1, healthy once its health path answers 200. Every failure says
which version, what happened and the tail of its output; a version that fails is never left running.

A version's descendants are found even when they leave its process group (a daemon that double-forks and
calls ``setsid``): every process started for a version carries a token in its environment, and stopping the
version stops every process with that token (Linux ``/proc``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from pathlib import Path

from ..errors import DeployError
from ..values import Value, record
from .checks import ResponseCheck, failures
from .ports import free_port, port_in_use, release_port

__all__ = [
    "VersionProcess",
    "kill_owned",
    "probe",
    "start_version",
    "stop_group",
]

TAIL = 2000


@record
class VersionProcess(Value):
    version: str
    argv: list[str]
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    health: list[str] = field(default_factory=list)
    #: in the environment of the version and everything it starts (``IOTOPS_OWNER``)
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output_tail(self) -> str:
        try:
            data = self.log.read_bytes()
        except OSError:
            return ""
        return data[-TAIL:].decode("utf-8", "replace")

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM to the whole process group, SIGKILL after ``grace`` seconds; always reaps."""
        stop_group(self.proc, grace)
        self._stop_escaped(grace)
        self.log.unlink(missing_ok=True)

    def descendants(self) -> list[int]:
        """Every live process started for this version, inside its process group or not."""
        return owned_by(self.token) if self.token else []

    def _stop_escaped(self, grace: float) -> None:
        """Processes that left the group (daemons): SIGTERM, then SIGKILL after ``grace``."""
        escaped = self.descendants()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in escaped:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 5.0)
            while escaped and time.monotonic() < deadline:
                escaped = [pid for pid in escaped if _alive(pid)]
                if escaped:
                    time.sleep(0.01)
            if not escaped:
                return


def stop_group(proc: subprocess.Popen[bytes], grace: float = 5.0, signalled: bool = False) -> None:
    """SIGTERM to the process group ``proc`` leads (unless ``signalled`` already), SIGKILL after ``grace``
    seconds, reaped; then SIGKILL to whatever it left in its group."""
    if proc.poll() is None:
        if not signalled:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def kill_owned(token: str) -> None:
    """SIGKILL every process carrying ``token`` (those that left their group)."""
    for pid in owned_by(token):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running (a zombie has ended: only its parent can reap it, and init does)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


def owned_by(token: str, variable: str = "IOTOPS_OWNER") -> list[int]:
    """Processes whose environment holds ``variable=token`` (none on systems without /proc)."""
    marker = f"{variable}={token}".encode()
    found = []
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as fh:
                if marker in fh.read().split(b"\0") and _alive(int(entry.name)):
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def probe(url: str, timeout: float = 2.0, checks: Sequence[ResponseCheck] = ()) -> tuple[int | None, str]:
    """One GET: the status (None when nothing answered, or the answer failed a response check) and what was
    seen, in words."""
    import http.client  # imported here: urllib's HTTP stack costs a start-up that runs no deployment
    import urllib.error
    import urllib.parse
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback URL built here
            status, headers, body = response.status, response.headers, response.read() if checks else b""
    except urllib.error.HTTPError as err:
        return err.code, f"{err.code} {err.reason}"
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # no answer, or a broken one
        return None, type(getattr(exc, "reason", exc)).__name__
    failed = failures(checks, urllib.parse.urlsplit(url).path, status, dict(headers.items()), body) if checks else ""
    return (None, f"{status} {failed}") if failed else (status, f"{status}")


def _libc_prctl() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


#: resolved here, in the parent: the child between fork and exec only calls it (no dlopen, no import)
_PRCTL = _libc_prctl()


def die_with_parent() -> None:
    """In the child before exec: SIGTERM when the thread that started it ends (Linux PR_SET_PDEATHSIG), so a
    server the run started for itself (a broker, a device host, Prometheus) never outlives a run killed without
    a chance to clean up."""
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGTERM))


def start_version(
    version: str,
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    health_path: str = "/health",
    timeout: float = 30.0,
    port: int | None = None,
    tied: bool = False,
) -> VersionProcess:
    """``tied``: the process gets SIGTERM when the thread that started it ends (:func:`die_with_parent`)."""
    if not command:
        raise DeployError(f"version {version!r}: empty command")
    if port is not None:
        release_port(port)
        if port_in_use(port):
            raise DeployError(f"version {version!r}: port {port} on 127.0.0.1 is already in use")
    port = port or free_port()
    argv = [part.replace("{port}", str(port)).replace("{python}", sys.executable) for part in command]
    fd, name = tempfile.mkstemp(prefix=f"iotops-{version}-", suffix=".log")
    log = Path(name)
    token = uuid.uuid4().hex
    with os.fdopen(fd, "wb") as out:
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**(os.environ if env is None else env), "IOTOPS_OWNER": token},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent if tied else None,  # noqa: PLW1509 - no threads start before exec
            )
        except OSError as exc:
            log.unlink(missing_ok=True)
            raise DeployError(f"version {version!r}: cannot start {argv[0]!r}: {exc.strerror}") from None
    process = VersionProcess(version, argv, port, proc, log, token=token)
    try:
        _wait_healthy(process, health_path, timeout)
    except BaseException:
        process.stop()
        raise
    return process


def _wait_healthy(process: VersionProcess, health_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = process.url + health_path
    while True:
        code = process.proc.poll()
        if code is not None:
            raise DeployError(
                f"version {process.version!r} exited with code {code} while starting "
                f"({' '.join(process.argv)}); its output ends:\n{process.output_tail()}"
            )
        status, seen = probe(url)
        process.health = [*process.health[-9:], seen]
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise DeployError(
                f"version {process.version!r} was not healthy within {timeout:g}s: {url} answered "
                f"{', '.join(process.health[-5:])}; its output ends:\n{process.output_tail()}"
            )
        time.sleep(0.05)

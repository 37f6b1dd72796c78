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
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DeployError
from .checks import ResponseCheck, failures

__all__ = [
    "VersionProcess",
    "free_port",
    "hold_port",
    "kill_owned",
    "probe",
    "release_port",
    "start_version",
    "stop_group",
]

TAIL = 2000


#: ports picked for a process not started yet, each held by a bound (not listening) socket of ours until
#: :func:`release_port`: any other bind fails meanwhile, SO_REUSEADDR or not, so another run's (or this run's)
#: :func:`free_port` cannot pick it (a canary's port is picked when the router opens, seconds before it starts)
_held: dict[int, socket.socket] = {}
_held_lock = threading.Lock()


def _bound(port: int, reuse: bool = False) -> socket.socket | None:
    """Bound to ``port`` or None. ``reuse``: through the TIME_WAIT a stopped server leaves behind; such a hold
    still refuses every bind without SO_REUSEADDR, which is how :func:`free_port` (any run's) probes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    return sock


def free_port(*, hold: bool = False) -> int:
    """A free port below the kernel's ephemeral range. The port is bound later by another process; an
    ephemeral port could be handed meanwhile to one of the thousands of client connections a fleet test
    opens (a version then failed to start), and a client reconnecting to a stopped server could connect to
    itself. ``hold``: kept bound here until :func:`release_port` (for a port picked long before its use)."""
    low = 32768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(10000, max(10001, low))
        sock = _bound(port)
        if sock is not None:
            break
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    if not hold:
        sock.close()
        return port
    with _held_lock:
        _held[port] = sock
    return port


def hold_port(port: int) -> bool:
    """Hold ``port`` again (a reserved version's port between two of its runs); False if it is in use."""
    with _held_lock:
        if port in _held:
            return True
        sock = _bound(port) or _bound(port, reuse=True)
        if sock is not None:
            _held[port] = sock
        return sock is not None


def release_port(port: int) -> None:
    """Let the process about to start (or nobody, at the end) bind ``port``."""
    with _held_lock:
        sock = _held.pop(port, None)
    if sock is not None:
        sock.close()


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class VersionProcess:
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
        if _port_in_use(port):
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

"""Loopback ports for the servers a deployment starts (versions, nginx, HAProxy, brokers, Prometheus).

A port is picked here and bound later by another process; between the two, nothing in the kernel stops
another run (an xdist worker, a parallel CI job of the same user) from picking the same one, and one of
the two servers then fails with "address already in use". Two defences, both needed:

* every pick is claimed machine-wide first: a file named after the port, created exclusively in a
  directory of this user's (``O_EXCL`` is atomic across processes); a claim younger than
  :data:`CLAIM_SECONDS` makes every other run pass over the port, so the window between a pick and its
  server's bind is covered whatever the server's socket options;
* a port picked long before its use (a canary's, when the router opens) is also held by a bound socket
  until :func:`release_port`, which renews the claim for the start that follows.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["CLAIM_SECONDS", "claim", "free_port", "hold_port", "port_in_use", "release_port"]

#: how long a claim keeps other runs off a port: longer than any server takes to bind the port it was given
CLAIM_SECONDS = 120.0

#: ports picked for a process not started yet, each held by a bound (not listening) socket of ours until
#: :func:`release_port`: any other bind fails meanwhile, SO_REUSEADDR or not
_held: dict[int, socket.socket] = {}
_held_lock = threading.Lock()
_rng = random.SystemRandom()


def _claims() -> Path | None:
    """This user's claim directory, or None where it cannot be made (the bind probe still applies)."""
    d = Path(tempfile.gettempdir()) / f"pytest-iotops-{os.getuid()}" / "ports"
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return d


def claim(port: int) -> bool:
    """Claim ``port`` for this run; False if another claim on it is younger than :data:`CLAIM_SECONDS`."""
    d = _claims()
    if d is None:
        return True
    path = d / str(port)
    for _ in range(2):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600))
        except FileExistsError:
            with contextlib.suppress(FileNotFoundError):
                if time.time() - path.lstat().st_mtime < CLAIM_SECONDS:
                    return False
                path.unlink()  # stale: its run is long gone or its server long bound
            continue
        except OSError:
            return True  # a directory we cannot write to: no claims, the bind probe still applies
        return True
    return False


def _renew(port: int) -> None:
    d = _claims()
    if d is not None:
        with contextlib.suppress(OSError):
            os.utime(d / str(port))


def _prune() -> None:
    """Drop stale claims now and then, so the directory stays as small as the ports in use."""
    d = _claims()
    if d is None:
        return
    cutoff = time.time() - CLAIM_SECONDS
    with contextlib.suppress(OSError), os.scandir(d) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)


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
    """A free, claimed port below the kernel's ephemeral range. Below it, because an ephemeral port could be
    handed meanwhile to one of the thousands of client connections a fleet test opens, and a client
    reconnecting to a stopped server could connect to itself. ``hold``: kept bound here until
    :func:`release_port` (for a port picked long before its use)."""
    low = 32768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    if _rng.random() < 1 / 64:
        _prune()
    for _ in range(200):
        port = _rng.randrange(10000, max(10001, low))
        if not claim(port):
            continue
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
    """Let the process about to start (or nobody, at the end) bind ``port``; its claim starts again, so no
    other run picks it before that process has bound it."""
    with _held_lock:
        sock = _held.pop(port, None)
    if sock is not None:
        sock.close()
        _renew(port)


def port_in_use(port: int) -> bool:
    """Something listens on ``port`` at 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0

"""What the nginx and HAProxy targets share: a real server binary started in the foreground from a private
temporary directory, stopped gracefully (then killed) with its directory removed, and a log of JSON lines read
incrementally into samples per version."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DeployError
from .judge import Samples
from .target import Target

__all__ = ["ServerTarget", "find_binary"]


def find_binary(name: str, configured: str | None = None) -> str:
    """``configured``, else PATH, else /usr/sbin (Debian installs servers there, outside a user's PATH)."""
    found = configured or shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found or not Path(found).exists():
        raise DeployError(
            f"the {name} target needs the {name} binary: not found on PATH or in /usr/sbin "
            f"(install it, e.g. `apt-get install {name}`, or set deploy.target_options.binary)"
        )
    return found


#: one log entry: the version it names (None: not a version's request) and the request's latency and failure
Entry = tuple[str | None, float, bool]


class ServerTarget(Target):
    """A target whose traffic splitter is a server process of its own."""

    #: the signal that makes the server stop accepting and finish the requests it holds
    graceful_stop: ClassVar[signal.Signals] = signal.SIGTERM

    def __init__(self, commands: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(commands, **kwargs)
        self.binary = find_binary(self.name, self.options.get("binary"))
        self.port = 0
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._offsets: dict[Path, int] = {}
        self._partial: dict[Path, bytes] = {}
        # servers are named s0, s1, ... in the generated configuration and the X-Iotops-Version header:
        # version names need not be valid identifiers there
        self._server = {version: f"s{i}" for i, version in enumerate(self.commands)}
        self._by_server = {server: version for version, server in self._server.items()}

    def version_of(self, tag: str) -> str | None:
        return self._by_server.get(tag)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def directory(self) -> Path:
        if self._dir is None:
            raise DeployError(f"the {self.name} target is not open")
        return self._dir

    def _make_directory(self) -> Path:
        if self._proc is not None:
            raise DeployError(f"this {self.name} target is already open")
        self._dir = Path(tempfile.mkdtemp(prefix=f"iotops-{self.name}-"))
        return self._dir

    def _spawn(self, argv: list[str], stdout: Path | None = None) -> None:
        """Start the server in its own process group; its stderr (and stdout, if given) go to files here."""
        with contextlib.ExitStack() as files:
            err = files.enter_context((self.directory / "stderr.log").open("wb"))
            out = files.enter_context(stdout.open("wb")) if stdout is not None else subprocess.DEVNULL
            self._proc = subprocess.Popen(
                [self.binary, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            code = None if self._proc is None else self._proc.returncode
            raise DeployError(f"{self.name} is not running (exit code {code}):\n{self.tail('stderr.log')}")
        return self._proc

    def tail(self, name: str, size: int = 1500) -> str:
        """The end of one of the server's files, for error messages."""
        try:
            return (self.directory / name).read_text(errors="replace")[-size:]
        except (OSError, DeployError):
            return ""

    def close_router(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, self.graceful_stop)
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self._proc.pid, signal.SIGKILL)
                    self._proc.wait()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)  # workers left in its group
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _read_log(self, path: Path, parse: Callable[[dict[str, Any]], Entry], what: str) -> dict[str, Samples]:
        """The log's complete JSON lines since the last call, as samples per version; other lines are skipped.

        An entry that does not parse is a failed measurement (:class:`DeployError`), never a silent gap."""
        try:
            with path.open("rb") as log:
                log.seek(self._offsets.get(path, 0))
                data = log.read()
        except OSError as exc:
            raise DeployError(f"{what} {path}: {exc.strerror}") from None
        self._offsets[path] = self._offsets.get(path, 0) + len(data)
        lines = (self._partial.get(path, b"") + data).split(b"\n")
        self._partial[path] = lines.pop()  # an incomplete last line waits for the next window
        latencies: dict[str, list[float]] = {}
        errors: dict[str, int] = {}
        for line in lines:
            if not line.startswith(b"{"):
                continue  # the server's own notices may share the stream
            try:
                version, ms, failed = parse(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise DeployError(f"{what} {path}: unreadable entry ({exc}): {line[:200]!r}") from None
            if version is not None:
                latencies.setdefault(version, []).append(ms)
                errors[version] = errors.get(version, 0) + int(failed)
        return {v: Samples(tuple(ms), errors.get(v, 0)) for v, ms in latencies.items()}

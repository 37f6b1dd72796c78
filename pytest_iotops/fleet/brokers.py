"""MQTT brokers on 127.0.0.1 behind one interface, like the deployment targets: ``embedded`` (amqtt, a broker
written in Python and installed with this package: nothing else to install) and ``mosquitto`` (Eclipse
Mosquitto, the broker most fleets run). Both run as processes in their own group on a free port, so a test can
restart one mid-rollout (a fault) and nothing outlives the rollout. Others come from the
``iotops_fleet_broker`` hook.
"""

from __future__ import annotations

import abc
import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy

from ..deploy.ports import free_port
from ..deploy.process import die_with_parent, kill_owned, stop_group
from ..deploy.server import find_binary
from ..errors import FleetError

__all__ = ["BROKER_CLASSES", "BUILTIN_BROKERS", "Broker", "EmbeddedBroker", "MosquittoBroker", "make_broker"]

BUILTIN_BROKERS = ("embedded", "mosquitto")


def broker_port() -> int:
    """A free port below the ephemeral range (see :func:`~pytest_iotops.deploy.ports.free_port`)."""
    return free_port()


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` has a socket listening on ``port`` (Linux /proc): a port that answers may belong
    to someone else."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    if not inodes:
        return False
    wanted = {f"socket:[{inode}]" for inode in inodes}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):  # a descriptor closed meanwhile (the listing's own, for one)
            if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                return True
    return False


class Broker(abc.ABC):
    """A broker process: ``start`` waits until it accepts connections, ``stop`` ends it and everything it
    started, ``restart`` keeps the port (clients reconnect to the same address)."""

    name = "broker"
    host = "127.0.0.1"

    def __init__(self, port: int | None = None, startup_timeout: float = 20.0) -> None:
        self.port = port or broker_port()
        self.startup_timeout = startup_timeout
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix=f"iotops-{self.name}-"))
        self._token = uuid.uuid4().hex

    @abc.abstractmethod
    def argv(self) -> list[str]:
        """The command that runs this broker on ``self.host:self.port`` (files may go in ``self._dir``)."""

    def start(self) -> None:
        """Started on its port, or on a new one when another process took the port first (a port is chosen
        before the broker binds it, so two brokers of parallel test workers can race for one): the listener
        must belong to our process, not merely answer."""
        if self.running():
            return
        for attempt in range(5):
            problem = self._start_once()
            if not problem:
                return
            self.stop()
            if attempt == 4 or self.restarts:  # a restart keeps its port: clients reconnect to that address
                raise FleetError(
                    f"the {self.name} broker could not serve {self.host}:{self.port}: {problem}\n{self.tail()}"
                )
            self.port = broker_port()

    def _start_once(self) -> str:
        log = self._dir / "broker.log"
        with log.open("wb") as out:  # each start its own log: an earlier attempt's error is not this one's
            self._proc = subprocess.Popen(
                self.argv(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "IOTOPS_OWNER": self._token},
                preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads start between fork and exec here
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return f"exited at start (code {self._proc.returncode})"
            if _listens(self._proc.pid, self.port):
                return ""
            if "address already in use" in self.tail().lower():  # amqtt stays up when its listener fails
                return "its port is taken"
            time.sleep(0.02)
        return f"not listening within {self.startup_timeout:g}s"

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_group(proc, grace)
        kill_owned(self._token)

    def restart(self) -> None:
        """A broker restart: every client loses its connection, and what the broker held in memory is gone."""
        self.stop()
        self.restarts += 1
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def tail(self, size: int = 1500) -> str:
        try:
            return (self._dir / "broker.log").read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EmbeddedBroker(Broker):
    """amqtt, started with this interpreter: MQTT 3.1.1, anonymous, 127.0.0.1 only, no $SYS topics."""

    name = "embedded"

    def argv(self) -> list[str]:
        if importlib.util.find_spec("amqtt") is None:
            raise FleetError(
                "the embedded MQTT broker needs amqtt: pip install 'pytest-iotops[fleet]' "
                '(or use broker = "mosquitto")'
            )
        config = self._dir / "amqtt.yaml"
        config.write_text(
            "listeners:\n  default:\n    type: tcp\n"
            f"    bind: {self.host}:{self.port}\n"
            "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: true\n",
            encoding="utf-8",
        )
        return [sys.executable, "-c", "from amqtt.scripts.broker_script import main; main()", "-c", str(config)]


class MosquittoBroker(Broker):
    """Eclipse Mosquitto with a generated configuration: one listener on 127.0.0.1, anonymous, no persistence
    (a restart loses sessions and queued messages, the harder case), no connection limit."""

    name = "mosquitto"

    def __init__(self, port: int | None = None, startup_timeout: float = 20.0, binary: str | None = None) -> None:
        self.binary = find_binary("mosquitto", binary)
        super().__init__(port, startup_timeout)

    def argv(self) -> list[str]:
        config = self._dir / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} {self.host}\nallow_anonymous true\npersistence false\nmax_connections -1\n"
            "max_queued_messages 100000\nmax_inflight_messages 0\nset_tcp_nodelay true\n"
            "log_dest stdout\nlog_type error\nlog_type warning\n",
            encoding="utf-8",
        )
        return [self.binary, "-c", str(config)]


#: the built-in brokers by name (what the ``iotops_fleet_broker`` hook of :mod:`.hooks` answers)
BROKER_CLASSES: dict[str, Callable[..., Broker]] = {"embedded": EmbeddedBroker, "mosquitto": MosquittoBroker}


def make_broker(name: str, pm: pluggy.PluginManager | None = None, **kwargs: Any) -> Broker:
    factory = pm.hook.iotops_fleet_broker(name=name) if pm is not None else BROKER_CLASSES.get(name)
    if factory is None:
        raise FleetError(
            f"unknown MQTT broker {name!r}: built in are {', '.join(BUILTIN_BROKERS)}; others come from plugins "
            "implementing the iotops_fleet_broker hook"
        )
    broker = factory(**kwargs)
    if not isinstance(broker, Broker):
        raise FleetError(f"broker {name!r} made a {type(broker).__name__}, not a pytest_iotops Broker")
    return broker

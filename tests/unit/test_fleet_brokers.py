"""Broker processes: a port taken by someone else is noticed (the listener must be ours, not merely answer),
ports come from below the ephemeral range, and a broker dies with the process that started it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from pytest_iotops.deploy.process import _alive as alive
from pytest_iotops.fleet.brokers import EmbeddedBroker, _listens, broker_port


def test_broker_ports_are_below_the_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert all(10000 <= broker_port() < low for _ in range(20))


def test_a_port_someone_else_listens_on_is_not_ours() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        assert _listens(os.getpid(), port)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            assert not _listens(child.pid, port)
        finally:
            child.kill()
            child.wait()


def test_the_broker_moves_to_another_port_when_its_port_was_taken() -> None:
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        port = broker_port()
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with EmbeddedBroker(port=port) as broker:
            assert broker.port != port
            assert broker._proc is not None
            assert _listens(broker._proc.pid, broker.port)


def test_a_broker_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    script = tmp_path / "start.py"
    script.write_text(
        "import time\nfrom pytest_iotops.fleet.brokers import EmbeddedBroker\n"
        "b = EmbeddedBroker(); b.start(); print(b._proc.pid, flush=True); time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    parent.kill()  # no clean-up runs: SIGKILL
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 15
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)

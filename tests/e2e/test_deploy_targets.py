"""What each target measures is what was sent: nginx's access log and HAProxy's log and stats are read back
against the load generator's own count; weights split traffic as asked; failures of the servers themselves
are clear errors; nothing outlives ``close()``."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_project
from deploy_service import ENV, alive, open_target, version

from pytest_iotops.deploy.haproxy import HAProxyTarget
from pytest_iotops.deploy.judge import Samples, merge
from pytest_iotops.deploy.load import Load
from pytest_iotops.deploy.nginx import NginxTarget
from pytest_iotops.deploy.targets import make_target
from pytest_iotops.errors import DeployError
from pytest_iotops.registry import plugin_manager

VERSIONS = {"v1": version("v1"), "v2": version("v2")}


def _settle(target: object, expected: int | None = None, timeout: float = 10.0) -> dict[str, Samples]:
    """Windows gathered until they hold ``expected`` requests (the last log lines land after the client has its
    answer), or for a quiet 0.3 s when the number is not known; never a fixed sleep before an exact count."""
    window: dict[str, Samples] = {}
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        more = target.window()  # type: ignore[attr-defined]
        for name, samples in more.items():
            window[name] = merge(window.get(name, Samples()), samples)
        total = sum(s.requests for s in window.values())
        if expected is not None and total >= expected:
            break
        quiet = quiet + 1 if not sum(s.requests for s in more.values()) else 0
        if expected is None and quiet >= 6:
            break
        time.sleep(0.05)
    return window


@pytest.mark.parametrize("name", ["local", "nginx", "haproxy"])
def test_every_request_is_counted_once_for_the_version_that_served_it(name: str) -> None:
    with contextlib.closing(open_target(name, VERSIONS)) as target:
        target.start("v1")
        target.start("v2")
        target.set_weights({"v1": 50, "v2": 50})
        target.window()
        with Load(target.url, rate=200, concurrency=8, paths=["/sensors/a"]) as load:
            time.sleep(1.5)
        window = _settle(target, load.result.requests)
        counted = sum(s.requests for s in window.values())
        assert counted == load.result.requests > 100
        assert window["v1"].errors == window["v2"].errors == 0
        split = window["v2"].requests / counted
        # HAProxy uses smooth weighted round robin; the local router and nginx (by $request_id) draw each request
        assert abs(split - 0.5) <= (0.02 if name == "haproxy" else 0.12), window
        if isinstance(target, HAProxyTarget):
            stats = target.stats()
            served = {v: sum(int(stats[v][f"hrsp_{k}xx"] or 0) for k in range(1, 6)) for v in ("v1", "v2")}
            assert served == {v: window[v].requests for v in ("v1", "v2")}  # its stats agree with its log


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def test_nginx_switches_every_new_request_without_a_reload_and_drains_open_connections() -> None:
    """The same workers before and after a switch (a reload would replace them and drop keep-alive clients);
    every request after set_weights goes to the new version; drain waits for a request in flight."""
    slow = {"v1": [*VERSIONS["v1"], "--extra-ms", "600"], "v2": VERSIONS["v2"]}
    with contextlib.closing(open_target("nginx", slow)) as target:
        assert isinstance(target, NginxTarget)
        target.start("v1")
        target.start("v2")
        target.set_weights({"v1": 100})
        workers = _children(target._proc.pid)
        with Load(target.url, rate=20, concurrency=4, paths=["/sensors/a"]) as held:
            time.sleep(0.2)  # a few requests on their way to v1, each held 600 ms
            target.window()
            target.set_weights({"v2": 100})
            started = time.monotonic()
            assert target.drain("v1")
            waited = time.monotonic() - started
        assert held.result.failures == 0
        assert waited > 0.1, "drain returned while v1 still held requests"
        target.window()
        with Load(target.url, rate=100, concurrency=4, paths=["/sensors/a"]):
            time.sleep(0.5)
        window = _settle(target)
        assert set(window) == {"v2"}, {v: s.requests for v, s in window.items()}
        assert _children(target._proc.pid) == workers


def test_haproxy_states_follow_the_versions_through_its_runtime_api() -> None:
    with contextlib.closing(open_target("haproxy", VERSIONS)) as target:
        assert isinstance(target, HAProxyTarget)
        assert {v: s["status"] for v, s in target.stats().items()} == {"v1": "MAINT", "v2": "MAINT"}
        target.start("v1")
        target.start("v2")
        target.set_weights({"v1": 100})
        assert [target.stats()[v]["weight"] for v in ("v1", "v2")] == ["100", "0"]
        target.set_weights({"v2": 100})
        assert target.drain("v1")
        assert target.stats()["v1"]["status"] == "DRAIN"
        target.stop("v1")
        assert {v: s["status"] for v, s in target.stats().items()} == {
            "v1": "MAINT",
            "v2": "no check",
        }  # ready, without health checks of its own


def test_an_unreadable_log_entry_is_a_measurement_error_naming_the_file() -> None:
    with contextlib.closing(open_target("nginx", VERSIONS)) as target:
        assert isinstance(target, NginxTarget)
        target.window()
        with target.access_log.open("ab") as log:
            log.write(b'{"msec": 1, "status": \n')
        with pytest.raises(DeployError, match=r"nginx access log .*access.log: unreadable entry"):
            target.window()


@pytest.mark.parametrize("name", ["nginx", "haproxy"])
def test_close_leaves_no_server_process_and_no_files(name: str) -> None:
    target = open_target(name, VERSIONS)
    target.start("v1")
    target.set_weights({"v1": 100})
    server = target._proc  # type: ignore[attr-defined]
    directory = target._dir  # type: ignore[attr-defined]
    version_pid = target.processes["v1"].proc.pid
    target.close()
    assert not alive(server.pid)
    assert not alive(version_pid)
    assert not Path(directory).exists()


def test_target_lookup_errors_are_clear() -> None:
    pm = plugin_manager(load_entrypoints=False)
    with pytest.raises(DeployError, match="unknown deploy target 'istio': built in are local, nginx, haproxy"):
        make_target("istio", pm, VERSIONS)
    with pytest.raises(DeployError, match=r"unknown key\(s\) \['wieght'\] for the nginx target"):
        make_target("nginx", pm, VERSIONS, options={"wieght": 1})
    with pytest.raises(DeployError, match="the haproxy target needs the haproxy binary"):
        make_target("haproxy", pm, VERSIONS, options={"binary": "/nonexistent/haproxy"})


def test_a_server_that_exits_at_start_is_a_clear_error_and_leaves_nothing() -> None:
    pm = plugin_manager(load_entrypoints=False)
    with pytest.raises(DeployError, match="workers must be a whole number >= 1"):
        make_target("nginx", pm, VERSIONS, options={"workers": 0})
    target = make_target("nginx", pm, VERSIONS, env=ENV, options={"binary": "/bin/false"})
    with pytest.raises(DeployError, match=r"nginx exited \(code 1\)"):
        target.open()
    assert target._proc is None  # type: ignore[attr-defined]
    assert target._dir is None  # type: ignore[attr-defined]
    ports = [p for p in (target.port_for(v) for v in VERSIONS) if p is not None]
    assert ports  # picked (and held) before nginx failed ...
    assert all(_bind_elsewhere(p, serve=True) for p in ports), ports  # ... and not held after it


PLUGIN_TARGET = """
import pytest_iotops
from pytest_iotops.deploy.local import LocalTarget

class CountingTarget(LocalTarget):
    name = "counting"
    routed = []

    def route(self, weights):
        CountingTarget.routed.append(dict(weights))
        super().route(weights)

class Plugin:
    @pytest_iotops.hookimpl
    def iotops_deploy_target(self, name):
        return CountingTarget if name == "counting" else None

def pytest_iotops_register(plugin_manager):
    plugin_manager.register(Plugin())
"""

PLUGIN_TEST = """
import pytest

@pytest.mark.e2e
def test_blue_green_on_a_plugin_target(iotops_blue_green):
    from conftest import CountingTarget
    assert iotops_blue_green.target.name == "counting"
    result = iotops_blue_green.deploy("v2")
    assert result.promoted and result.availability == 1.0, result.explain()
    assert CountingTarget.routed == [{"v1": 100}, {"v2": 100}]
"""


def test_a_third_party_target_plugs_in_through_the_hook(pytester: pytest.Pytester) -> None:
    commands = {v: version(v) for v in ("v1", "v2")}
    toml = "\n".join(f"{v} = {c!r}".replace("'", '"') for v, c in commands.items())
    make_project(
        pytester,
        f"""
[tool.iotops.deploy]
target = "counting"
stable = "v1"
keep_old_for = 0.1
env = {{ PYTHONPATH = "{ENV["PYTHONPATH"]}" }}
load = {{ rate = 50, concurrency = 4, paths = ["/sensors/a"] }}
[tool.iotops.deploy.versions]
{toml}
""",
        files={"conftest.py": PLUGIN_TARGET, "tests/e2e/test_plugin_target.py": PLUGIN_TEST},
    )
    result = pytester.runpytest_subprocess("--iotops", "--iotops-no-cov")
    result.assert_outcomes(passed=5)  # make_project's own four, and this one
    result.stdout.fnmatch_lines(["*test_plugin_target.py*", "blue-green v1 -> v2: switched*"])


@pytest.mark.parametrize("name", ["local", "nginx", "haproxy"])
def test_opening_twice_is_refused_instead_of_leaking_a_server(name: str) -> None:
    with (
        contextlib.closing(open_target(name, VERSIONS)) as target,
        pytest.raises(DeployError, match=f"this {name} target is already open"),
    ):
        target.open()


def _bind_elsewhere(port: int, serve: bool = False) -> bool:
    """Whether another process picking a free port (a plain bind, as every run's ``free_port`` probes) can take
    ``port`` now; ``serve``: whether a server (SO_REUSEADDR, through TIME_WAIT) can listen on it."""
    code = (
        "import socket, sys\n"
        "s = socket.socket()\n"
        "if sys.argv[2] == '1':\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "try:\n    s.bind(('127.0.0.1', int(sys.argv[1])))\n    s.listen()\nexcept OSError:\n    sys.exit(1)\n"
    )
    argv = [sys.executable, "-c", code, str(port), "1" if serve else "0"]
    return subprocess.run(argv, check=False, timeout=60).returncode == 0


@pytest.mark.parametrize("name", ["local", "nginx", "haproxy"])
def test_a_version_port_picked_in_advance_is_nobody_elses_until_the_version_starts(name: str) -> None:
    """The ports a router or a monitor is given before the versions start (the candidate's can be minutes before)
    stay held: another run picking a free port meanwhile cannot take one (the candidate then failed to start with
    'port already in use', seen under three xdist workers). Held again between a version's runs; free at close."""
    target = open_target(name, VERSIONS)
    try:
        ports = target.reserve_ports()
        assert set(ports) == {"v1", "v2"}
        assert not any(_bind_elsewhere(p) for p in ports.values()), ports
        target.start("v1")
        target.set_weights({"v1": 100})
        assert target.processes["v1"].port == ports["v1"]
        assert not _bind_elsewhere(ports["v2"])  # still held while v1 serves
        target.start("v2")
        assert target.processes["v2"].port == ports["v2"]
        target.stop("v2")
        assert not _bind_elsewhere(ports["v2"])  # held again: the next run of v2 gets it back
        target.start("v2")
        assert target.processes["v2"].port == ports["v2"]
    finally:
        target.close()
    assert all(_bind_elsewhere(p, serve=True) for p in ports.values()), ports

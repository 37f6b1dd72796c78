"""One fleet rollout from start to end: a broker (ours, or one given), device host processes, the controller on
the virtual clock, and the result. Everything started here is stopped here, on every exit path: hosts run in
their own process group with an owner token, and a host also exits when this process is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pluggy

from ..deploy.process import die_with_parent, kill_owned, stop_group
from ..errors import FleetError
from ..model.fleet import FleetWave
from .brokers import Broker, make_broker
from .controller import Rollout
from .driver import Driver
from .firmware import Firmware
from .policy import Policy
from .profile import FleetSpec, profiles
from .protocol import Topics
from .result import DeviceRecord, FleetResult

__all__ = ["rollout"]


def _hosts_for(devices: int) -> int:
    return 1 if devices <= 2500 else min(max(2, os.cpu_count() or 1), (devices + 2499) // 2500)


def _artifacts(directory: Path, builds: Sequence[Firmware]) -> dict[str, Any]:
    out = {}
    for fw in builds:
        path = directory / f"{fw.version}.bin"
        path.write_bytes(fw.data)
        out[fw.version] = {
            "path": str(path),
            "digest": fw.digest,
            "signature": fw.signature,
            "boot_loop_on": sorted(fw.boot_loop_on),
            "install_failure_rate": fw.install_failure_rate,
            "health_failure_rate": fw.health_failure_rate,
            "silent_rate": fw.silent_rate,
        }
    return out


def _run_async(coro: Any) -> None:
    """asyncio.run here, or in a thread when the caller already runs an event loop (an async test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="iotops-fleet")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def host_configs(
    run_id: str,
    n_hosts: int,
    broker: Any,
    spec: FleetSpec,
    old: Firmware,
    artifacts: dict[str, Any],
    key: bytes | None,
    directory: Path,
) -> list[dict[str, Any]]:
    """What each device-host process is told: its share of the fleet, the broker, the builds, where to write."""
    spec_doc = {
        "devices": spec.devices,
        "seed": spec.seed,
        "hardware": dict(spec.hardware),
        "faults": {
            k: (dict(v) if k == "power_loss" else list(v) if k == "power_loss_states" else v)
            for k, v in dataclasses.asdict(spec.faults).items()
        },
    }
    return [
        {
            "run": run_id,
            "host": h,
            "hosts": n_hosts,
            "broker": [broker.host, broker.port],
            "spec": spec_doc,
            "installed": old.version,
            "artifacts": artifacts,
            "key": key.hex() if key else None,
            "out": str(directory / f"state-{h}.json"),
        }
        for h in range(n_hosts)
    ]


class _Hosts:
    def __init__(self, directory: Path, configs: list[dict[str, Any]]) -> None:
        self.token = uuid.uuid4().hex
        self.procs: list[subprocess.Popen[bytes]] = []
        self.configs = configs
        for cfg in configs:
            path = directory / f"host-{cfg['host']}.json"
            path.write_text(json.dumps(cfg), encoding="utf-8")
            log = (directory / f"host-{cfg['host']}.log").open("wb")
            with log:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "pytest_iotops.fleet.host", str(path)],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        env={**os.environ, "IOTOPS_OWNER": self.token},
                        preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads start between fork and exec
                    )
                )
        self.directory = directory

    def check(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc.poll() is not None:
                raise FleetError(f"device host {i} exited (code {proc.returncode}):\n{self.tail(i)}")

    def tail(self, i: int) -> str:
        try:
            return (self.directory / f"host-{i}.log").read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def stop(self, grace: float = 30.0) -> None:
        """SIGTERM: each host writes its devices' final state and exits; SIGKILL after ``grace``. A host still
        starting (a short rollout on a loaded machine) is given until it can take the signal: SIGTERM before its
        handler is in place would end it without its state."""
        starting = time.monotonic() + grace
        for cfg, proc in zip(self.configs, self.procs, strict=False):
            ready = Path(f"{cfg['out']}.ready")
            while proc.poll() is None and not ready.exists() and time.monotonic() < starting:
                time.sleep(0.02)
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + grace
        for proc in self.procs:
            stop_group(proc, max(0.1, end - time.monotonic()), signalled=True)
        kill_owned(self.token)

    def states(self) -> list[dict[str, Any]]:
        out = []
        for cfg, proc in zip(self.configs, self.procs, strict=False):
            try:
                out.append(json.loads(Path(cfg["out"]).read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise FleetError(
                    f"device host {cfg['host']} left no final state (exit code {proc.returncode}; {exc}):\n"
                    f"{self.tail(cfg['host'])}"
                ) from None
        return out


def rollout(
    spec: FleetSpec,
    new: Firmware,
    old: Firmware,
    policy: Policy | None = None,
    broker: str | Broker = "embedded",
    *,
    hosts: int | None = None,
    clock: str = "virtual",
    speed: float = 1.0,
    restart_broker_at: Sequence[float] = (),
    key: bytes | None = None,
    deadline: float = 600.0,
    pm: pluggy.PluginManager | None = None,
    progress: Callable[[str], None] | None = None,
    name: str = "",
) -> FleetResult:
    """Roll ``new`` out to a fleet that runs ``old``, under ``policy``; the result says how it ended.
    ``restart_broker_at``: virtual times at which the broker is restarted (a fault)."""
    policy = policy or Policy()
    if clock not in ("virtual", "real"):
        raise FleetError(f"clock must be 'virtual' or 'real', not {clock!r}")
    if new.version == old.version:
        raise FleetError(f"the new firmware has the installed version {old.version!r}")
    n_hosts = hosts or _hosts_for(spec.devices)
    run_id = f"r{uuid.uuid4().hex[:10]}"
    directory = Path(tempfile.mkdtemp(prefix="iotops-fleet-"))
    owned = isinstance(broker, str)
    the_broker = make_broker(broker, pm) if isinstance(broker, str) else broker
    started = time.monotonic()
    host_procs: _Hosts | None = None
    try:
        the_broker.start()
        restarts_before = the_broker.restarts
        artifacts = _artifacts(directory, [old, new])
        configs = host_configs(run_id, n_hosts, the_broker, spec, old, artifacts, key, directory)
        fleet = profiles(spec)
        plan = Rollout(
            policy, [(p.device, p.hardware, p.index % n_hosts) for p in fleet], old.version, new.version, spec.seed
        )
        host_procs = _Hosts(directory, configs)
        driver = Driver(
            plan,
            Topics(run_id),
            (the_broker.host, the_broker.port),
            n_hosts,
            run_id,
            clock,
            speed,
            restart_broker_at,
            the_broker.restart,
            deadline,
            progress,
        )
        try:
            _run_async(_watched(driver, host_procs))
        finally:
            host_procs.stop()
        states = host_procs.states()
        return _result(
            name,
            the_broker,
            plan,
            driver,
            states,
            spec,
            time.monotonic() - started,
            the_broker.restarts - restarts_before,
            n_hosts,
        )
    finally:
        if host_procs is not None:
            host_procs.stop(grace=5.0)
        if owned:
            the_broker.close()
        shutil.rmtree(directory, ignore_errors=True)


async def _watched(driver: Driver, hosts: _Hosts) -> None:
    """The driver, stopped with the hosts' output if a host process dies under it."""
    task = asyncio.get_running_loop().create_task(driver.run())
    while not task.done():
        await asyncio.wait({task}, timeout=0.5)
        if not task.done():
            try:
                hosts.check()
            except FleetError:
                while not task.done():  # again if the cancellation was swallowed (3.11's wait_for can)
                    task.cancel()
                    await asyncio.wait({task}, timeout=1.0)
                with contextlib.suppress(asyncio.CancelledError):
                    task.result()
                raise
    task.result()


def _result(
    name: str,
    broker: Broker,
    plan: Rollout,
    driver: Driver,
    states: list[dict[str, Any]],
    spec: FleetSpec,
    wall: float,
    restarts: int,
    n_hosts: int,
) -> FleetResult:
    own: dict[str, dict[str, Any]] = {}
    lost_commands = peak_kb = 0
    for s in states:
        own.update(s["devices"])
        lost_commands += int(s.get("lost_commands", 0))
        peak_kb = max(peak_kb, int(s.get("peak_kb", 0)))
    records = {}
    for d, view in plan.views.items():
        state = own.get(d, {})
        records[d] = DeviceRecord(
            device=d,
            hardware=view.hardware,
            wave=view.wave + 1,
            outcome=view.phase,
            reason=view.reason,
            attempts=view.attempt + 1 if view.phase != "pending" else 0,
            before=plan.old,
            during=list(view.versions),
            after=str(state.get("running", "")),
            view=view.running(),
            rollback=view.rollback,
            silent=bool(state.get("silent")),
            late=view.late,
            state={k: v for k, v in state.items() if k != "timeline"},
            view_state=dict(view.snapshot),
            timeline=[list(e) for e in state.get("timeline", [])],
        )
    waves = []
    for w in sorted({r.wave for r in records.values() if r.wave > 0}):
        c = Counter(r.outcome for r in records.values() if r.wave == w)
        waves.append(
            FleetWave(
                w,
                sum(c.values()),
                c["succeeded"],
                c["failed"],
                c["timed_out"],
                c["rejected"],
                c["canceled"],
                c["pending"] + c["notified"] + c["in_progress"],
            )
        )
    return FleetResult(
        name=name,
        broker=broker.name,
        old=plan.old,
        new=plan.new,
        seed=spec.seed,
        policy=plan.policy.source,
        outcome=plan.outcome or "unfinished",
        devices=records,
        waves=waves,
        decisions=plan.decisions,
        virtual_seconds=driver.stats.virtual_seconds,
        wall_seconds=wall,
        ticks=driver.stats.ticks,
        lost_reports=driver.stats.lost_reports,
        lost_commands=lost_commands,
        resent_ticks=driver.stats.resent_ticks,
        duplicates=plan.duplicates,
        malformed=driver.stats.malformed,
        broker_restarts=restarts,
        told_all_seconds=driver.stats.told_all_seconds,
        host_peak_kb=peak_kb,
        hosts=n_hosts,
    )

"""A device host: a process that runs a share of the fleet (devices ``index % hosts == host``), one MQTT
connection per device, and keeps the virtual clock with the controller.

On each clock message (time T, and how many commands the controller sent to this host so far) it waits until
those commands arrived, runs every device's events up to T, publishes their reports through each device's own
connection, and answers with how many reports it sent and when its next event is. Only devices with an event
due are touched, so a tick costs what happens in it, not the fleet's size.

Run as ``python -m pytest_iotops.fleet.host CONFIG.json``; it exits on SIGTERM (how the rollout ends it) or
when its parent dies, and writes every device's final state (the ground truth the controller's view is checked
against) to the file the configuration names.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

from .device import Device
from .firmware import Firmware
from .link import Link
from .profile import DeviceFaults, FleetFaults, FleetSpec, profiles
from .protocol import Topics, encode, parse_command, parse_tick

__all__ = ["Host", "main"]

GRACE = 5.0  # seconds of real time to wait for commands a lost message will never bring


def load_artifacts(doc: dict[str, Any]) -> dict[str, Firmware]:
    out = {}
    for version, a in doc.items():
        out[version] = Firmware(
            version=version,
            data=Path(a["path"]).read_bytes(),
            digest=a["digest"],
            signature=a.get("signature", ""),
            boot_loop_on=frozenset(a.get("boot_loop_on", ())),
            install_failure_rate=a.get("install_failure_rate", 0.0),
            health_failure_rate=a.get("health_failure_rate", 0.0),
            silent_rate=a.get("silent_rate", 0.0),
        )
    return out


class Host:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.index, self.hosts = int(cfg["host"]), int(cfg["hosts"])
        self.topics = Topics(cfg["run"])
        self.broker = (cfg["broker"][0], int(cfg["broker"][1]))
        s = cfg["spec"]
        spec = FleetSpec(s["devices"], s["seed"], s["hardware"], FleetFaults(**s["faults"]))
        artifacts = load_artifacts(cfg["artifacts"])
        key = bytes.fromhex(cfg["key"]) if cfg.get("key") else None
        self.devices = {
            p.device: Device(p, cfg["installed"], artifacts, spec.seed, key)
            for p in profiles(spec)
            if p.index % self.hosts == self.index
        }
        self.t = 0.0
        self.tick = -1
        self.received = 0
        self.published = 0
        self.lost_commands = 0
        self.malformed = 0
        self.heap: list[tuple[float, str]] = []
        self.held: dict[str, tuple[int, bytes]] = {}  # reports held back (reorder fault), with their tick
        self.links: dict[str, Link] = {}
        self.arrived = asyncio.Event()
        self.ticks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._sem = asyncio.Semaphore(256)
        #: set by SIGTERM/SIGINT besides cancelling the task: on Python 3.11 ``asyncio.wait_for`` can swallow a
        #: cancellation that meets its timeout, and the host must still end with its state written
        self.stopping = False

    # -- messages -----------------------------------------------------------------------------------------------
    def _on_command(self, device: str, topic: str, payload: bytes) -> None:
        self.received += 1
        self.arrived.set()
        message = parse_command(payload)
        if isinstance(message, str):
            self.malformed += 1
            return
        d = self.devices[device]
        d.receive(message, self.t)
        self._schedule(d)

    def _on_clock(self, topic: str, payload: bytes) -> None:
        doc = parse_tick(payload)
        if isinstance(doc, str):
            self.malformed += 1  # a tick the host cannot read is not one: the controller sends it again
        else:
            self.ticks.put_nowait(doc)

    def _schedule(self, d: Device) -> None:
        t = d.next_time()
        if t is not None:
            heapq.heappush(self.heap, (t, d.p.device))

    async def _send(self, device: str, report: dict[str, Any]) -> None:
        faults: DeviceFaults = self.devices[device].p.faults
        payload = encode(report)
        batch = [payload]
        if faults.reorder:
            held = self.held.pop(device, None)
            if held is None:
                self.held[device] = (self.tick, payload)  # sent after the device's next report, or a tick later
                return
            batch = [payload, held[1]]
        if faults.duplicate:
            batch = [p for p in batch for _ in range(2)]
        self.published += len(batch)
        async with self._sem:
            for p in batch:
                await self.links[device].publish(self.topics.report(device), p)

    async def _flush_held(self) -> None:
        """Reports held since an earlier tick go now: a reordered message arrives late, not never."""
        due = {d: p for d, (tick, p) in self.held.items() if tick < self.tick}
        for d in due:
            del self.held[d]
        self.published += len(due)
        await asyncio.gather(*(self.links[d].publish(self.topics.report(d), p) for d, p in due.items()))

    async def _status_on_reconnect(self, device: str) -> None:
        link = self.links[device]
        if link.connects > 1:  # after a broker restart: say where it is, as devices do on reconnecting
            d = self.devices[device]
            d.receive({"kind": "status"}, self.t)
            self._schedule(d)

    # -- the clock ----------------------------------------------------------------------------------------------
    async def _on_tick(self, doc: dict[str, Any]) -> None:
        if doc["tick"] <= self.tick:
            await self._ack()  # a tick sent again (our answer was lost): answer again
            return
        expected = int(doc.get("sent", {}).get(str(self.index), 0)) - self.lost_commands
        deadline = time.monotonic() + GRACE
        while self.received < expected and time.monotonic() < deadline and not self.stopping:
            self.arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 0.05)
        if self.received < expected:
            self.lost_commands += expected - self.received
        self.tick, self.t = doc["tick"], float(doc["t"])
        sends = []
        while self.heap and self.heap[0][0] <= self.t:
            _, name = heapq.heappop(self.heap)
            d = self.devices[name]
            nxt = d.next_time()
            if nxt is None or nxt > self.t:
                if nxt is not None:
                    heapq.heappush(self.heap, (nxt, name))
                continue
            for report in d.advance(self.t):
                sends.append(self._send(name, report))
            self._schedule(d)
        await asyncio.gather(*sends)
        await self._flush_held()
        await self._ack()

    async def _ack(self) -> None:
        nxt = self.heap[0][0] if self.heap else None
        if self.held:
            nxt = self.t if nxt is None else min(nxt, self.t)
        await self.control.publish(
            self.topics.ack(self.index),
            encode(
                {
                    "host": self.index,
                    "tick": self.tick,
                    "t": self.t,
                    "reports": self.published,
                    "received": self.received,
                    "next": nxt,
                }
            ),
        )

    async def run(self) -> None:
        host, port = self.broker
        self.control = Link(
            host,
            port,
            f"{self.cfg['run']}-host-{self.index}",
            [self.topics.clock],
            self._on_clock,
        )
        self.control.start()
        for name in self.devices:
            self.links[name] = Link(
                host,
                port,
                f"{self.cfg['run']}-{name}",
                [self.topics.command(name)],
                functools.partial(self._on_command, name),
                on_connect=functools.partial(self._status_on_reconnect, name),
            )
        for i, link in enumerate(self.links.values()):
            link.start()
            if i % 200 == 199:
                await asyncio.sleep(0)  # let connections complete instead of opening thousands at once
        await self.control.connected.wait()
        for link in self.links.values():
            await link.connected.wait()
        parent = os.getppid()
        ready_sent = 0.0
        while not self.stopping:
            if os.getppid() != parent:
                return  # the controller's process is gone: so are we
            if self.tick < 0 and time.monotonic() - ready_sent > 1.0:
                ready_sent = time.monotonic()
                await self._ack()  # tick -1: connected and ready
            try:
                doc = await asyncio.wait_for(self.ticks.get(), 0.5)
            except asyncio.TimeoutError:
                continue
            await self._on_tick(doc)

    def write_state(self, path: Path) -> None:
        state = {
            name: {
                **d.snapshot(),
                "hardware": d.p.hardware,
                "bricked": d.bricked,
                "unbootable_slots": d.unbootable_slots(),
                "silent": d.silent,
                "timeline": d.timeline,
            }
            for name, d in self.devices.items()
        }
        doc = {
            "devices": state,
            "received": self.received,
            "published": self.published,
            "lost_commands": self.lost_commands,
            "malformed": self.malformed,
            "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        tmp.replace(path)

    async def close(self) -> None:
        await asyncio.gather(*(link.close() for link in [*self.links.values(), self.control]))


async def _main(cfg: dict[str, Any]) -> None:
    host = Host(cfg)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def stop() -> None:
        host.stopping = True
        if task is not None:
            task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    Path(f"{cfg['out']}.ready").touch()  # from here a SIGTERM ends it with its state written
    try:
        await host.run()
    finally:
        host.write_state(Path(cfg["out"]))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(host.close(), 5.0)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cfg = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # three descriptors per device connection
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(_main(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())

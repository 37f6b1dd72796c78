"""One device's A/B update machine, pure: no sockets, no clock of its own. The host feeds it messages and asks it
to advance to a virtual time; it answers with the reports it sent. Everything it draws comes from its own seeded
generator, so the same seed gives the same timeline.

idle → downloading → installing (inactive slot) → rebooting → verifying (boot counter, health check) →
committed | rolled back → reports. The bootloader follows U-Boot's bootcount / RAUC's try-boot: a new slot is
booted at most ``BOOT_TRIES`` times, then the active slot boots again. The active slot is never written, which
is why a power loss anywhere leaves a bootable device.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Mapping
from typing import Any

from ..values import Value, record
from .firmware import Firmware
from .profile import DeviceProfile

__all__ = ["BOOT_TRIES", "DOWNLOAD_TRIES", "Device", "Slot"]

BOOT_TRIES = 3
DOWNLOAD_TRIES = 3


@record
class Slot(Value):
    version: str = ""
    ok: bool = False  # a complete image whose digest was checked


class Device:
    def __init__(
        self,
        profile: DeviceProfile,
        installed: str,
        artifacts: Mapping[str, Firmware],
        seed: int = 0,
        key: bytes | None = None,
    ) -> None:
        self.p = profile
        self.artifacts = artifacts
        self.key = key
        self.seed = seed
        self.rng = random.Random(f"device:{seed}:{profile.index}")
        self.slots = {"a": Slot(installed, True), "b": Slot()}
        self.active = self.running = "a"
        self.try_slot = ""
        self.tries_left = 0
        self.boot_id = 1
        self.state = "idle"
        self.stage = ""
        self.job: dict[str, Any] | None = None
        self.last_job = ""
        self.seq = 0
        self.silent = False
        self.now = 0.0
        self.outbox: list[dict[str, Any]] = []
        self.timeline: list[tuple[float, str, str]] = [(0.0, "idle", installed)]
        self.bricked = False
        self._events: list[tuple[float, int, int, str, Any]] = []
        self._n = 0
        self._epoch = 0
        self._queued: list[dict[str, Any]] = []  # messages the broker holds while the device is off
        self._power_done = False
        self._downloads = 0
        self._fell_back = ""  # why the bootloader went back to the active slot, if it did
        self._seen_jobs: set[str] = set()
        self._spontaneous = 0

    # -- the host's interface ----------------------------------------------------------------------------------
    def receive(self, message: dict[str, Any], now: float) -> None:
        """A command from the controller, delivered at ``now``; handled one link latency later."""
        if self.silent:
            return
        if self.state == "off":
            self._queued.append(message)
            return
        self._at(now + self.p.latency, "command", message)

    def advance(self, until: float) -> list[dict[str, Any]]:
        """Run every event up to ``until``; the reports sent meanwhile."""
        while self._events and self._events[0][0] <= until:
            t, _, epoch, kind, payload = heapq.heappop(self._events)
            if epoch != self._epoch and kind != "power_on":
                continue
            self.now = t
            getattr(self, f"_on_{kind}")(payload)
        self.now = max(self.now, until)
        out, self.outbox = self.outbox, []
        return out

    def next_time(self) -> float | None:
        live = [e[0] for e in self._events if e[2] == self._epoch or e[3] == "power_on"]
        return min(live) if live else None

    def version(self) -> str:
        return self.slots[self.running].version

    def snapshot(self) -> dict[str, Any]:
        """What the device itself would say about its state (the ground truth the controller's view is held to)."""
        return {
            "running": self.version(),
            "active": self.slots[self.active].version,
            "boot_id": self.boot_id,
            "state": self.state,
            "slots": {name: [s.version, s.ok] for name, s in sorted(self.slots.items())},
        }

    def unbootable_slots(self) -> int:
        return sum(1 for name in self.slots if not self._boots(name))

    # -- events -------------------------------------------------------------------------------------------------
    def _at(self, t: float, kind: str, payload: Any = None) -> None:
        self._n += 1
        heapq.heappush(self._events, (t, self._n, self._epoch, kind, payload))

    def _enter(self, state: str, duration: float = 0.0, note: str = "") -> None:
        self.state = state
        if state in ("downloading", "installing", "rebooting", "verifying"):
            self.stage = state
        self.timeline.append((round(self.now, 3), state, note))
        f = self.p.faults
        if f.power_loss_at == state and not self._power_done and self.job is not None:
            self._power_done = True
            self._at(self.now + duration * f.power_loss_offset, "power_off", state)

    def _report(self, status: str, reason: str = "") -> None:
        if self.silent:
            return
        self.seq += 1
        job = self.job or {}
        self.outbox.append(
            {
                "device": self.p.device,
                "seq": self.seq,
                "t": round(self.now + self.p.skew, 3),  # the device's own clock: skewed
                "job": job.get("job", self.last_job),
                "status": status,
                "stage": self.stage,
                "reason": reason,
                **self.snapshot(),
            }
        )

    def _draw(self, what: str, rate: float) -> bool:
        """Per device and build, not per attempt: the same device fails the same build again."""
        if rate <= 0.0:
            return False
        version = (self.job or {}).get("version", "")
        return random.Random(f"{what}:{self.seed}:{self.p.index}:{version}").random() < rate

    def _firmware(self) -> Firmware:
        assert self.job is not None
        return self.artifacts[self.job["version"]]

    def _on_command(self, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "cancel":
            self._cancel(message)
        elif kind == "status":
            self._report("status")
        elif kind in ("update", "rollback"):
            self._start(message)

    def _start(self, job: dict[str, Any]) -> None:
        key = f"{job.get('job')}#{job.get('attempt', 0)}"
        if key in self._seen_jobs:
            if self.job is None:
                self._report("status")  # a job delivered again after it ended: say where it ended
            return
        self._seen_jobs.add(key)
        if self.job is not None:
            if job.get("job") != self.job.get("job"):
                self._report("rejected", f"busy with job {self.job.get('job')}")
            return  # the same job delivered twice: already running it
        if job.get("version") not in self.artifacts:
            self.last_job = str(job.get("job", ""))
            self._report("failed", f"unknown version {job.get('version')!r}")
            return
        self.job, self.last_job, self._downloads, self._fell_back = job, str(job["job"]), 0, ""
        self._spontaneous = 0
        self.stage = "downloading"
        self._report("in_progress")
        if self._draw("silent", self._firmware().silent_rate):
            self.silent = True  # its network stack dies: it goes on, unheard
        self._enter("idle", note=f"job {job['job']} for {job['version']}")  # a power loss here comes at once
        inactive = self._inactive()
        slot = self.slots[inactive]
        if job.get("kind") == "rollback" and slot.version == job["version"] and slot.ok:
            self._try_boot(inactive)  # the previous version is still in the other slot: switch back to it
            return
        self._download()

    def _inactive(self) -> str:
        return "b" if self.active == "a" else "a"

    def _download(self) -> None:
        fw = self._firmware()
        f = self.p.faults
        seconds = fw.size / self.p.bandwidth / (1.0 - self.p.loss) * f.slow + 2 * self.p.latency
        if f.partition and self._downloads == 0:
            seconds += self.rng.uniform(60, 600)  # the link is gone for a while; the transfer resumes
        self._enter("downloading", seconds)
        self._at(self.now + seconds, "downloaded")

    def _on_downloaded(self, _: Any) -> None:
        fw = self._firmware()
        data = fw.data
        if self.p.faults.partial_download and self._downloads == 0:
            data = data[: int(len(data) * self.p.faults.power_loss_offset)]
        self._downloads += 1
        problem = fw.verify(data, self.key)
        if not problem:
            self._install()
        elif self._downloads < DOWNLOAD_TRIES:
            self._at(self.now + 30.0, "retry_download")
        else:
            self._fail(f"download: {problem} after {self._downloads} tries")

    def _on_retry_download(self, _: Any) -> None:
        self._download()

    def _install(self) -> None:
        fw = self._firmware()
        inactive = self._inactive()
        self.slots[inactive] = Slot(fw.version, False)  # being written: not bootable until checked
        seconds = fw.size / self.p.flash_rate
        self.stage = "installing"
        self._report("in_progress")
        self._enter("installing", seconds, f"slot {inactive}")
        self._at(self.now + seconds, "installed", inactive)

    def _on_installed(self, slot: str) -> None:
        if self._draw("install", self._firmware().install_failure_rate):
            self._fail(f"install into slot {slot} failed (write error)")
            return
        self.slots[slot].ok = True
        if self.p.faults.fake_success:
            # the drift of hawkbit#3185: success claimed from the install, never booted
            job = self.job
            self.job, self.state = None, "idle"
            self.timeline.append((round(self.now, 3), "idle", f"claimed success for {job and job['version']}"))
            self._report("succeeded")
            return
        self._try_boot(slot)

    def _try_boot(self, slot: str) -> None:
        self.try_slot, self.tries_left = slot, BOOT_TRIES
        self.stage = "rebooting"
        self._report("in_progress")
        self._reboot()

    def _reboot(self) -> None:
        self._enter("rebooting", self.p.reboot_seconds)
        self._at(self.now + self.p.reboot_seconds, "booted")

    def _boots(self, slot: str) -> bool:
        s = self.slots[slot]
        fw = self.artifacts.get(s.version)
        return s.ok and not (fw is not None and self.p.hardware in fw.boot_loop_on)

    def _on_booted(self, _: Any) -> None:
        """The bootloader: the slot on trial while tries are left, else the active slot."""
        self.boot_id += 1
        if self.try_slot and self.tries_left > 0:
            self.tries_left -= 1
            slot = self.try_slot
        else:
            if self.try_slot:
                self._fell_back = f"{self.slots[self.try_slot].version} did not boot in {BOOT_TRIES} tries"
            self.try_slot, slot = "", self.active
        if not self._boots(slot):
            if slot == self.active:
                self.bricked = True  # never expected: the active slot is never written
                self._enter("bricked")
                return
            self._reboot()  # the watchdog resets a board that does not come up
            return
        self.running = slot
        self._after_boot()

    def _after_boot(self) -> None:
        job = self.job
        if job is None:
            self._enter("idle", note=f"booted {self.version()}")
            self._report("status")
            return
        if self.running == self.try_slot:
            self._verify()
        elif self._fell_back:
            self._fail(f"rolled back: {self._fell_back}")
        elif self.slots[self.active].version == job["version"]:
            self._succeed()  # power went after the commit, before the report
        else:
            self._report("in_progress")  # an interrupted download or install starts over
            self._download()

    def _verify(self) -> None:
        seconds = self.p.health_seconds
        self._enter("verifying", seconds)
        if self.p.faults.reboot_loop > self._spontaneous and self.tries_left > 0:
            self._spontaneous += 1
            self._at(self.now + seconds / 2, "spontaneous_reboot")
            return
        self._at(self.now + seconds, "verified")

    def _on_spontaneous_reboot(self, _: Any) -> None:
        self._reboot()

    def _on_verified(self, _: Any) -> None:
        if self._draw("health", self._firmware().health_failure_rate):
            self.slots[self.running].ok = False
            self.try_slot = ""
            self._fell_back = f"{self.version()} failed its health check"
            self._enter("rebooting", self.p.reboot_seconds, "health check failed")
            self._at(self.now + self.p.reboot_seconds, "booted")
            return
        self.active, self.try_slot = self.running, ""  # the commit: the bootloader's environment, written once
        self._enter("committing")
        self._at(self.now, "committed")

    def _on_committed(self, _: Any) -> None:
        self._succeed()

    def _succeed(self) -> None:
        self.stage = "committed"
        self.job = None
        self._enter("idle", note=f"runs {self.version()}")
        self._report("succeeded")

    def _fail(self, reason: str) -> None:
        self.job = None
        self._enter("idle", note=reason)
        self._report("failed", reason)

    def _cancel(self, message: dict[str, Any]) -> None:
        if self.job is None or message.get("job") != self.job.get("job"):
            return
        if self.state in ("downloading", "idle") or self.state == "installing":
            self._epoch += 1  # what was scheduled for the job is void
            if self.state == "installing":
                self.slots[self._inactive()].ok = False
            self.job = None
            self._enter("idle", note="canceled")
            self._report("canceled")
        # rebooting or verifying: the bootloader has the slot on trial; the job ends on its own

    def _on_power_off(self, state: str) -> None:
        if self.state == "installing":
            self.slots[self._inactive()].ok = False  # a half-written slot
        self._epoch += 1
        self._enter("off", note=f"power lost while {state}")
        self._at(self.now + self.p.outage_seconds, "power_on")

    def _on_power_on(self, _: Any) -> None:
        self._epoch += 1
        self.state = "booting"
        self._on_booted(None)
        queued, self._queued = self._queued, []
        for message in queued:
            self._at(self.now + self.p.latency, "command", message)

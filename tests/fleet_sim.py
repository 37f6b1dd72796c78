"""The controller and the devices wired directly, without a broker: the reference loop the MQTT driver follows
(tick, deliver, advance, apply in a fixed order, step), for fast tests of the controller's decisions."""

from __future__ import annotations

from pytest_iotops.fleet.controller import Rollout
from pytest_iotops.fleet.device import Device
from pytest_iotops.fleet.firmware import Firmware
from pytest_iotops.fleet.policy import Policy
from pytest_iotops.fleet.profile import FleetSpec, profiles


def simulate(
    policy: Policy, spec: FleetSpec, new: Firmware, old: Firmware, limit: float = 30 * 24 * 3600
) -> tuple[Rollout, dict[str, Device]]:
    fleet = profiles(spec)
    devices = {p.device: Device(p, old.version, {old.version: old, new.version: new}, spec.seed) for p in fleet}
    rollout = Rollout(policy, [(p.device, p.hardware, 0) for p in fleet], old.version, new.version, spec.seed)
    t = 0.0
    while t < limit:
        reports = [r for d in devices.values() for r in d.advance(t)]
        for report in sorted(reports, key=lambda r: (r["device"], r["seq"])):
            rollout.apply(report, t)
        commands = rollout.step(t)
        for device, message in commands:
            devices[device].receive(message, t)
        if commands:
            continue
        times = [x for x in (d.next_time() for d in devices.values()) if x is not None]
        times += [x for x in (rollout.next_deadline(), rollout.next_release(t)) if x is not None]
        if rollout.done and not any(d.next_time() is not None for d in devices.values()):
            break
        t = max(t + policy.resolution, min(times)) if times else t + policy.resolution
    return rollout, devices

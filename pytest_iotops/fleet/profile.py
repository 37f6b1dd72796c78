"""Who the devices are: hardware class, link quality, timings, clock skew and the faults a test injects, all
drawn from the fleet's seed so the same seed gives the same fleet (and the same per-device timeline).

A device's draws use its own ``random.Random(f"{seed}:{device}")``: adding devices or faults to a fleet does
not change the devices already in it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import field

from ..values import FrozenValue, record

__all__ = ["STATES", "DeviceFaults", "DeviceProfile", "FleetFaults", "FleetSpec", "device_id", "profiles"]

#: the states of the device's update machine where power can be lost ("committing": the new slot is marked
#: good but the report has not left the device)
STATES = ("idle", "downloading", "installing", "rebooting", "verifying", "committing")


@record(frozen=True)
class DeviceFaults(FrozenValue):
    power_loss_at: str = ""  # one of STATES, or no power loss
    power_loss_offset: float = 0.5  # where in that state (for installing: the share of the slot written)
    partition: bool = False  # the link drops mid-download for a while
    partial_download: bool = False  # the first download stops short (a truncated artifact)
    slow: float = 1.0  # download time factor
    duplicate: bool = False  # every report is sent twice
    reorder: bool = False  # reports leave in the wrong order (a held message is sent after the next one)
    fake_success: bool = False  # reports success after the install, without rebooting (hawkbit#3185 drift)
    reboot_loop: int = 0  # spontaneous reboots while verifying before it settles


@record(frozen=True)
class DeviceProfile(FrozenValue):
    device: str
    index: int
    hardware: str
    latency: float  # seconds one way
    loss: float  # share of packets lost on the link (stretches downloads)
    bandwidth: float  # bytes per second
    flash_rate: float  # bytes per second written to a slot
    reboot_seconds: float
    health_seconds: float
    outage_seconds: float  # how long a power loss lasts
    skew: float  # the device clock's offset from the controller's, seconds
    faults: DeviceFaults = DeviceFaults()


@record(frozen=True)
class FleetFaults(FrozenValue):
    """Shares of the fleet that meet each device fault. ``power_loss`` by state; ``power_loss_states`` spreads
    ``power_loss_share`` over several states (each affected device loses power in one of them, round robin), so
    one rollout exercises power loss at every state."""

    power_loss: Mapping[str, float] = field(default_factory=dict)
    power_loss_share: float = 0.0
    power_loss_states: Sequence[str] = ()
    partition: float = 0.0
    partial_download: float = 0.0
    slow: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    fake_success: float = 0.0
    reboot_loop: float = 0.0

    def __post_init__(self) -> None:
        for state in [*self.power_loss, *self.power_loss_states]:
            if state not in STATES:
                raise ValueError(f"power loss at {state!r}: the states are {', '.join(STATES)}")
        shares = {f"power_loss.{k}": v for k, v in self.power_loss.items()}
        for name in (
            "power_loss_share",
            "partition",
            "partial_download",
            "slow",
            "duplicate",
            "reorder",
            "fake_success",
            "reboot_loop",
        ):
            shares[name] = getattr(self, name)
        for name, share in shares.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"fleet fault {name} must be a share between 0 and 1, not {share}")


@record(frozen=True)
class FleetSpec(FrozenValue):
    devices: int
    seed: int = 0
    hardware: Mapping[str, float] = field(default_factory=lambda: {"A": 0.7, "B": 0.2, "C": 0.1})
    faults: FleetFaults = FleetFaults()

    def __post_init__(self) -> None:
        if self.devices < 1:
            raise ValueError("a fleet needs at least one device")
        if not self.hardware or any(w < 0 for w in self.hardware.values()) or sum(self.hardware.values()) <= 0:
            raise ValueError("hardware: a mix of classes with non-negative weights, at least one positive")


def device_id(index: int) -> str:
    return f"dev-{index:05d}"


def _faults(rng: random.Random, faults: FleetFaults, index: int) -> DeviceFaults:
    def hit(share: float) -> bool:
        return rng.random() < share  # always drawn, so one fault's share never shifts another's draws

    power = ""
    for state, share in sorted(faults.power_loss.items()):
        if hit(share) and not power:
            power = state
    if hit(faults.power_loss_share) and faults.power_loss_states and not power:
        power = faults.power_loss_states[index % len(faults.power_loss_states)]
    return DeviceFaults(
        power_loss_at=power,
        power_loss_offset=rng.uniform(0.05, 0.95),
        partition=hit(faults.partition),
        partial_download=hit(faults.partial_download),
        slow=rng.uniform(3.0, 10.0) if hit(faults.slow) else 1.0,
        duplicate=hit(faults.duplicate),
        reorder=hit(faults.reorder),
        fake_success=hit(faults.fake_success),
        reboot_loop=rng.randint(1, 3) if hit(faults.reboot_loop) else 0,
    )


def profiles(spec: FleetSpec) -> list[DeviceProfile]:
    classes = sorted(spec.hardware)
    weights = [spec.hardware[c] for c in classes]
    out = []
    for index in range(spec.devices):
        rng = random.Random(f"{spec.seed}:{index}")
        out.append(
            DeviceProfile(
                device=device_id(index),
                index=index,
                hardware=rng.choices(classes, weights)[0],
                latency=rng.uniform(0.02, 1.5),
                loss=rng.choice((0.0, 0.0, 0.01, 0.05, 0.2)),
                bandwidth=rng.uniform(4_000, 250_000),
                flash_rate=rng.uniform(20_000, 400_000),
                reboot_seconds=rng.uniform(15, 60),
                health_seconds=rng.uniform(5, 30),
                outage_seconds=rng.uniform(30, 300),
                skew=rng.uniform(-120, 120),
                faults=_faults(rng, spec.faults, index),
            )
        )
    return out

"""The device's A/B machine alone (no broker, no clock but its own events): every path ends on one known
version with a bootable active slot, faults included."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from pytest_iotops.fleet.device import BOOT_TRIES, Device
from pytest_iotops.fleet.firmware import Firmware, build_firmware
from pytest_iotops.fleet.profile import STATES, DeviceFaults, FleetFaults, FleetSpec, profiles

OLD = build_firmware("1.0.0", 4096)


def run(
    new: Firmware,
    faults: DeviceFaults | None = None,
    hardware: str = "A",
    seed: int = 0,
    job: dict[str, Any] | None = None,
    key: bytes | None = None,
) -> tuple[Device, list[dict[str, Any]]]:
    profile = replace(profiles(FleetSpec(1, seed=seed))[0], faults=faults or DeviceFaults(), hardware=hardware)
    device = Device(profile, "1.0.0", {"1.0.0": OLD, new.version: new}, seed, key)
    device.receive(job or {"kind": "update", "job": "j", "version": new.version, "attempt": 0}, 0.0)
    reports = []
    while (t := device.next_time()) is not None:
        reports += device.advance(t)
    return device, reports


def settled(device: Device) -> None:
    s = device.snapshot()
    assert device.unbootable_slots() < 2
    assert not device.bricked
    assert s["state"] == "idle"
    assert s["running"] == s["active"]


def test_a_good_build_is_committed_after_a_verified_boot() -> None:
    device, reports = run(build_firmware("2.0.0", 4096))
    settled(device)
    assert [r["status"] for r in reports][-1] == "succeeded"
    assert reports[-1]["running"] == "2.0.0"
    assert reports[-1]["boot_id"] == 2
    assert [r["seq"] for r in reports] == list(range(1, len(reports) + 1))
    states = [state for _, state, _ in device.timeline]
    assert (
        states.index("downloading")
        < states.index("installing")
        < states.index("rebooting")
        < states.index("verifying")
        < states.index("committing")
    )


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("offset", [0.05, 0.5, 0.95])
def test_power_loss_at_every_state_and_offset_ends_on_the_new_version(state: str, offset: float) -> None:
    device, reports = run(build_firmware("2.0.0", 4096), DeviceFaults(power_loss_at=state, power_loss_offset=offset))
    settled(device)
    assert device.version() == "2.0.0", device.timeline
    assert any(s == "off" for _, s, _ in device.timeline), "the power loss never happened"
    assert reports[-1]["status"] == "succeeded"


def test_power_loss_mid_write_leaves_the_half_written_slot_unbootable_and_the_active_one_intact() -> None:
    fw = build_firmware("2.0.0", 4096, install_failure_rate=0.0)
    profile = replace(profiles(FleetSpec(1))[0], faults=DeviceFaults(power_loss_at="installing", power_loss_offset=0.5))
    device = Device(profile, "1.0.0", {"1.0.0": OLD, "2.0.0": fw})
    device.receive({"kind": "update", "job": "j", "version": "2.0.0", "attempt": 0}, 0.0)
    while device.state != "off":
        device.advance(device.next_time() or 0.0)
    assert device.slots["b"].version == "2.0.0"
    assert not device.slots["b"].ok
    assert device.slots["a"].ok
    assert device.unbootable_slots() == 1


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (build_firmware("2.0.0", 4096, corrupt=True), "sha256 mismatch"),
        (build_firmware("2.0.0", 4096, install_failure_rate=1.0), "install into slot b failed"),
        (build_firmware("2.0.0", 4096, boot_loop_on={"A"}), f"did not boot in {BOOT_TRIES} tries"),
        (build_firmware("2.0.0", 4096, health_failure_rate=1.0), "failed its health check"),
    ],
)
def test_a_bad_build_fails_and_leaves_the_old_version_running(build: Firmware, reason: str) -> None:
    device, reports = run(build)
    settled(device)
    assert device.version() == "1.0.0"
    assert reports[-1]["status"] == "failed"
    assert reason in reports[-1]["reason"]


def test_a_boot_loop_on_another_hardware_class_does_not_hit_this_one() -> None:
    device, _ = run(build_firmware("2.0.0", 4096, boot_loop_on={"B"}), hardware="A")
    assert device.version() == "2.0.0"
    device, _ = run(build_firmware("2.0.0", 4096, boot_loop_on={"B"}), hardware="B")
    assert device.version() == "1.0.0"


def test_a_truncated_first_download_is_detected_and_retried() -> None:
    device, _reports = run(build_firmware("2.0.0", 4096), DeviceFaults(partial_download=True))
    assert device.version() == "2.0.0"
    assert device._downloads == 2


def test_a_bad_signature_is_refused() -> None:
    good = build_firmware("2.0.0", 4096, key=b"release key")
    forged = replace(good, signature="0" * 64)
    device, reports = run(forged, key=b"release key")
    assert device.version() == "1.0.0"
    assert "bad signature" in reports[-1]["reason"]
    device, _ = run(good, key=b"release key")
    assert device.version() == "2.0.0"


def test_a_device_that_claims_success_without_rebooting_still_runs_the_old_version() -> None:
    _device, reports = run(build_firmware("2.0.0", 4096), DeviceFaults(fake_success=True))
    assert reports[-1]["status"] == "succeeded"
    assert reports[-1]["running"] == "1.0.0"
    assert reports[-1]["boot_id"] == 1


def test_a_reboot_loop_is_survived_within_the_boot_counter() -> None:
    device, _ = run(build_firmware("2.0.0", 4096), DeviceFaults(reboot_loop=2))
    settled(device)
    assert device.version() == "2.0.0"
    assert device.boot_id == 4


def test_a_job_delivered_twice_runs_once() -> None:
    new = build_firmware("2.0.0", 4096)
    profile = profiles(FleetSpec(1))[0]
    device = Device(profile, "1.0.0", {"1.0.0": OLD, "2.0.0": new})
    job = {"kind": "update", "job": "j", "version": "2.0.0", "attempt": 0}
    device.receive(job, 0.0)
    device.receive(job, 0.0)
    reports = []
    while (t := device.next_time()) is not None:
        reports += device.advance(t)
    assert [r["status"] for r in reports].count("succeeded") == 1
    device.receive(job, device.now)  # again after it ended: it says where it ended, and does nothing
    more = device.advance(device.now + 10)
    assert [r["status"] for r in more] == ["status"]
    assert device.boot_id == 2


def test_cancel_during_download_keeps_the_old_version() -> None:
    new = build_firmware("2.0.0", 4096)
    profile = replace(profiles(FleetSpec(1))[0], bandwidth=100.0)  # a slow link: 40 s for the build
    device = Device(profile, "1.0.0", {"1.0.0": OLD, "2.0.0": new})
    device.receive({"kind": "update", "job": "j", "version": "2.0.0", "attempt": 0}, 0.0)
    device.advance(5.0)
    assert device.state == "downloading"
    device.receive({"kind": "cancel", "job": "j"}, 5.0)
    reports = []
    while (t := device.next_time()) is not None:
        reports += device.advance(t)
    assert reports[-1]["status"] == "canceled"
    assert device.version() == "1.0.0"
    settled(device)


def test_rollback_switches_back_to_the_slot_that_still_holds_the_old_version() -> None:
    new = build_firmware("2.0.0", 4096)
    device, _ = run(new)
    device.receive({"kind": "rollback", "job": "r", "version": "1.0.0", "attempt": 0}, device.now)
    reports = []
    while (t := device.next_time()) is not None:
        reports += device.advance(t)
    settled(device)
    assert device.version() == "1.0.0"
    assert device.active == "a"
    assert not any(s == "downloading" for _, s, _ in device.timeline[-6:]), "a slot switch needs no download"


def test_the_same_seed_gives_the_same_timeline_and_another_seed_another() -> None:
    faults = FleetFaults(power_loss_share=0.5, power_loss_states=STATES, partition=0.3)
    timelines = []
    for seed in (7, 7, 8):
        fleet = profiles(FleetSpec(30, seed=seed, faults=faults))
        arts = {"1.0.0": OLD, "2.0.0": build_firmware("2.0.0", 4096)}
        devices = [Device(p, "1.0.0", arts, seed) for p in fleet]
        for d in devices:
            d.receive({"kind": "update", "job": "j", "version": "2.0.0", "attempt": 0}, 0.0)
            while (t := d.next_time()) is not None:
                d.advance(t)
        timelines.append([d.timeline for d in devices])
    assert timelines[0] == timelines[1]
    assert timelines[0] != timelines[2]


def test_fleet_faults_reject_unknown_states_and_bad_shares() -> None:
    with pytest.raises(ValueError, match="power loss at 'flying'"):
        FleetFaults(power_loss={"flying": 0.1})
    with pytest.raises(ValueError, match="duplicate must be a share"):
        FleetFaults(duplicate=1.5)

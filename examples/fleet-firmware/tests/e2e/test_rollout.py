"""Releases of the thermostat firmware rolled out to 1,000 simulated devices over MQTT, under the release
team's AWS IoT Jobs policy plus the statistical rule, with power lost at every state on a tenth of them."""

import pytest
from thermofw import KEY, Build, artifact

from pytest_iotops.fleet import STATES


def installed():
    return artifact(Build("2.0.0"))


def test_the_release_is_promoted_to_the_whole_fleet(iotops_fleet):
    # the devices hold the release key: each checks the build's signature before it writes its slot
    result = iotops_fleet.rollout(artifact(Build("2.1.0")), installed(), key=KEY)
    assert result.promoted, result.explain()
    assert result.on_version("2.1.0") == 1000
    assert result.bricked == 0
    assert result.invariant_problems() == []


def test_a_build_without_drivers_for_board_b_is_stopped_in_the_first_wave(iotops_fleet):
    result = iotops_fleet.rollout(artifact(Build("2.1.1", boards=("A", "C"))), installed())
    assert result.aborted, result.explain()
    assert result.aborted_in_wave == 1
    assert "hardware class B" in result.rule
    assert result.on_version("2.1.1") == 0  # every device that took it was sent back to 2.0.0
    assert result.invariant_problems() == []


def test_a_corrupt_upload_never_reaches_a_slot(iotops_fleet):
    result = iotops_fleet.rollout(artifact(Build("2.1.2"), corrupt=True), installed())
    assert result.aborted and result.aborted_in_wave == 1
    assert all("sha256 mismatch" in r.reason for r in result.devices.values() if r.outcome == "failed")


def test_a_build_signed_with_another_key_is_refused(iotops_fleet):
    forged = artifact(Build("2.1.3"))
    result = iotops_fleet.rollout(forged, installed(), key=b"not the release key")
    assert result.aborted and result.aborted_in_wave == 1
    assert all("bad signature" in r.reason for r in result.devices.values() if r.outcome == "failed")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.iotops_fleet(devices=200)
def test_power_loss_in_every_state_leaves_every_device_bootable(iotops_fleet, state):
    result = iotops_fleet.rollout(artifact(Build("2.1.0")), installed(),
                                  faults={"power_loss": {state: 0.3}},
                                  policy={"waves": [50, 100], "max_failure_rate": 0.05})
    assert result.promoted, result.explain()
    assert result.bricked == 0
    assert result.invariant_problems() == []
    assert any(s == "off" for r in result.devices.values() for _, s, _ in r.timeline)

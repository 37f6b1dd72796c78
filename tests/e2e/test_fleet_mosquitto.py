"""Fleet rollouts on Eclipse Mosquitto started by the test: a bad build stopped in the first wave, a broker
restart mid-rollout, and a fleet big enough to need two device host processes."""

from __future__ import annotations

import pytest
from conftest import require_binary
from fleet_matrix import problems, run_row

from pytest_iotops.fleet.brokers import MosquittoBroker


@pytest.fixture(scope="module")
def mosquitto() -> MosquittoBroker:
    require_binary("mosquitto")
    with MosquittoBroker() as broker:
        yield broker


def test_a_boot_loop_on_a_small_class_is_stopped_in_the_first_wave(mosquitto: MosquittoBroker) -> None:
    result = run_row("boot-loop-class-B", mosquitto, seed=21)
    assert problems("boot-loop-class-B", result) == [], result.explain()
    assert "hardware class B" in result.rule


def test_two_broker_restarts_during_a_good_rollout(mosquitto: MosquittoBroker) -> None:
    result = run_row("good", mosquitto, seed=22, devices=400, restart_at=(200.0, 900.0))
    assert result.broker_restarts == 2
    assert problems("good", result) == [], result.explain()


def test_a_fleet_split_over_two_device_hosts(mosquitto: MosquittoBroker) -> None:
    result = run_row("install-5%", mosquitto, seed=23, devices=3000)
    assert result.hosts == 2
    assert problems("install-5%", result) == [], result.explain()

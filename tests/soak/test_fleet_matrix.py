"""The fleet fault matrix of the issue: every build row by both brokers, power lost at every state in every
rollout (a tenth of the fleet), 1,000 devices each: promoted, or aborted in the first wave with the fleet
rolled back; no bricked device, every device on one known version, the controller's view equal to each device.
One seed locally, three in CI (IOTOPS_SOAK_SEEDS for any count; benchmarks/bench_fleet.py runs twenty)."""

from __future__ import annotations

import pytest
from conftest import require_binary, soak_seeds
from fleet_matrix import ROWS, problems, run_row

from pytest_iotops.fleet.brokers import Broker, EmbeddedBroker, MosquittoBroker

SEEDS = soak_seeds(local=1, ci=3, first=100)


@pytest.fixture(scope="module", params=["embedded", "mosquitto"])
def broker(request: pytest.FixtureRequest) -> Broker:
    if request.param == "mosquitto":
        require_binary("mosquitto")
        the = MosquittoBroker()
    else:
        the = EmbeddedBroker()
    with the:
        yield the


@pytest.mark.parametrize("row", list(ROWS))
def test_every_row_ends_as_it_must(broker: Broker, row: str) -> None:
    failed = {}
    for seed in SEEDS:
        result = run_row(row, broker, seed)
        found = problems(row, result)
        if found:
            failed[seed] = "\n".join(found[:10]) + "\n" + result.explain()
    assert not failed, "\n\n".join(f"seed {s}: {text}" for s, text in failed.items())

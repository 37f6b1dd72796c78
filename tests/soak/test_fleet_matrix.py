"""The fleet fault matrix of the issue: every build row by both brokers, power lost at every state in every
rollout (a tenth of the fleet), 1,000 devices each: promoted, or aborted in the first wave with the fleet
rolled back; no bricked device, every device on one known version, the controller's view equal to each device.
In CI (and with IOTOPS_SOAK_FULL=1) every row on both brokers, three seeds; locally each row once, on a broker
that alternates with it (both brokers run), one seed (IOTOPS_SOAK_SEEDS for any count; benchmarks/bench_fleet.py
runs twenty)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import require_binary, soak_grid, soak_seeds
from fleet_matrix import ROWS, problems, run_row

from pytest_iotops.fleet.brokers import Broker, EmbeddedBroker, MosquittoBroker

SEEDS = soak_seeds(local=1, ci=3, first=100)
BROKERS = ("embedded", "mosquitto")


@pytest.fixture(scope="module")
def brokers() -> Iterator[dict[str, Broker]]:
    """Each broker started once for the module, when a cell first asks for it."""
    started: dict[str, Broker] = {}
    try:
        yield started
    finally:
        for broker in started.values():
            broker.close()


def _broker(brokers: dict[str, Broker], name: str) -> Broker:
    if name not in brokers:
        if name == "mosquitto":
            require_binary("mosquitto")
        the: Broker = MosquittoBroker() if name == "mosquitto" else EmbeddedBroker()
        the.start()
        brokers[name] = the
    return brokers[name]


@pytest.mark.parametrize(
    ("broker_name", "row"), soak_grid(list(ROWS), BROKERS), ids=[f"{b}-{r}" for b, r in soak_grid(list(ROWS), BROKERS)]
)
def test_every_row_ends_as_it_must(brokers: dict[str, Broker], broker_name: str, row: str) -> None:
    broker = _broker(brokers, broker_name)
    failed = {}
    for seed in SEEDS:
        result = run_row(row, broker, seed)
        found = problems(row, result)
        if found:
            failed[seed] = "\n".join(found[:10]) + "\n" + result.explain()
    assert not failed, "\n\n".join(f"seed {s}: {text}" for s, text in failed.items())

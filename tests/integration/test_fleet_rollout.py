"""Fleet rollouts over the embedded broker (amqtt, installed with the package): one device host process, MQTT
per device, the virtual clock. Small fleets: the fault matrix at full size runs in tests/soak."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from fleet_matrix import OLD, POLICY, problems, run_row

from pytest_iotops.errors import FleetError
from pytest_iotops.fleet import FleetSpec, Policy, build_firmware, rollout, run
from pytest_iotops.fleet.brokers import EmbeddedBroker
from pytest_iotops.fleet.host import Host
from pytest_iotops.fleet.run import _artifacts, host_configs


@pytest.fixture(scope="module")
def broker() -> EmbeddedBroker:
    with EmbeddedBroker() as b:
        yield b


@pytest.mark.parametrize("row", ["good", "corrupt"])
def test_a_row_of_the_matrix_ends_as_it_must(broker: EmbeddedBroker, row: str) -> None:
    result = run_row(row, broker, seed=11, devices=300)
    assert problems(row, result) == [], result.explain()


def test_the_same_seed_gives_the_same_timelines_over_the_wire(broker: EmbeddedBroker) -> None:
    spec = FleetSpec(60, seed=5)
    new = build_firmware("2.0.0", 4096)
    policy = Policy(waves=(50.0, 100.0), max_failure_rate=0.05, min_executed=5)
    first = rollout(spec, new, OLD, policy, broker)
    second = rollout(spec, new, OLD, policy, broker)
    assert first.decisions == second.decisions
    assert {d: r.timeline for d, r in first.devices.items()} == {d: r.timeline for d, r in second.devices.items()}


def test_a_broker_restart_mid_rollout_changes_nothing_in_the_end(broker: EmbeddedBroker) -> None:
    result = run_row("good", broker, seed=12, devices=400, restart_at=(300.0,))
    assert result.broker_restarts == 1
    assert problems("good", result) == [], result.explain()


def test_the_result_explains_itself(broker: EmbeddedBroker) -> None:
    result = run_row("corrupt", broker, seed=13, devices=100)
    text = result.explain()
    assert "aborted (failure_rate:" in text
    assert "versions now: 1.0.0: 100" in text
    assert "checks: all hold" in text
    assert result.policy == POLICY.source


def test_hosts_stopped_while_still_starting_leave_their_state(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """A rollout that ends at once (an abort on a fast first wave, a loaded machine) stops its device hosts while
    they may still be importing: SIGTERM then waits until each can take it, so none dies without its state."""
    from pytest_iotops.fleet.run import _artifacts, _Hosts, host_configs

    configs = host_configs(
        "rstop", 2, broker, FleetSpec(devices=20, seed=1), OLD, _artifacts(tmp_path, [OLD]), None, tmp_path
    )
    hosts = _Hosts(tmp_path, configs)
    hosts.stop()  # no time to start
    states = hosts.states()
    assert len(states) == 2
    assert all(Path(f"{cfg['out']}.ready").exists() for cfg in configs)


def test_a_device_host_ends_on_its_stop_flag_even_when_the_cancellation_is_lost(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """SIGTERM sets the host's stop flag and cancels its task; Python 3.11's asyncio.wait_for can swallow that
    cancellation when it meets its own timeout (CI saw a host killed after the grace with no state written). The
    flag alone must end the loop, so the state is written."""
    spec = FleetSpec(20, seed=3)
    artifacts = _artifacts(tmp_path, [OLD, build_firmware("2.0.0", 4096)])
    (cfg,) = host_configs("rstopflag", 1, broker, spec, OLD, artifacts, None, tmp_path)

    async def scenario() -> bool:
        host = Host(cfg)
        task = asyncio.get_running_loop().create_task(host.run())
        deadline = asyncio.get_running_loop().time() + 60
        while not (host.links and all(link.connected.is_set() for link in host.links.values())):
            assert asyncio.get_running_loop().time() < deadline, "the host never connected"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # now in its wait-for-a-tick loop
        host.stopping = True  # and no cancel: as if the cancellation had been swallowed
        done, _ = await asyncio.wait({task}, timeout=10)
        if not done:
            task.cancel()
        await asyncio.wait_for(host.close(), 5)
        return bool(done)

    assert asyncio.run(scenario()), "the host kept running with its stop flag set"


def test_a_device_host_that_dies_ends_the_rollout_with_its_exit_code(
    broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host process that exits mid-rollout (here at once: its interpreter is /bin/false) stops the driver and
    names the host and its exit code, instead of waiting out the rollout's deadline."""
    monkeypatch.setattr(run.sys, "executable", "/bin/false")
    started = time.monotonic()
    with pytest.raises(FleetError, match=r"device host 0 exited \(code 1\)"):
        rollout(FleetSpec(20, seed=1), build_firmware("2.0.0", 4096), OLD, POLICY, broker, deadline=120)
    assert time.monotonic() - started < 60

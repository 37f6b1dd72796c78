"""The issue's fault matrix, shared by the soak tests and benchmarks/bench_fleet.py: each build row must end
as it says on both brokers with power lost at every state of the device machine (a tenth of the fleet, spread
round robin over the states, so every rollout meets every state)."""

from __future__ import annotations

from typing import Any

from pytest_iotops.fleet import STATES, FleetFaults, FleetResult, FleetSpec, Policy, build_firmware, rollout

#: row -> (the new build's faults, how the rollout must end: "aborted" is stopped in the first wave, by a rule or
#: as inconclusive, with the fleet rolled back)
ROWS: dict[str, tuple[dict[str, Any], str]] = {
    "good": ({}, "promoted"),
    "install-5%": ({"install_failure_rate": 0.05}, "aborted"),
    "boot-loop-class-B": ({"boot_loop_on": {"B"}}, "aborted"),
    "corrupt": ({"corrupt": True}, "aborted"),
    "silent-5%": ({"silent_rate": 0.05}, "aborted"),
}
#: class B is 2 % of the fleet: a build that cannot boot on it must still be stopped in the first wave
HARDWARE = {"A": 0.78, "B": 0.02, "C": 0.2}
POLICY = Policy(
    waves=(10.0, 50.0, 100.0),
    max_failure_rate=0.02,
    confidence=0.95,
    min_executed=10,
    in_progress_timeout=3600.0,
    source="fleet matrix",
)
OLD = build_firmware("1.0.0", 16 * 1024)


def run_row(row: str, broker: Any, seed: int, devices: int = 1000, restart_at: tuple[float, ...] = ()) -> FleetResult:
    build, _ = ROWS[row]
    spec = FleetSpec(
        devices, seed=seed, hardware=HARDWARE, faults=FleetFaults(power_loss_share=0.1, power_loss_states=STATES)
    )
    new = build_firmware("2.0.0", 16 * 1024, seed=seed, **build)
    return rollout(spec, new, OLD, POLICY, broker, restart_broker_at=restart_at, name=f"{row} seed {seed}")


def problems(row: str, result: FleetResult) -> list[str]:
    """Empty when the rollout ended as its row says, with every check holding."""
    _, expected = ROWS[row]
    out = list(result.invariant_problems())
    # a stop is an abort by a rule, or a halt when no rule could decide within the next wave's size (fail closed)
    ended = "aborted" if result.outcome == "inconclusive" else result.outcome
    if ended != expected:
        out.append(f"ended {result.outcome}, expected {expected}")
    if result.bricked:
        out.append(f"{result.bricked} bricked devices")
    if expected == "aborted":
        if result.stopped_in_wave != 1:
            out.append(f"stopped in wave {result.stopped_in_wave}, expected 1")
        if not result.decisions or result.decisions[-1]["action"] != "rolled_back":
            out.append("no fleet rollback recorded")
        if result.on_version("2.0.0") > len(result.silent()):
            out.append(f"{result.on_version('2.0.0')} devices still run 2.0.0")
    elif result.on_version("2.0.0") != len(result.devices):
        out.append(f"only {result.on_version('2.0.0')} of {len(result.devices)} devices run 2.0.0")
    powered_off = {
        state
        for r in result.devices.values()
        for _, s, note in r.timeline
        if s == "off"
        for state in [note.removeprefix("power lost while ")]
    }
    if expected == "promoted" and powered_off != set(STATES):
        out.append(f"power was lost only in {sorted(powered_off)}")
    return out

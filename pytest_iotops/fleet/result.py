"""What a fleet rollout did: the outcome and the rule that decided it, per wave and per device (what it ran
before, during and after, its job's outcome, the controller's view of it), and the checks that must hold after
any fault: no device with two unbootable slots, every device on exactly one known version, and the
controller's view equal to each device's own state (devices that went silent are listed, not compared)."""

from __future__ import annotations

from collections import Counter
from dataclasses import field
from typing import Any

from ..model.fleet import STATE_CODES, FleetDecision, FleetRollout, FleetWave
from ..values import Value, record

__all__ = ["DeviceRecord", "FleetResult"]


@record
class DeviceRecord(Value):
    device: str
    hardware: str
    wave: int  # 1-based; 0 = never notified
    outcome: str  # pending, succeeded, failed, timed_out, rejected, canceled
    reason: str
    attempts: int
    before: str
    during: list[str]
    after: str  # what the device itself runs at the end
    view: str  # what the controller believes it runs
    rollback: str
    silent: bool
    late: bool
    state: dict[str, Any] = field(default_factory=dict)  # the device's own final state
    view_state: dict[str, Any] = field(default_factory=dict)
    timeline: list[list[Any]] = field(default_factory=list)


@record
class FleetResult(Value):
    name: str
    broker: str
    old: str
    new: str
    seed: int
    policy: str
    outcome: str  # promoted, aborted, inconclusive
    devices: dict[str, DeviceRecord]
    waves: list[FleetWave]
    decisions: list[dict[str, Any]]
    virtual_seconds: float
    wall_seconds: float
    ticks: int
    lost_reports: int = 0
    lost_commands: int = 0
    resent_ticks: int = 0
    duplicates: int = 0
    malformed: list[str] = field(default_factory=list)
    broker_restarts: int = 0
    told_all_seconds: float | None = None
    hosts: int = 1
    host_peak_kb: int = 0  # the largest device host's peak resident memory

    @property
    def promoted(self) -> bool:
        return self.outcome == "promoted"

    @property
    def aborted(self) -> bool:
        return self.outcome == "aborted"

    @property
    def aborted_in_wave(self) -> int | None:
        return next((d["wave"] for d in self.decisions if d["action"] == "abort"), None)

    @property
    def stopped_in_wave(self) -> int | None:
        """The wave in which the rollout stopped: aborted by a rule, or halted because no rule could decide within
        the exposure the policy allows (``inconclusive``); both roll the fleet back."""
        return next((d["wave"] for d in self.decisions if d["action"] in ("abort", "inconclusive")), None)

    @property
    def bricked(self) -> int:
        return sum(1 for r in self.devices.values() if r.state.get("bricked") or r.state.get("unbootable_slots", 0) > 1)

    @property
    def rule(self) -> str:
        final = next(
            (d for d in reversed(self.decisions) if d["action"] in ("abort", "promoted", "inconclusive")), None
        )
        return f"{final['rule']}: {final['detail']}" if final else ""

    def on_version(self, version: str) -> int:
        return sum(1 for r in self.devices.values() if r.after == version)

    def silent(self) -> list[str]:
        return sorted(r.device for r in self.devices.values() if r.silent)

    def view_mismatches(self) -> list[str]:
        keys = ("running", "active", "boot_id", "state")
        out = []
        for r in self.devices.values():
            if r.silent:
                continue
            own = {k: r.state.get(k) for k in keys}
            seen = {k: r.view_state.get(k) for k in keys}
            if r.outcome != "pending" and own != seen:
                out.append(f"{r.device}: device {own}, controller {seen}")
        return out

    def invariant_problems(self) -> list[str]:
        """Empty when every check holds."""
        problems = []
        known = {self.old, self.new}
        for r in self.devices.values():
            s = r.state
            if s.get("bricked") or s.get("unbootable_slots", 0) > 1:
                problems.append(f"{r.device}: two unbootable slots {s.get('slots')}")
            if r.after not in known or s.get("running") != s.get("active") or s.get("state") != "idle":
                problems.append(f"{r.device}: not on exactly one known version: {s}")
        problems += [f"view: {m}" for m in self.view_mismatches()]
        if self.outcome in ("aborted", "inconclusive"):
            stray = [r.device for r in self.devices.values() if r.after == self.new and not r.silent]
            if stray:
                problems.append(f"{self.outcome} but {len(stray)} reachable devices still run {self.new}: {stray[:5]}")
        return problems

    def explain(self) -> str:
        lines = [
            f"fleet rollout {self.old} -> {self.new} of {len(self.devices)} devices on {self.broker}: "
            f"{self.outcome} ({self.rule})"
        ]
        c = Counter(r.after for r in self.devices.values())
        lines.append("  versions now: " + ", ".join(f"{v}: {n}" for v, n in sorted(c.items())))
        for w in self.waves:
            rate = w.failure_rate
            lines.append(
                f"  wave {w.wave}: {w.devices} devices, {w.succeeded} succeeded, {w.failed} failed, "
                f"{w.timed_out} timed out, {w.rejected} rejected, {w.canceled} canceled"
                + (f" (failure rate {rate:.1%})" if rate is not None else "")
            )
        for d in self.decisions:
            lines.append(f"  t={d['t']:>10.1f}s wave {d['wave']}: {d['action']} [{d['rule']}] {d['detail']}")
        lines.append(
            f"  clock: {self.virtual_seconds / 3600:.2f} h virtual in {self.wall_seconds:.1f} s, "
            f"{self.ticks} ticks; lost reports {self.lost_reports}, lost commands {self.lost_commands}, "
            f"duplicates dropped {self.duplicates}, broker restarts {self.broker_restarts}"
        )
        if self.malformed:
            lines.append(f"  malformed messages: {len(self.malformed)}, e.g. {self.malformed[0]}")
        problems = self.invariant_problems()
        lines.append("  checks: " + ("all hold" if not problems else f"{len(problems)} problems, e.g. {problems[0]}"))
        return "\n".join(lines)

    def record(self, test: str = "") -> FleetRollout:
        """This rollout as the run report keeps it."""
        order = sorted(self.devices.values(), key=lambda r: (r.wave == 0, r.wave, r.device))
        return FleetRollout(
            test=test,
            name=self.name,
            broker=self.broker,
            old=self.old,
            new=self.new,
            devices=len(self.devices),
            outcome=self.outcome,
            rule=self.rule,
            policy=self.policy,
            seed=self.seed,
            aborted_in_wave=self.aborted_in_wave,
            waves=list(self.waves),
            decisions=[
                FleetDecision(
                    float(d["t"]),
                    int(d["wave"]),
                    str(d["action"]),
                    str(d["rule"]),
                    str(d["detail"]),
                    int(d["released"]),
                )
                for d in self.decisions
            ],
            versions=dict(sorted(Counter(r.after for r in self.devices.values()).items())),
            bricked=self.bricked,
            silent=len(self.silent()),
            problems=self.invariant_problems()[:20],
            virtual_seconds=round(self.virtual_seconds, 3),
            wall_seconds=round(self.wall_seconds, 3),
            lost_reports=self.lost_reports,
            broker_restarts=self.broker_restarts,
            told_all_seconds=None if self.told_all_seconds is None else round(self.told_all_seconds, 4),
            states="".join(STATE_CODES.get(r.outcome, "?") for r in order),
        )

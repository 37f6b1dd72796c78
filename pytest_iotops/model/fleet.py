"""The fleet rollout records of the run report: one per rollout a test ran, with its waves, decisions, the
versions the fleet ended on, the checks that must hold, and one character per device for the HTML heatmap.
``pytest_iotops.fleet.result.FleetResult.record`` builds them; the renderers read them."""

from __future__ import annotations

from dataclasses import field

from ..values import Value, record

__all__ = ["STATE_CODES", "FleetDecision", "FleetRollout", "FleetWave"]

#: one character per device, in release order, for ``FleetRollout.states``
STATE_CODES = {
    "succeeded": "S",
    "failed": "F",
    "timed_out": "T",
    "rejected": "R",
    "canceled": "C",
    "pending": ".",
    "notified": "N",
    "in_progress": "N",
}


@record
class FleetWave(Value):
    """One wave of a firmware rollout: its devices and how they fared."""

    wave: int
    devices: int
    succeeded: int
    failed: int
    timed_out: int
    rejected: int
    canceled: int
    #: notified but not ended when the rollout ended
    pending: int = 0

    @property
    def failure_rate(self) -> float | None:
        """Failed, timed out and rejected among the devices whose job ended (canceled ones did not run it)."""
        executed = self.succeeded + self.failed + self.timed_out + self.rejected
        return (self.failed + self.timed_out + self.rejected) / executed if executed else None


@record
class FleetDecision(Value):
    """A decision a fleet rollout took (start, extend, abort, promoted ...), when, and the rule behind it."""

    #: seconds of the rollout's (virtual) clock
    t: float
    wave: int
    #: start, continue, extend, abort, promoted, inconclusive, rolled_back
    action: str
    #: the rule that said so (failure_rate, abort_config, error_condition, success_condition, hardware_class...)
    rule: str
    detail: str
    released: int


@record
class FleetRollout(Value):
    """One firmware rollout to a simulated fleet: its waves, decisions and outcome."""

    test: str
    name: str
    broker: str
    old: str
    new: str
    devices: int
    #: promoted, aborted or inconclusive
    outcome: str
    rule: str
    policy: str
    seed: int
    aborted_in_wave: int | None
    waves: list[FleetWave] = field(default_factory=list)
    decisions: list[FleetDecision] = field(default_factory=list)
    #: how many devices run each version at the end (the devices' own state)
    versions: dict[str, int] = field(default_factory=dict)
    bricked: int = 0
    silent: int = 0
    #: the checks that failed: two unbootable slots, not on one known version, view != device (empty: all hold)
    problems: list[str] = field(default_factory=list)
    virtual_seconds: float = 0.0
    wall_seconds: float = 0.0
    lost_reports: int = 0
    broker_restarts: int = 0
    #: real seconds from the abort decision until every device had its cancel or rollback
    told_all_seconds: float | None = None
    #: one STATE_CODES character per device, in the order the rollout released them
    states: str = ""

"""The rules that decide a rollout, pure functions over the devices' views: the anchors' thresholds (AWS abort
criteria, hawkBit's error condition), the statistical rule over the fleet and each hardware class, and the
hardware class that holds the next wave."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .decide import Judgement, judge_failures
from .policy import Policy

if TYPE_CHECKING:
    from .controller import DeviceView

__all__ = ["FAILURE_TYPE", "TERMINAL", "abort_reason", "statistical", "suspect_class"]

TERMINAL = ("succeeded", "failed", "timed_out", "rejected", "canceled")
#: a job's end -> AWS's failure type
FAILURE_TYPE = {"failed": "FAILED", "rejected": "REJECTED", "timed_out": "TIMED_OUT"}
_FAILURE_TYPE = FAILURE_TYPE


def abort_reason(
    policy: Policy, released: Sequence[DeviceView], wave: Sequence[DeviceView], wave_number: int
) -> Judgement | None:
    """Why the rollout must stop now, if it must: AWS abort criteria, hawkBit's error condition, the statistical
    rule."""
    c = Counter(v.phase for v in released)
    for crit in policy.abort:
        types = (
            ("failed", "rejected", "timed_out")
            if crit.failure_type == "ALL"
            else (next(k for k, v in _FAILURE_TYPE.items() if v == crit.failure_type),)
        )
        failures = sum(c[t] for t in types)
        if len(released) >= crit.min_executed and 100.0 * failures / len(released) >= crit.threshold_percentage:
            return Judgement(
                "abort",
                "abort_config",
                f"{failures} of {len(released)} notified devices "
                f"{crit.failure_type}: at least {crit.threshold_percentage:g} % "
                f"(minNumberOfExecutedThings {crit.min_executed})",
            )
    if policy.wave_error_percentage is not None:
        failures = sum(1 for v in wave if v.phase in _FAILURE_TYPE)
        if wave and 100.0 * failures / len(wave) >= policy.wave_error_percentage > 0:
            return Judgement(
                "abort",
                "error_condition",
                f"{failures} of {len(wave)} devices of wave "
                f"{wave_number} failed: at least {policy.wave_error_percentage:g} %",
            )
    return statistical(policy, released, "abort")


def _executed(views: Sequence[DeviceView]) -> list[DeviceView]:
    return [v for v in views if v.phase in TERMINAL and v.phase != "canceled"]


def _failed(views: Sequence[DeviceView]) -> int:
    return sum(1 for v in views if v.phase in _FAILURE_TYPE)


def _scopes(policy: Policy, released: Sequence[DeviceView]) -> list[tuple[str, list[DeviceView]]]:
    """The fleet, and each hardware class when the policy judges them."""
    scopes = [("fleet", list(released))]
    if policy.by_hardware:
        for hw in sorted({v.hardware for v in released}):
            scopes.append((f"hardware class {hw}", [v for v in released if v.hardware == hw]))
    return scopes


def statistical(policy: Policy, released: Sequence[DeviceView], want: str) -> Judgement | None:
    """The statistical rule over the fleet and, to stop, over each hardware class too (a build that fails
    on one board is caught even when that board is a small share of the fleet). The stop test's error rate
    is split over those scopes (Bonferroni), so more classes do not mean more false stops."""
    p = policy
    if want != "abort":
        executed = _executed(released)
        return judge_failures(len(executed), _failed(executed), p.max_failure_rate, p.confidence, p.min_executed)
    scopes = _scopes(p, released)
    confidence = 1.0 - (1.0 - p.confidence) / len(scopes)
    for scope, views in scopes:
        done = _executed(views)
        running = sum(1 for v in views if v.phase in ("notified", "in_progress"))
        # min_executed holds for the fleet; in a class the test's own p-value says when a few are enough
        # (three boards of a class that all fail: p = 8e-6 at a 2 % limit)
        minimum = p.min_executed if scope == "fleet" else 1
        j = judge_failures(len(done), _failed(done), p.max_failure_rate, confidence, minimum, scope, running)
        if j.action == "abort":
            return j
    return None


def suspect_class(policy: Policy, released: Sequence[DeviceView]) -> str:
    """A hardware class whose observed failure share is above the limit, though too few of its devices ran
    to prove it (one board of a small class failed): the next wave waits for more of them."""
    if not policy.by_hardware:
        return ""
    done = [v for v in released if v.phase in TERMINAL and v.phase != "canceled"]
    for hw in sorted({v.hardware for v in done}):
        mine = [v for v in done if v.hardware == hw]
        failed = sum(1 for v in mine if v.phase in _FAILURE_TYPE)
        if failed and failed / len(mine) > policy.max_failure_rate:
            return f"hardware class {hw} has {failed} of {len(mine)} failed"
    return ""

"""The rollout controller's logic, pure: it is given the devices' reports and the time, and answers with the
commands to send. The driver (:mod:`.driver`) moves these over MQTT; tests drive it directly.

Per device it keeps a *view* built from reports only (the newest by sequence number wins, so duplicates and
reordered messages change nothing), and the job's outcome: succeeded (a verified boot of the new version: the
report says it runs and has committed it, on a boot newer than the one the job started on), failed, rejected,
timed out (no end within ``in_progress_timeout``: a silent or bricked device is a failure, never "in
progress" for ever) or canceled. Retries per failure type re-notify with a new attempt number.

Releasing devices: cumulative waves (a wave that ends without a decision is extended, a batch at a time, until
the statistical rule decides) or AWS's growing rate. Stopping: AWS abort criteria, hawkBit's error condition,
and the statistical rule over the fleet and per hardware class. On abort, jobs in flight are canceled and every
device that runs the new version is sent back to the one it ran before (a slot switch on A/B devices).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import field
from typing import Any

from ..values import Value, record
from .decide import Judgement
from .policy import Policy
from .rules import FAILURE_TYPE, TERMINAL, abort_reason, statistical, suspect_class

__all__ = ["TERMINAL", "DeviceView", "Rollout"]

_FAILURE_TYPE = FAILURE_TYPE


@record
class DeviceView(Value):
    device: str
    hardware: str
    host: int
    wave: int = -1
    phase: str = "pending"
    attempt: int = 0
    notified_at: float | None = None
    finished_at: float | None = None
    reason: str = ""
    start_boot_id: int | None = None
    seq: int = 0
    snapshot: dict[str, Any] = field(default_factory=dict)
    late: bool = False  # reported after its job had timed out
    rollback: str = ""  # "", "sent", then succeeded / failed / timed_out
    rollback_sent_at: float | None = None
    versions: list[str] = field(default_factory=list)  # every version it reported running, in order
    failed_attempts: int = 0

    def running(self) -> str:
        return str(self.snapshot.get("running", ""))


class Rollout:
    def __init__(
        self,
        policy: Policy,
        devices: Sequence[tuple[str, str, int]],
        old: str,
        new: str,
        seed: int = 0,
    ) -> None:
        self.policy, self.old, self.new = policy, old, new
        self.views = {d: DeviceView(d, hw, host, versions=[old]) for d, hw, host in devices}
        order = [d for d, _, _ in devices]
        random.Random(f"order:{seed}").shuffle(order)
        self.order = self._stratified(order, {d: hw for d, hw, _ in devices}, policy.class_sample)
        n = len(order)
        self.targets = [max(1, math.ceil(n * w / 100)) for w in policy.waves]
        self.batch = self.targets[0] if self.targets else 1
        self.released = 0
        self.wave = 0
        self.wave_end = 0
        self.outcome = ""  # "", "promoted", "aborted", "inconclusive"
        self.aborting = False
        self.done = False
        self.decisions: list[dict[str, Any]] = []
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self.duplicates = 0
        self.malformed = 0
        self.job = f"update-{new}"
        self.rollback_job = f"rollback-{old}"
        self._rate_started: float | None = None
        self._rate = float(policy.rate.base_per_minute) if policy.rate else 0.0
        self._rate_credit = 0.0
        self._rate_mark = 0
        self._last_rate_step = 0.0
        self._soak_until: float | None = None
        self.aborted_at: float | None = None

    @staticmethod
    def _stratified(order: list[str], hardware: dict[str, str], per_class: int) -> list[str]:
        """The release order with ``per_class`` devices of every hardware class first: a build that cannot
        boot on a board that is 2 % of the fleet is seen in the first wave, not by luck in a later one."""
        first: list[str] = []
        for hw in sorted(set(hardware.values())):
            first += [d for d in order if hardware[d] == hw][:per_class]
        chosen = set(first)
        return [d for d in order if d in chosen] + [d for d in order if d not in chosen]

    # -- reports ------------------------------------------------------------------------------------------------
    def apply(self, report: dict[str, Any], now: float) -> None:
        view = self.views.get(str(report.get("device")))
        if view is None:
            self.malformed += 1
            return
        seq = report.get("seq")
        if not isinstance(seq, int) or seq <= view.seq:
            self.duplicates += 1  # a duplicate, or older than what we know
            return
        view.seq = seq
        view.snapshot = {k: report.get(k) for k in ("running", "active", "boot_id", "state", "slots")}
        running = view.running()
        if running and (not view.versions or view.versions[-1] != running):
            view.versions.append(running)
        job, status = report.get("job"), report.get("status")
        if job == self.job:
            self._update_report(view, str(status), report, now)
        elif job == self.rollback_job:
            self._rollback_report(view, str(status), report, now)
        elif view.phase in ("notified", "in_progress") and view.snapshot.get("state") == "idle":
            self.commands.append((view.device, self._job(view)))  # it never got the job (a broker restart)

    def _update_report(self, view: DeviceView, status: str, report: dict[str, Any], now: float) -> None:
        if view.phase in TERMINAL:
            if view.phase == "timed_out":
                view.late = True
            return
        if view.start_boot_id is None and isinstance(report.get("boot_id"), int):
            view.start_boot_id = report["boot_id"]
        if status == "in_progress":
            view.phase = "in_progress"
        elif status == "succeeded" or (status == "status" and report.get("state") == "idle"):
            self._judge_success(view, now, claimed=status == "succeeded")
        elif status in ("failed", "rejected", "canceled"):
            self._finish(view, status, str(report.get("reason", "")), now)

    def _judge_success(self, view: DeviceView, now: float, claimed: bool) -> None:
        snap = view.snapshot
        booted = view.start_boot_id is None or int(snap.get("boot_id") or 0) > view.start_boot_id
        if snap.get("running") == self.new and snap.get("active") == self.new and booted:
            self._finish(view, "succeeded", "", now)
        elif claimed:
            self._finish(
                view,
                "failed",
                f"unverified success: reports success but runs {snap.get('running')}"
                + ("" if booted else " on the same boot"),
                now,
            )
        else:
            self._finish(view, "failed", f"ended without a report: runs {snap.get('running')}", now)

    def _rollback_report(self, view: DeviceView, status: str, report: dict[str, Any], now: float) -> None:
        if view.rollback not in ("sent", "timed_out"):
            return
        if status == "succeeded" and view.running() == self.old:
            view.rollback = "succeeded"
        elif status in ("failed", "rejected"):
            view.rollback = "failed"
            view.reason = f"rollback failed: {report.get('reason', '')}"

    def _finish(self, view: DeviceView, phase: str, reason: str, now: float) -> None:
        kind = _FAILURE_TYPE.get(phase)
        allowed = self.policy.retries.get(kind or "", self.policy.retries.get("ALL", 0)) if kind else 0
        if kind and view.attempt < allowed and not self.aborting:
            view.failed_attempts += 1
            view.attempt += 1
            view.phase, view.notified_at, view.start_boot_id = "notified", now, None
            self.commands.append((view.device, self._job(view)))
            return
        view.phase, view.reason, view.finished_at = phase, reason, now

    def _job(self, view: DeviceView) -> dict[str, Any]:
        return {"kind": "update", "job": self.job, "version": self.new, "attempt": view.attempt}

    # -- time ---------------------------------------------------------------------------------------------------
    def step(self, now: float) -> list[tuple[str, dict[str, Any]]]:
        """Everything due at ``now``: timeouts, the decision, devices to notify, cancel or roll back."""
        if not self.done:
            self._timeouts(now)
            if not self.aborting:
                self._decide(now)
            if self.aborting:
                self._roll_back(now)
        out, self.commands = self.commands, []
        return out

    def next_deadline(self) -> float | None:
        times = [
            v.notified_at + self.policy.in_progress_timeout
            for v in self.views.values()
            if v.phase in ("notified", "in_progress") and v.notified_at is not None
        ]
        times += [
            v.rollback_sent_at + self.policy.in_progress_timeout
            for v in self.views.values()
            if v.rollback == "sent" and v.rollback_sent_at is not None
        ]
        if self._soak_until is not None and not self.aborting:
            times.append(self._soak_until)
        return min(times) if times else None

    def _timeouts(self, now: float) -> None:
        limit = self.policy.in_progress_timeout
        for view in self.views.values():
            if (
                view.phase in ("notified", "in_progress")
                and view.notified_at is not None
                and now >= view.notified_at + limit
            ):
                self._finish(view, "timed_out", f"no end within {limit:g}s", now)
            if view.rollback == "sent" and view.rollback_sent_at is not None and now >= view.rollback_sent_at + limit:
                view.rollback = "timed_out"

    def _released(self) -> list[DeviceView]:
        return [self.views[d] for d in self.order[: self.released]]

    def counts(self, views: Sequence[DeviceView] | None = None) -> Counter[str]:
        return Counter(v.phase for v in (views if views is not None else self.views.values()))

    def _record(self, now: float, action: str, rule: str, detail: str) -> None:
        self.decisions.append(
            {
                "t": round(now, 3),
                "wave": self.wave + 1,
                "action": action,
                "rule": rule,
                "detail": detail,
                "released": self.released,
            }
        )

    def _decide(self, now: float) -> None:
        abort = abort_reason(
            self.policy,
            self._released(),
            [self.views[d] for d in self.order[self.wave_end : self.released]],
            self.wave + 1,
        )
        if abort is not None:
            self._record(now, "abort", abort.rule, abort.detail)
            self.aborting, self.outcome, self.aborted_at = True, "aborted", now
            for view in self.views.values():
                if view.phase in ("notified", "in_progress"):
                    self.commands.append((view.device, {"kind": "cancel", "job": self.job}))
            return
        if self.policy.rate is not None:
            self._release_by_rate(now)
        elif self.released == 0:
            self._release(self.targets[0], now)
            self.wave_end = 0
            self._record(now, "start", "waves", f"wave 1: {self.released} devices")
        elif all(self.views[d].phase in TERMINAL for d in self.order[: self.released]):
            self._wave_done(now)
        if (
            self.released == len(self.order)
            and not self.done
            and not self.aborting
            and all(v.phase in TERMINAL for v in self.views.values())
        ):
            self._finish_rollout(now)

    def _wave_done(self, now: float) -> None:
        if self.released == len(self.order):
            return
        released = [self.views[d] for d in self.order[: self.released]]
        p = self.policy
        if p.wave_success_percentage is not None:
            wave = released[self.wave_end :]
            ok = sum(1 for v in wave if v.phase == "succeeded")
            if wave and 100.0 * ok / len(wave) < p.wave_success_percentage:
                self._record(
                    now,
                    "abort",
                    "success_condition",
                    f"{ok} of {len(wave)} devices of wave "
                    f"{self.wave + 1} succeeded: below {p.wave_success_percentage:g} %",
                )
                self.aborting, self.outcome, self.aborted_at = True, "aborted", now
                return
        j = statistical(self.policy, released, "continue")
        assert j is not None
        suspect = suspect_class(self.policy, released)
        if j.action == "continue" and suspect:
            j = Judgement("wait", "hardware_class", f"{j.detail}, but {suspect}: more devices before the next wave")
        # the next wave's boundary above what is out (an extended wave may have passed the planned one)
        boundary = next((t for t in self.targets if t > self.released), len(self.order))
        if j.action == "continue":
            if self._soak_until is None and self.policy.wave_soak > 0:
                self._soak_until = now + self.policy.wave_soak  # the wave runs this long before the next starts
                self._record(
                    now, "soak", j.rule, f"{j.detail}; the next wave starts after {self.policy.wave_soak / 3600:g} h"
                )
            if self._soak_until is not None and now < self._soak_until:
                return
            self._soak_until = None
            self.wave += 1
            self.wave_end = self.released
            self._release(boundary, now)
            self._record(now, "continue", j.rule, f"{j.detail}; wave {self.wave + 1}: {self.released} devices")
        else:
            detail = j.detail
            if j.action == "abort":  # above at the stated confidence, not yet at the share each scope needs to stop
                detail += ", not yet at the confidence a stop needs over every hardware class"
            # an undecided wave grows up to the next wave's planned size, never past it
            cap = self.targets[min(self.wave + 1, len(self.targets) - 1)]
            if self.released >= cap:
                self._halt(now, j.rule, f"{detail}; wave {self.wave + 1} reached the next wave's size ({cap})")
                return
            self._release(min(boundary, cap, self.released + self.batch), now)
            self._record(now, "extend", j.rule, f"{detail}; wave {self.wave + 1} extended to {self.released}")

    def _release(self, upto: int, now: float) -> None:
        for d in self.order[self.released : upto]:
            view = self.views[d]
            view.wave, view.phase, view.notified_at = self.wave, "notified", now
            self.commands.append((d, self._job(view)))
        self.released = max(self.released, min(upto, len(self.order)))

    def _release_by_rate(self, now: float) -> None:
        rate = self.policy.rate
        assert rate is not None
        if self._rate_started is None:
            self._rate_started, self._rate_credit = now, float(rate.base_per_minute)
            self._record(now, "start", "rate", f"{rate.base_per_minute} devices a minute")
        else:
            self._rate_credit += self._rate * (now - self._last_rate_step) / 60.0
        self._last_rate_step = now
        count = int(self._rate_credit)
        if count:
            self._rate_credit -= count
            self._release(self.released + count, now)
        reached = self.released if rate.increase_on == "notified" else self.counts()["succeeded"]
        while reached - self._rate_mark >= rate.increase_after and self._rate < rate.maximum_per_minute:
            self._rate_mark += rate.increase_after
            self._rate = min(float(rate.maximum_per_minute), self._rate * rate.increment_factor)

    def next_release(self, now: float) -> float | None:
        """When the rate lets the next device go (rate mode only)."""
        if self.policy.rate is None or self.aborting or self.released >= len(self.order) or self._rate <= 0:
            return None
        return now + max(0.0, (1.0 - self._rate_credit)) * 60.0 / self._rate

    def _finish_rollout(self, now: float) -> None:
        j = statistical(self.policy, list(self.views.values()), "continue")
        assert j is not None
        if j.action == "continue":
            self.outcome = "promoted"
            self._record(now, self.outcome, j.rule, j.detail)
            self.done = True
        else:
            self._halt(now, j.rule, f"{j.detail}; every device has run the job")

    def _halt(self, now: float, rule: str, detail: str) -> None:
        """Fail closed: the rule could not show the failure rate below the limit within the exposure the policy
        allows, so the build goes no further and the devices that took it go back."""
        self._record(now, "inconclusive", rule, detail)
        self.aborting, self.outcome, self.aborted_at = True, "inconclusive", now

    def _roll_back(self, now: float) -> None:
        in_flight = False
        for view in self.views.values():
            if view.phase in ("notified", "in_progress"):
                in_flight = True
            if self.policy.rollback and view.running() == self.new and view.rollback == "":
                view.rollback, view.rollback_sent_at = "sent", now
                self.commands.append(
                    (view.device, {"kind": "rollback", "job": self.rollback_job, "version": self.old, "attempt": 0})
                )
        if not in_flight and all(v.rollback != "sent" for v in self.views.values()):
            self.done = True
            rolled = sum(1 for v in self.views.values() if v.rollback == "succeeded")
            self._record(now, "rolled_back", "rollback", f"{rolled} devices back on {self.old}")

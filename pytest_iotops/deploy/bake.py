"""One canary step's bake: data gathered in slices (a live progress line), the canary's health probed and its
process watched, until both versions served enough to judge (the adaptive bake) or the longest bake passed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from ..errors import DeployError
from .checks import ResponseCheck
from .judge import MetricResult, MetricSpec, Samples, judge, merge, quantile
from .process import probe
from .result import Progress
from .target import Target

#: a step whose data fails the judge at this significance (but not at the metric's own) bakes on
SUSPECT_ALPHA = 0.1


def _with_errors(samples: Samples, errors: int) -> Samples:
    """``errors`` more of the window's requests failed (never more than it holds)."""
    if not errors:
        return samples
    return replace(samples, errors=min(samples.requests, samples.errors + errors))


def health(url: str, checks: Sequence[ResponseCheck] = ()) -> tuple[int | None, str]:
    """One health probe with a second's grace (on a loaded machine a healthy answer can take a few hundred ms);
    one that timed out is asked again with three: a stall of the machine answers then, a hung canary does not."""
    status, seen = probe(url, timeout=1.0, checks=checks)
    if status is None and "imeout" in seen:
        status, seen = probe(url, timeout=3.0, checks=checks)
    return status, seen


class Bake:
    """One step's bake: slices of data, health probes and the canary's process, gathered until time is up and
    both versions served enough requests to judge (the adaptive bake), or the longest bake has passed."""

    def __init__(
        self,
        target: Target,
        stable: str,
        new: str,
        interval: float,
        need: tuple[int, int],
        specs: Sequence[MetricSpec] = (),
    ) -> None:
        self.target, self.stable, self.new = target, stable, new
        self.url = target.processes[new].url + target.health_path
        self.interval = interval
        self.need_canary, self.need_stable = need
        #: the step's metrics at a looser significance: data that looks bad but does not yet prove it
        self.specs = list(specs)
        self.suspect = [replace(s, alpha=max(s.alpha, SUSPECT_ALPHA)) for s in specs]
        self._suspicious = False
        self.canary, self.baseline = Samples(), Samples()
        #: what the load saw over the step, every version together (judged as availability)
        self.client = Samples()
        self.probes = 0
        self.failed_probes: list[str] = []
        self.exited: int | None = None
        self.stable_exited: int | None = None
        self.error = ""
        self.ended = 0.0
        #: a window that failed on latency alone, set aside for a fresh one at the same weight: its reason
        self.set_aside = ""
        self.end = 0.0
        self.started = time.monotonic()
        #: the step's monitoring signals, judged (result, thresholds, dry run)
        self.signals: list[tuple[MetricResult, MetricSpec, bool]] = []
        #: why the stable version's own signals say it degraded ("" = they do not)
        self.stable_degraded = ""
        self._seconds = 0.0
        self._aside = (Samples(), Samples())

    def collect(self) -> None:
        """The splitter's window, plus what only the clients could see: answers that failed a response check are
        errors of the version that gave them."""
        window = self.target.window()
        checks, client = self.target.observed()
        self.canary = merge(self.canary, _with_errors(window.get(self.new, Samples()), checks.get(self.new, 0)))
        stable = _with_errors(window.get(self.stable, Samples()), checks.get(self.stable, 0))
        self.baseline = merge(self.baseline, stable)
        self.client = merge(self.client, client)

    def enough(self) -> bool:
        """Both versions served the minimum, and the data does not look bad without proving it: a canary that
        might be failing bakes on (at the same exposure) until the judge can tell, up to the longest bake."""
        return self._enough_data() and not self._suspicious

    def judged_by(self, specs: Sequence[MetricSpec]) -> list[MetricSpec]:
        """The specs the step is judged with: after a latency failure was set aside, the fresh window confirms it
        at the looser significance — strong evidence once and weak evidence again, independent of it, is a
        failure (a real 5 % tail rarely fails a small window twice at the strict level: requiring that cost too
        much power); a stall does not recur at either level. A healthy canary is rolled back this way only when
        a stall failed its first window *and* noise fails the second at p < 0.1."""
        if not self.set_aside:
            return list(specs)
        return [replace(s, alpha=max(s.alpha, SUSPECT_ALPHA)) if s.name.startswith("latency_") else s for s in specs]

    def _enough_data(self) -> bool:
        return self.canary.requests >= self.need_canary and self.baseline.requests >= self.need_stable

    def _look(self) -> None:
        """Suspicious: failing at the looser significance, not (yet) at the metric's own. A window failing on
        latency alone is confirmed once on a fresh window at the same weight: one stall of a process (a page-in,
        a scheduler starved by a loaded machine) slows every request in flight at once, so the requests of one
        window are not the independent samples the binomial test assumes. A slow canary fails the fresh window
        too; a stall does not recur (Kayenta's warm-up and Argo's initial delay exclude the same start-up data,
        blindly)."""
        own = judge(self.canary, self.baseline, self.specs)
        if not self.set_aside and own.verdict == "fail" and _latency_only(own.metrics) and self._enough_data():
            self.set_aside, self._aside = own.reason, (self.canary, self.baseline)
            self.canary, self.baseline = Samples(), Samples()
            self.end = time.monotonic() + self._seconds
            return
        self._suspicious = (
            bool(self.suspect)
            and judge(self.canary, self.baseline, self.suspect).verdict == "fail"
            and own.verdict != "fail"
        )

    def run(self, seconds: float, longest: float, progress: Progress | None, line: str) -> None:
        started = time.monotonic()
        self._seconds = seconds
        self.end, cap = started + seconds, started + max(seconds, longest)
        next_report = started + 0.25
        while True:
            now = time.monotonic()
            if now >= cap or (now >= self.end and self.enough()):
                break
            time.sleep(max(0.0, min(self.interval, (self.end if now < self.end else cap) - now)))
            self.exited = self.target.processes[self.new].proc.poll()
            stable = self.target.processes.get(self.stable)
            self.stable_exited = stable.proc.poll() if stable is not None else None
            if self.exited is not None or self.stable_exited is not None:
                break
            status, seen = health(self.url, self.target.checks)
            self.probes += 1
            if status != 200:
                self.failed_probes.append(seen)
            if time.monotonic() >= next_report:
                next_report += 0.25
                try:
                    self.collect()
                except DeployError as exc:
                    self.error = str(exc)
                    break
                if time.monotonic() >= self.end:
                    self._look()
                if progress is not None:
                    progress(line + self.numbers(), False)
        if self.set_aside and not self._enough_data():
            # the longest bake ended before the fresh window could confirm or clear: the failure stands
            self.canary, self.baseline = merge(self._aside[0], self.canary), merge(self._aside[1], self.baseline)
        self.ended = time.perf_counter()

    def numbers(self) -> str:
        c = self.canary
        p99 = quantile(c.latencies_ms, 0.99)
        rate = f"{c.error_rate:.1%}" if c.error_rate is not None else "-"
        return (
            f"{c.requests} canary / {self.baseline.requests} stable requests, errors {rate}, "
            f"p99 {'-' if p99 is None else f'{p99:.0f} ms'}"
        )


def _latency_only(metrics: Sequence[MetricResult]) -> bool:
    failed = [m.name for m in metrics if m.verdict == "fail"]
    return bool(failed) and all(name.startswith("latency_") for name in failed)

"""The monitor of a deployment: the providers its signals need, opened once; each step's window read at both
ends and judged. Readings are taken after every running version was scraped past the moment asked for, so a
window holds exactly what the versions counted in it, to one scrape."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..deploy.judge import JudgeResult, MetricResult, MetricSpec
from ..values import FrozenValue, record
from .alerts import ALERTS_SPEC, check_rules, judge_alerts
from .analysis import without_nan
from .logs import LogsProvider, parse_query
from .prometheus import PrometheusProvider
from .promql import MonitoringError, render
from .providers import MetricProvider
from .scoring import Scoring
from .signals import Reading, SignalMetric, judge_series, judge_signal

__all__ = ["Mark", "Monitor"]


@record(frozen=True)
class Mark(FrozenValue):
    """Per version, per signal: its counters at one moment (Unix time ``at``)."""

    at: float
    readings: dict[str, dict[str, Reading]]


#: a judged signal: its result, its thresholds, and whether it is a dry run
Judged = tuple[MetricResult, MetricSpec, bool]
#: the run history's earlier values of signals: (names, runs, promoted only) -> values by name, newest first
HistoryLookup = Callable[[list[str], int, bool], dict[str, list[float]]]


def _interval(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


class Monitor:
    """``builtin``: whether the router's own measurements are judged too (False: the signals alone)."""

    def __init__(
        self,
        metrics: Sequence[SignalMetric],
        providers: Mapping[str, Callable[[], MetricProvider]],
        builtin: bool = True,
        poll: float = 0.25,
        alert_rules: Sequence[Path] = (),
        scoring: Scoring | None = None,
        history: HistoryLookup | None = None,
    ) -> None:
        self.metrics, self.builtin, self.poll = list(metrics), builtin, poll
        self.scoring = scoring or Scoring()
        #: signals compared with earlier runs: the lookup, and each one's comparison value (None: no earlier run)
        self.history = history
        self._earlier: dict[str, float | None] = {}
        #: Prometheus rule files: an alert firing for the canary during a step fails it
        self.alert_rules = [Path(p) for p in alert_rules]
        self._makers = dict(providers)
        self.providers: dict[str, MetricProvider] = {}
        self.ports: dict[str, int] = {}
        #: per signal, the last stable window with enough data: the baseline where the stable version served
        #: too little (the 100 % step serves it nothing)
        self._baseline: dict[str, dict[str, dict[str, float]]] = {}
        #: per ratio signal, the stable version's first window with enough data: its own reference
        self._reference: dict[str, dict[str, dict[str, float]]] = {}
        #: per series signal, the stable version's last samples with enough of them
        self._series_base: dict[str, list[float]] = {}
        #: per signal, the failed and inconclusive steps its limits tolerated so far in this deployment
        self._tolerated: dict[str, dict[str, int]] = {}

    def begin(self) -> None:
        """A new deployment: nothing of the last one's baseline carries over."""
        self._baseline.clear()
        self._reference.clear()
        self._series_base.clear()
        self._tolerated.clear()

    def open(self, ports: Mapping[str, int]) -> None:
        """Start the providers the signals use and tell them every version's port (before any starts)."""
        self.ports = dict(ports)
        self._earlier = self._read_history()
        if self.alert_rules:
            check_rules(self.alert_rules, "deploy.monitoring")
        try:
            for name in sorted({m.provider for m in self.metrics} | ({"prometheus"} if self.alert_rules else set())):
                provider = self._makers[name]()
                self.providers[name] = provider
                if isinstance(provider, PrometheusProvider):
                    provider.rule_files = self.alert_rules
                provider.open()
                provider.watch(self.ports)
        except BaseException:
            self.close()
            raise

    def _read_history(self) -> dict[str, float | None]:
        """Each history-compared signal's mean over its earlier runs (Keptn's avg), read once per deployment;
        without a history configured such signals compare with the stable version."""
        wanted = [m for m in self.metrics if m.compare_with == "history"]
        if not wanted or self.history is None:
            return {}
        out: dict[str, float | None] = {}
        for include in {m.history_include for m in wanted}:
            group = [m for m in wanted if m.history_include == include]
            values = self.history([m.name for m in group], max(m.history_runs for m in group), include == "pass")
            for m in group:
                earlier = values.get(m.name, [])[: m.history_runs]
                out[m.name] = sum(earlier) / len(earlier) if earlier else None
        return out

    def close(self) -> None:
        for provider in self.providers.values():
            provider.close()
        self.providers.clear()

    def _values(self, metric: SignalMetric, template: str, version: str, seconds: float) -> dict[str, float]:
        query = render(
            template, {"version": version, "port": str(self.ports.get(version, "")), "interval": _interval(seconds)}
        )
        vector = self.providers[metric.provider].read(query)
        if metric.kind != "histogram":
            if len(vector) > 1:
                raise MonitoringError(f"{metric.name}: {query!r} gave {len(vector)} series; aggregate it (sum)")
            return {"": vector[0][1]} if vector else {}
        values: dict[str, float] = {}
        for labels, value in vector:
            if "le" not in labels:
                raise MonitoringError(f"{metric.name}: {query!r} gave a series without an 'le' label: {labels}")
            values[labels["le"]] = values.get(labels["le"], 0.0) + value
        return values

    def mark(self, running: Sequence[str], logs: Mapping[str, Path] | None = None) -> Mark:
        """Every counter signal of every running version, once each was scraped after now; ``logs``: each
        running version's output file, for providers that read logs."""
        now = time.time()
        for provider in self.providers.values():
            provider.follow(logs or {})
        for provider in self.providers.values():
            provider.fresh(now, running)
        readings = {
            version: {
                m.name: Reading({role: self._values(m, q, version, 0.0) for role, q in m.queries().items()})
                for m in self.metrics
                if m.kind != "value"
            }
            for version in running
        }
        return Mark(now, readings)

    def judge(self, start: Mark, end: Mark, canary: str, stable: str) -> list[Judged]:
        out: list[Judged] = []
        seconds = end.at - start.at
        for m in self.metrics:
            if m.kind == "series":
                base = self._series_baseline(m, self._series(m, stable, start, end))
                result = judge_series(m, self._series(m, canary, start, end), base)
            elif m.kind == "value":
                c = {"value": self._values(m, m.query, canary, seconds)}
                s = {"value": self._values(m, m.query, stable, seconds)} if stable in end.readings else {}
                if m.name in self._earlier:  # compared with earlier runs: their mean, or none
                    earlier = self._earlier[m.name]
                    s["history"] = {} if earlier is None else {"": earlier}
                result = judge_signal(m, c, s)
            else:
                c = _since(start, end, canary, m.name)
                s = self._stable(m, _since(start, end, stable, m.name))
                result = judge_signal(m, c, s)
            provider = self.providers.get(m.provider)
            if result.verdict == "fail" and isinstance(provider, LogsProvider):
                _, levels = parse_query(render(m.events, {"version": canary, "port": "", "interval": ""}))
                shown = " | ".join(provider.last_lines(canary, levels or frozenset()))
                result.reason += f"; last lines of {canary}: {shown}" if shown else ""
            if m.dry_run:
                result.reason = f"dry run: {result.reason}"
            out.append((result, m.spec(), m.dry_run))
        prometheus = self.providers.get("prometheus")
        if self.alert_rules and isinstance(prometheus, PrometheusProvider):
            out.append((judge_alerts(prometheus.client(), seconds, canary, stable), ALERTS_SPEC, False))
        return out

    def _series(self, metric: SignalMetric, version: str, start: Mark, end: Mark) -> list[float]:
        """Every sample of the version's expression over the step (none when it was not running)."""
        if version not in end.readings:
            return []
        values = {
            "version": version,
            "port": str(self.ports.get(version, "")),
            "interval": _interval(end.at - start.at),
        }
        return self.providers[metric.provider].read_range(render(metric.query, values), start.at, end.at)

    def settle(self, judged: Sequence[Judged]) -> list[Judged]:
        """A step's final readings against each signal's failure_limit and inconclusive_limit (Argo's): a failed
        or inconclusive step within its signal's limit is tolerated (shown, counted, not deciding)."""
        by_name = {m.name: m for m in self.metrics}
        for result, _, dry in judged:
            metric = by_name.get(result.name)
            limit = (
                {"fail": metric.failure_limit, "inconclusive": metric.inconclusive_limit}.get(result.verdict, 0)
                if metric
                else 0
            )
            if dry or metric is None or not limit:
                continue
            seen = self._tolerated.setdefault(metric.name, {})
            count = seen.get(result.verdict, 0) + 1
            seen[result.verdict] = count
            what = "failureLimit" if result.verdict == "fail" else "inconclusiveLimit"
            if count <= limit:
                result.reason = f"tolerated ({result.verdict} {count} of {what} {limit}): {result.reason}"
                result.verdict = "pass"
            else:
                result.reason += f" ({result.verdict} {count}, more than {what} {limit})"
        return list(judged)

    def _series_baseline(self, metric: SignalMetric, samples: list[float]) -> list[float]:
        """The stable version's samples, or its last step's with enough of them (at 100 % it serves nothing)."""
        if len(without_nan(samples, metric.nan)) >= metric.limits.min_samples:
            self._series_base[metric.name] = samples
            return samples
        return self._series_base.get(metric.name, samples)

    def score(self, gates: Sequence[MetricResult], judged: Sequence[Judged]) -> JudgeResult:
        """The step's verdict from the router's results (``gates``) and the judged signals, as configured; the
        alert gate stays a gate, a dry-run signal never decides."""
        by_name = {m.name: m for m in self.metrics}
        signals = [(r, by_name[r.name]) for r, _, dry in judged if not dry and r.name in by_name]
        alerts = [r for r, _, dry in judged if not dry and r.name not in by_name]
        return self.scoring.score([*gates, *alerts], signals)

    def _stable(self, metric: SignalMetric, window: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        if _observations(window) >= metric.limits.min_samples:
            self._baseline[metric.name] = window
            return window
        return self._baseline.get(metric.name, window)

    def stable_degraded(self, start: Mark, end: Mark, stable: str) -> str:
        """Why the stable version's own signals say it degraded since its first window with enough data (the
        ratio signals, judged as the canary is against its baseline), or "": the rollout halts, as it does when
        the router's data of the stable version says so."""
        for m in self.metrics:
            if m.kind != "ratio" or m.dry_run:
                continue
            window = _since(start, end, stable, m.name)
            if _observations(window) < m.limits.min_samples:
                continue
            reference = self._reference.setdefault(m.name, window)
            if reference is not window and (result := judge_signal(m, window, reference)).verdict == "fail":
                return f"{m.name} of the stable version: {result.reason}"
        return ""

    def short(self, judged: Sequence[Judged]) -> bool:
        """A deciding signal is still short of samples (more time at this weight can settle it)."""
        return any(not dry and r.verdict == "inconclusive" and r.reason.startswith("only ") for r, _, dry in judged)


def _since(start: Mark, end: Mark, version: str, name: str) -> dict[str, dict[str, float]]:
    now = end.readings.get(version, {}).get(name)
    if now is None:
        return {}
    return now.since(start.readings.get(version, {}).get(name, Reading()))


def _observations(window: Mapping[str, Mapping[str, float]]) -> float:
    """How many requests a window of a counter signal holds (a ratio's total, a histogram's +Inf bucket)."""
    if "total" in window:
        return window["total"].get("", 0.0)
    return max(window.get("buckets", {}).values(), default=0.0)

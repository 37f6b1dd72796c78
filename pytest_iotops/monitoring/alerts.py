"""Alert rules as gates: the user's Prometheus rule files, checked with ``promtool check rules`` before anything
starts and loaded into the monitor's Prometheus; an alert that fired for the canary during a step fails it, with
the alert's labels and annotations in the decision log."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..deploy.judge import MetricResult, MetricSpec
from ..errors import ConfigError
from .promql import MonitoringError, PrometheusAPI

__all__ = ["ALERTS_SPEC", "check_rules", "fired", "judge_alerts", "promtool_binary"]

#: labels of the ALERTS series that are not the alert's own
_HIDDEN = frozenset({"__name__", "alertstate"})
#: the record's thresholds: no alert may fire for the canary
ALERTS_SPEC = MetricSpec("error_rate", max_value=0.0, min_samples=0, unit="value")


def promtool_binary() -> str | None:
    return shutil.which("promtool") or next(
        (p for p in ("/usr/bin/promtool", "/usr/sbin/promtool") if os.access(p, os.X_OK)), None
    )


def check_rules(files: Sequence[Path], where: str) -> None:
    """``promtool check rules``: a file that is missing, not a rule file, or holds a rule Prometheus would
    refuse is a configuration error naming the file and promtool's own words."""
    for path in files:
        if not path.is_file():
            raise ConfigError(f"{where}: deploy.monitoring.alert_rules: {path} does not exist")
    promtool = promtool_binary()
    if promtool is None:
        raise ConfigError(
            f"{where}: deploy.monitoring.alert_rules needs promtool to check the rules (Debian: apt-get install "
            "prometheus)"
        )
    done = subprocess.run([promtool, "check", "rules", *map(str, files)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if line.strip())
        raise ConfigError(f"{where}: deploy.monitoring.alert_rules: promtool check rules failed:\n{said[-2000:]}")


def fired(api: PrometheusAPI, seconds: float) -> list[dict[str, str]]:
    """The label sets of every alert that was firing at some point in the last ``seconds`` (Prometheus keeps
    the ``ALERTS`` series while an alert is pending or firing)."""
    window = f"{max(1, round(seconds * 1000))}ms"
    return [labels for labels, _ in api.query(f'max_over_time(ALERTS{{alertstate="firing"}}[{window}])')]


def _annotations(api: PrometheusAPI) -> dict[tuple[tuple[str, str], ...], dict[str, Any]]:
    """The annotations of the alerts active now, by their labels (a resolved alert has none left to show)."""
    try:
        data = api.get("/api/v1/alerts", {})
    except MonitoringError:
        return {}
    alerts = data.get("alerts", []) if isinstance(data, dict) else []
    return {
        tuple(sorted((a.get("labels") or {}).items())): a.get("annotations") or {}
        for a in alerts
        if isinstance(a, dict)
    }


def judge_alerts(api: PrometheusAPI, seconds: float, canary: str, stable: str) -> MetricResult:
    firing = fired(api, seconds)
    mine = [a for a in firing if a.get("version") == canary]
    others = [a for a in firing if a.get("version") == stable]
    result = MetricResult("alerts", "pass", float(len(mine)), float(len(others)), len(firing), "")
    if not mine:
        result.reason = f"no alert fired for {canary}" + (f" ({len(others)} for {stable})" if others else "")
        return result
    notes = _annotations(api)
    described = []
    for labels in mine:
        key = tuple(sorted((k, v) for k, v in labels.items() if k not in _HIDDEN))
        annotations = notes.get(key, {})
        shown = ", ".join(f"{k}={v}" for k, v in key)
        said = "; ".join(f"{k}: {v}" for k, v in sorted(annotations.items()))
        described.append(f"{labels.get('alertname', '?')} {{{shown}}}" + (f" — {said}" if said else ""))
    result.verdict = "fail"
    result.reason = f"alert fired for {canary}: " + " | ".join(described)
    return result

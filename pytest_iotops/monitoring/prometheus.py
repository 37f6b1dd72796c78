"""Prometheus as a metric provider: a user's server by URL, or a real one (Debian's ``prometheus``) started on
127.0.0.1 with a generated configuration that scrapes each running version's metrics path, found through a
file-based service discovery file rewritten as versions start and stop. Each scrape target carries the label
``version``, so a query template selects a version as ``{version="{{ version }}"}``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ..deploy.process import VersionProcess, start_version
from .promql import MonitoringError, PrometheusAPI, Vector
from .providers import MetricProvider

__all__ = ["JOB", "PrometheusProvider", "PrometheusServer", "prometheus_binary"]

JOB = "iotops"


def prometheus_binary() -> str | None:
    return shutil.which("prometheus") or next(
        (p for p in ("/usr/bin/prometheus", "/usr/sbin/prometheus") if os.access(p, os.X_OK)), None
    )


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def _alertmanager(url: str) -> dict[str, Any]:
    """An Alertmanager URL as Prometheus' ``alertmanagers`` entry (API v2)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"alertmanager = {url!r}: expected an http(s) URL such as http://127.0.0.1:9093")
    entry: dict[str, Any] = {
        "scheme": parts.scheme,
        "api_version": "v2",
        "static_configs": [{"targets": [parts.netloc]}],
    }
    if parts.path.strip("/"):
        entry["path_prefix"] = parts.path
    return entry


class PrometheusServer:
    """One private server: its own directory (configuration, discovery file, storage), gone when it stops."""

    def __init__(
        self,
        scrape_interval: float = 0.5,
        metrics_path: str = "/metrics",
        rule_files: Sequence[Path] = (),
        alertmanager: str = "",
    ) -> None:
        self.scrape_interval, self.metrics_path, self.alertmanager = scrape_interval, metrics_path, alertmanager
        self.rule_files = [Path(p).resolve() for p in rule_files]
        self.home = Path(tempfile.mkdtemp(prefix="iotops-prometheus-"))
        self.targets = self.home / "targets.json"
        self.process: VersionProcess | None = None

    def config(self) -> dict[str, Any]:
        """The configuration as data (written as JSON, which YAML reads)."""
        interval = _duration(self.scrape_interval)
        alerting = {"alerting": {"alertmanagers": [_alertmanager(self.alertmanager)]}} if self.alertmanager else {}
        return {
            **alerting,
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": [
                {
                    "job_name": JOB,
                    "metrics_path": self.metrics_path,
                    "scrape_interval": interval,
                    "scrape_timeout": _duration(self.scrape_interval * 0.8),
                    "file_sd_configs": [{"files": [str(self.targets)], "refresh_interval": "1s"}],
                }
            ],
        }

    def set_targets(self, versions: Mapping[str, int]) -> None:
        """Atomically: Prometheus watches the file and must never read half of it."""
        groups = [{"targets": [f"127.0.0.1:{port}"], "labels": {"version": name}} for name, port in versions.items()]
        tmp = self.targets.with_suffix(".tmp")
        tmp.write_text(json.dumps(groups))
        tmp.replace(self.targets)

    def start(self, timeout: float = 30.0) -> str:
        binary = prometheus_binary()
        if binary is None:
            raise MonitoringError("Prometheus is not installed (Debian: apt-get install prometheus); or set url")
        self.set_targets({})
        config = self.home / "prometheus.yml"
        config.write_text(json.dumps(self.config(), indent=1))
        argv = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.home / 'data'}",
            "--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
            "--log.level=warn",
        ]
        self.process = start_version(
            "prometheus", argv, cwd=self.home, health_path="/-/ready", timeout=timeout, tied=True
        )
        return self.process.url

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
        shutil.rmtree(self.home, ignore_errors=True)


class PrometheusProvider(MetricProvider):
    """``url`` empty: start a private server scraping every ``scrape_interval`` seconds; each read waits for a
    scrape of every running version newer than the moment asked for (:meth:`fresh`), so a step's window is
    exact to one scrape."""

    name = "prometheus"
    kinds = frozenset({"ratio", "histogram", "value", "series"})
    keys: ClassVar[Mapping[str, str]] = {
        "url": "a Prometheus base URL (empty: start one)",
        "scrape_interval": "seconds",
        "metrics_path": "the versions' metrics path",
        "timeout": "seconds per query",
        "alertmanager": "an Alertmanager URL the started server sends its alerts to",
    }

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.server: PrometheusServer | None = None
        self.api: PrometheusAPI | None = None
        self.versions: dict[str, int] = {}
        self.scrape_interval = float(self.options.get("scrape_interval", 0.5))
        if not 0.05 <= self.scrape_interval <= 60:
            raise ValueError(f"scrape_interval = {self.scrape_interval:g}: expected 0.05 to 60 seconds")
        float(self.options.get("timeout", 5.0))  # a value that is not a number fails here, not mid-rollout
        self.alertmanager = str(self.options.get("alertmanager") or "")
        if self.alertmanager:
            if self.options.get("url"):
                raise ValueError("alertmanager applies to a started server; a server of yours has its own alerting")
            _alertmanager(self.alertmanager)
        #: alert rule files loaded into a server this provider starts (checked before, by the monitor)
        self.rule_files: list[Path] = []

    def open(self) -> None:
        url = str(self.options.get("url") or "")
        if not url:
            metrics_path = str(self.options.get("metrics_path", "/metrics"))
            self.server = PrometheusServer(self.scrape_interval, metrics_path, self.rule_files, self.alertmanager)
            url = self.server.start()
        self.api = PrometheusAPI(url, float(self.options.get("timeout", 5.0)))

    def client(self) -> PrometheusAPI:
        """The server's API (public for the alert gate)."""
        if self.api is None:
            raise MonitoringError("the Prometheus provider was not opened")
        return self.api

    def watch(self, versions: Mapping[str, int]) -> None:
        self.versions = dict(versions)
        if self.server is not None:
            self.server.set_targets(self.versions)

    def fresh(self, after: float, running: Sequence[str]) -> None:
        """Every watched version scraped (successfully) at or after ``after``; a server of the user's is read as
        it is. Bounded: 20 scrape intervals plus 5 s, then a measurement error naming who was not scraped."""
        if self.server is None or not running:
            return
        deadline = time.monotonic() + 20 * self.scrape_interval + 5.0
        while True:
            seen = {
                labels.get("version", ""): value
                for labels, value in self.client().query(f'timestamp(up{{job="{JOB}"}} == 1)')
            }
            late = sorted(v for v in running if seen.get(v, 0.0) < after)
            if not late:
                return
            if time.monotonic() > deadline:
                raise MonitoringError(
                    f"Prometheus did not scrape {', '.join(late)} after {after:.3f} within the deadline "
                    f"(scrape interval {self.scrape_interval:g}s); is {self.options.get('metrics_path', '/metrics')} "
                    "served?"
                )
            time.sleep(self.scrape_interval / 4)

    def read(self, query: str) -> Vector:
        return self.client().query(query)

    def read_range(self, query: str, start: float, end: float) -> list[float]:
        return self.client().series(query, start, end, self.scrape_interval)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

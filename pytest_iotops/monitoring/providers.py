"""Metric providers: where a monitoring signal comes from. One interface, one module each, a registry the
``iotops_metric_providers`` hook extends — a provider reads a query (a PromQL expression, a URL, a command line:
its own language) and gives an instant vector; the analysis does the rest."""

from __future__ import annotations

import json
import shlex
import subprocess
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from .. import validate as v
from ..deploy.checks import json_path_value
from .promql import MonitoringError, Vector

__all__ = ["CommandProvider", "MetricProvider", "WebProvider"]


class MetricProvider(ABC):
    """``kinds``: the metric types it can measure (``ratio`` and ``histogram`` need counters; ``value`` any
    number). ``options``: its ``[tool.iotops.deploy.monitoring.<name>]`` table, checked by :meth:`configure`."""

    name: ClassVar[str] = ""
    kinds: ClassVar[frozenset[str]] = frozenset({"value"})
    #: the options table's keys and what each must be (validated before anything starts)
    keys: ClassVar[Mapping[str, str]] = {}

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)

    def open(self) -> None:  # noqa: B027 - optional hook
        """Start whatever the provider needs (a server); called once before the first deployment."""

    def watch(self, versions: Mapping[str, int]) -> None:  # noqa: B027 - optional hook
        """The versions now running (name → port on 127.0.0.1): a provider that scrapes them starts doing so."""

    def fresh(self, after: float, running: Sequence[str]) -> None:  # noqa: B027 - optional hook
        """Block until what the ``running`` versions did up to ``after`` (Unix time) can be read."""

    def follow(self, logs: Mapping[str, Path]) -> None:  # noqa: B027 - optional hook
        """The output file of each running version (a provider that reads logs follows them)."""

    @abstractmethod
    def read(self, query: str) -> Vector:
        """The query's current instant vector (labels, value)."""

    def read_range(self, query: str, start: float, end: float) -> list[float]:
        """Every sample of the query's one series from ``start`` to ``end`` (Unix times), for a series signal;
        only a provider that keeps history can."""
        raise MonitoringError(f"the {self.name} provider keeps no history: it cannot read a series ({query!r})")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop what :meth:`open` started."""


class WebProvider(MetricProvider):
    """``query`` is a URL (loopback or the user's); with ``json_path`` (``$.a.b``) the number at that path of
    its JSON answer, else the whole body as a number (Argo's web provider)."""

    name = "web"
    keys: ClassVar[Mapping[str, str]] = {"timeout": "seconds", "json_path": "$.path"}

    def read(self, query: str) -> Vector:
        timeout = float(self.options.get("timeout", 5.0))
        try:
            with urllib.request.urlopen(query, timeout=timeout) as response:  # noqa: S310 - the user's URL
                body = response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise MonitoringError(f"web metric {query}: no answer: {getattr(exc, 'reason', exc)}") from None
        path = self.options.get("json_path")
        try:
            value: Any = json_path_value(json.loads(body), str(path)) if path else body.decode().strip()
            return [({}, float(value))]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, v.Invalid) as exc:
            raise MonitoringError(f"web metric {query}: no number at {path or 'the body'}: {exc}") from None


class CommandProvider(MetricProvider):
    """``query`` is a command line (split like a shell would, run without one) whose standard output is a
    number; a non-zero exit or anything else printed is a failed measurement."""

    name = "command"
    keys: ClassVar[Mapping[str, str]] = {"timeout": "seconds"}

    def read(self, query: str) -> Vector:
        argv = shlex.split(query)
        timeout = float(self.options.get("timeout", 10.0))
        try:
            done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MonitoringError(f"command metric {argv[:1]}: {exc}") from None
        out = done.stdout.decode("utf-8", "replace").strip()
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()[-300:]
            raise MonitoringError(f"command metric {query!r} exited with code {done.returncode}: {err}")
        try:
            return [({}, float(out))]
        except ValueError:
            raise MonitoringError(f"command metric {query!r} printed {out[:100]!r}, not a number") from None

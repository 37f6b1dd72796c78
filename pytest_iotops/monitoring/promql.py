"""Query templates and the Prometheus HTTP API: instant queries at a given time, answers checked, every error
naming the query and what the server said."""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from ..errors import DeployError

__all__ = ["PLACEHOLDERS", "MonitoringError", "PrometheusAPI", "Vector", "render"]

#: what a query template may name: the version's name, its port, and the step's length as a PromQL duration
PLACEHOLDERS = ("version", "port", "interval")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: an instant vector: each series' labels and value
Vector = list[tuple[dict[str, str], float]]


class MonitoringError(DeployError):
    """A monitoring signal could not be read: the step's measurement failed (an 'error' step, repeated)."""


def placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def render(template: str, values: Mapping[str, str]) -> str:
    """``{{ name }}`` replaced by its value; a name without a value is an error, never left in the query."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise MonitoringError(f"unknown placeholder {{{{ {name} }}}} in {template!r}; known: {sorted(values)}")
        return values[name]

    return _PLACEHOLDER.sub(one, template)


def _number(text: Any, query: str) -> float:
    try:
        return float(text)  # Prometheus writes NaN, +Inf and -Inf as these strings, which float() reads
    except (TypeError, ValueError):
        raise MonitoringError(f"query {query!r}: the answer holds a value that is not a number: {text!r}") from None


class PrometheusAPI:
    """``/api/v1/query`` of one server (loopback, or a user's URL)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout

    def get(self, path: str, params: Mapping[str, str]) -> Any:
        """The ``data`` of an API answer, checked."""
        address = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(address, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                body = response.read()
        except urllib.error.HTTPError as err:  # 400/422 carry Prometheus' own explanation
            body = err.read()
            try:
                return self._checked(json.loads(body), params.get("query", path))
            except (ValueError, MonitoringError) as exc:
                raise MonitoringError(f"{self.url}{path}: HTTP {err.code}: {exc}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise MonitoringError(f"Prometheus at {self.url} did not answer: {getattr(exc, 'reason', exc)}") from None
        try:
            return self._checked(json.loads(body), params.get("query", path))
        except ValueError:
            raise MonitoringError(f"{self.url}{path}: the answer is not JSON: {body[:200]!r}") from None

    @staticmethod
    def _checked(answer: Any, query: str) -> Any:
        if not isinstance(answer, dict) or answer.get("status") != "success":
            error = answer.get("error", answer) if isinstance(answer, dict) else answer
            raise MonitoringError(f"query {query!r} failed: {error}")
        return answer.get("data")

    def query(self, query: str, at: float | None = None) -> Vector:
        """An instant query, at ``at`` (Unix seconds) or now; a scalar answer is a vector of one unlabelled
        value."""
        params = {"query": query} if at is None else {"query": query, "time": f"{at:.3f}"}
        data = self.get("/api/v1/query", params)
        if not isinstance(data, dict):
            raise MonitoringError(f"query {query!r}: unexpected answer {data!r}")
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar" and isinstance(result, list) and len(result) == 2:
            return [({}, _number(result[1], query))]
        if kind != "vector" or not isinstance(result, list):
            raise MonitoringError(f"query {query!r}: expected an instant vector or a scalar, got {kind!r}")
        vector: Vector = []
        for series in result:
            if not isinstance(series, dict) or not isinstance(series.get("value"), list):
                raise MonitoringError(f"query {query!r}: a series without a value: {series!r}")
            labels = series.get("metric") or {}
            vector.append(({str(k): str(x) for k, x in labels.items()}, _number(series["value"][1], query)))
        return vector

    def series(self, query: str, start: float, end: float, step: float) -> list[float]:
        """A range query's one series: its samples from ``start`` to ``end``, ``step`` seconds apart (none when
        it has no data; more than one series is an error: the query must aggregate)."""
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{max(step, 0.001):.3f}"}
        data = self.get("/api/v1/query_range", params)
        if not isinstance(data, dict) or data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
            raise MonitoringError(f"range query {query!r}: expected a matrix, got {data!r:.200}")
        result = data["result"]
        if len(result) > 1:
            raise MonitoringError(f"range query {query!r} gave {len(result)} series; aggregate it (e.g. sum(...))")
        if not result:
            return []
        values = result[0].get("values") if isinstance(result[0], dict) else None
        if not isinstance(values, list) or not all(isinstance(p, list) and len(p) == 2 for p in values):
            raise MonitoringError(f"range query {query!r}: a series without values: {result[0]!r:.200}")
        return [_number(p[1], query) for p in values]

    def value(self, query: str, at: float | None = None) -> float | None:
        """The one value a query gives; None when it gives none (no data); more than one is an error (the
        query must aggregate)."""
        vector = self.query(query, at)
        if not vector:
            return None
        if len(vector) > 1:
            raise MonitoringError(
                f"query {query!r} gave {len(vector)} series, expected one (aggregate it, e.g. with sum(...))"
            )
        value = vector[0][1]
        return None if math.isnan(value) else value

"""The run's metrics to a Prometheus Pushgateway: one group per job (and grouping labels), replaced by each push,
so a dashboard shows the last run of each pipeline. The body is the OpenMetrics rendering in the Prometheus text
format the Pushgateway reads (the same samples; ``# UNIT`` and ``# EOF`` are comments there)."""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

from ..errors import IotopsError
from ..model import RunReport
from ..render.openmetrics import render_openmetrics
from ..render.otlp import render_otlp

__all__ = ["PushError", "export_traces", "push", "push_url", "text_format"]


class PushError(IotopsError):
    """The Pushgateway refused the metrics or did not answer."""


def _segment(name: str, value: str) -> str:
    """A grouping label as a path segment; a value with ``/`` (or empty) in base64, as the Pushgateway reads it."""
    if not value or "/" in value:
        encoded = base64.urlsafe_b64encode(value.encode()).decode() or "="
        return f"/{name}@base64/{encoded}"
    return f"/{name}/{urllib.parse.quote(value, safe='')}"


def push_url(base: str, job: str, labels: Mapping[str, str] | None = None) -> str:
    return (
        base.rstrip("/")
        + "/metrics"
        + _segment("job", job)
        + "".join(_segment(k, v) for k, v in sorted((labels or {}).items()))
    )


def text_format(report: RunReport) -> str:
    return "".join(
        line + "\n" for line in render_openmetrics(report).splitlines() if not line.startswith(("# EOF", "# UNIT"))
    )


def _send(request: urllib.request.Request, what: str, base: str) -> None:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the user's URL
            response.read()
    except urllib.error.HTTPError as err:
        said = err.read().decode("utf-8", "replace").strip()[:500]
        raise PushError(f"the {what} at {base} refused the data: HTTP {err.code}: {said}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise PushError(f"the {what} at {base} did not answer: {getattr(exc, 'reason', exc)}") from None


def export_traces(report: RunReport, endpoint: str) -> str:
    """POST the run's spans as OTLP/JSON to ``<endpoint>/v1/traces`` (an OpenTelemetry collector's OTLP/HTTP
    receiver); the URL posted to."""
    url = endpoint.rstrip("/") + "/v1/traces"
    body = render_otlp(report).encode()
    request = urllib.request.Request(  # noqa: S310 - the user's collector URL
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    _send(request, "OTLP endpoint", endpoint)
    return url


def push(report: RunReport, base: str, job: str = "iotops", labels: Mapping[str, str] | None = None) -> str:
    """PUT the run's metrics (replacing the group); the URL pushed to."""
    url = push_url(base, job, labels)
    request = urllib.request.Request(  # noqa: S310 - the user's Pushgateway URL
        url, data=text_format(report).encode(), method="PUT", headers={"Content-Type": "text/plain; version=0.0.4"}
    )
    _send(request, "Pushgateway", base)
    return url

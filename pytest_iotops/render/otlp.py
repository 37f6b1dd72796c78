"""The run as OpenTelemetry traces (OTLP/JSON, the protocol's own JSON encoding): a pipeline-run span with a
child per stage (collection, each phase, evidence, coverage, gates), per deployment and per canary step, named
and attributed after the CI/CD semantic conventions (``cicd.pipeline.*``). A pure function of the run report:
trace and span ids are derived from the run's start and rootdir, so the same report gives the same file, and
``iotops otlp`` posts it to an OTLP/HTTP endpoint (``/v1/traces``) unchanged."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from ..model import RunReport

__all__ = ["render_otlp"]

_OK, _ERROR = 1, 2
_INTERNAL = 1


def _nanos(iso: str, plus: float = 0.0) -> str:
    """Unix nanoseconds as the decimal string OTLP/JSON uses for 64-bit integers."""
    return str(round((datetime.fromisoformat(iso).timestamp() + plus) * 1e9))


def _id(seed: str, *parts: object, size: int = 8) -> str:
    return hashlib.sha256("\x1f".join([seed, *map(str, parts)]).encode()).hexdigest()[: size * 2]


def _attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, value in values.items():
        if isinstance(value, bool):
            out.append({"key": key, "value": {"boolValue": value}})
        elif isinstance(value, int):
            out.append({"key": key, "value": {"intValue": str(value)}})
        elif isinstance(value, float):
            out.append({"key": key, "value": {"doubleValue": value}})
        else:
            out.append({"key": key, "value": {"stringValue": str(value)}})
    return out


def _span(
    seed: str, trace: str, name: str, start: str, end: str, parent: str, ok: bool, attrs: dict[str, Any]
) -> dict[str, Any]:
    span = {
        "traceId": trace,
        "spanId": _id(seed, name, start),
        "name": name,
        "kind": _INTERNAL,
        "startTimeUnixNano": start,
        "endTimeUnixNano": max(start, end, key=int),
        "attributes": _attrs(attrs),
        "status": {"code": _OK if ok else _ERROR},
    }
    if parent:
        span["parentSpanId"] = parent
    return span


def _deployment_spans(report: RunReport, seed: str, trace: str, root: str) -> list[dict[str, Any]]:
    spans = []
    for d in report.deployments:
        if not d.started_at:  # a report before schema 2.3 does not say when
            continue
        span = _span(
            seed,
            trace,
            f"deploy {d.strategy} {d.stable} -> {d.candidate}",
            _nanos(d.started_at),
            _nanos(d.started_at, d.duration),
            root,
            d.outcome == "promoted",
            {
                "cicd.pipeline.task.name": d.test,
                "cicd.pipeline.task.type": "deploy",
                "cicd.pipeline.task.run.result": "success" if d.outcome == "promoted" else "failure",
                "iotops.deployment.target": d.target,
                "iotops.deployment.outcome": d.outcome,
                "iotops.deployment.exposure": d.exposure,
            },
        )
        spans.append(span)
        for step in d.steps:
            spans.append(
                _span(
                    seed,
                    trace,
                    f"step {step.index} at {step.weight} %",
                    _nanos(d.started_at, step.started),
                    _nanos(d.started_at, step.ended),
                    span["spanId"],
                    step.verdict in ("pass", "marginal"),
                    {
                        "iotops.step.weight": step.weight,
                        "iotops.step.verdict": step.verdict,
                        "iotops.step.decision": step.decision,
                        "iotops.step.canary_requests": step.canary_requests,
                        "iotops.step.reason": step.reason,
                    },
                )
            )
    return spans


def render_otlp(report: RunReport) -> str:
    run = report.run
    seed = f"{run.started_at}|{run.rootdir}"
    trace = _id(seed, "trace", size=16)
    passed = report.verdict.status == "passed"
    root = _span(
        seed,
        trace,
        "pytest --iotops",
        _nanos(run.started_at),
        _nanos(run.finished_at),
        "",
        passed,
        {
            "cicd.pipeline.name": "pytest --iotops",
            "cicd.pipeline.run.id": trace,
            "cicd.pipeline.result": "success" if passed else "failure",
            "iotops.verdict.exit_code": report.verdict.exit_code,
            "vcs.ref.head.revision": run.git.commit or "",
            "vcs.ref.head.name": run.git.branch or "",
        },
    )
    phases = {p.name: p for p in report.phases}
    stages = []
    for stage in report.stages:
        phase = phases.get(stage.name.removeprefix("phase:")) if stage.kind == "phase" else None
        ok = phase is None or phase.status in ("passed", "empty")
        attrs: dict[str, Any] = {"cicd.pipeline.task.name": stage.name, "cicd.pipeline.task.type": stage.kind}
        if phase is not None:
            attrs |= {"iotops.phase.tests": phase.tests, "iotops.phase.failed": phase.failed + phase.errors}
        start = _nanos(stage.started_at)
        stages.append(
            _span(seed, trace, stage.name, start, _nanos(stage.started_at, stage.duration), root["spanId"], ok, attrs)
        )
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": _attrs({"service.name": "pytest-iotops", "service.version": run.iotops})},
                "scopeSpans": [
                    {
                        "scope": {"name": "pytest-iotops", "version": run.iotops},
                        "spans": [root, *stages, *_deployment_spans(report, seed, trace, root["spanId"])],
                    }
                ],
            }
        ]
    }
    return json.dumps(body, indent=1, sort_keys=True) + "\n"

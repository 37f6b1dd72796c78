"""The run as OpenMetrics text: every figure a dashboard groups by — tests per phase and outcome, phase and stage
durations, coverage, gate results, findings by severity, deployments, their steps and rollbacks, fleet rollouts —
as ``iotops_`` gauges with labels. A pure function of the run report, so the file says exactly what the report
says (tested by parsing it with prometheus_client's OpenMetrics parser); pushed to a Pushgateway by
``iotops push``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from ..model import RunReport

__all__ = ["render_openmetrics"]

_OUTCOMES = ("passed", "failed", "errors", "skipped", "blocked", "xfailed", "xpassed")
Sample = tuple[Mapping[str, str], float]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if value != int(value) or abs(value) >= 1e15 else str(int(value))


def _family(name: str, help_text: str, samples: Iterable[Sample], unit: str = "") -> list[str]:
    lines = [f"# TYPE {name} gauge"]
    if unit:
        lines.append(f"# UNIT {name} {unit}")
    lines.append(f"# HELP {name} {help_text}")
    for labels, value in samples:
        shown = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items())
        lines.append(f"{name}{{{shown}}} {_number(value)}" if shown else f"{name} {_number(value)}")
    return lines


def _tests(report: RunReport) -> list[str]:
    return [
        *_family(
            "iotops_tests",
            "Tests of the run by phase and outcome.",
            (({"phase": p.name, "outcome": o}, getattr(p, o)) for p in report.phases for o in _OUTCOMES),
        ),
        *_family(
            "iotops_phase_duration_seconds",
            "Time the phase's tests took.",
            (({"phase": p.name, "status": p.status}, round(p.duration, 6)) for p in report.phases),
            "seconds",
        ),
        *_family(
            "iotops_stage_duration_seconds",
            "Time each pipeline stage took.",
            (({"stage": s.name, "kind": s.kind}, round(s.duration, 6)) for s in report.stages),
            "seconds",
        ),
    ]


def _coverage(report: RunReport) -> list[str]:
    cov = report.coverage
    if cov is None or cov.status != "measured":
        return []
    totals = [({"scope": "lines"}, round(cov.totals.percent / 100, 6))]
    if cov.totals.branch_percent is not None:
        totals.append(({"scope": "branches"}, round(cov.totals.branch_percent / 100, 6)))
    return [
        *_family("iotops_coverage_ratio", "Coverage of the run, lines and branches.", totals, "ratio"),
        *_family(
            "iotops_phase_coverage_ratio",
            "Line coverage by the tests of each phase.",
            (({"phase": p.phase}, round(p.percent / 100, 6)) for p in cov.phases),
            "ratio",
        ),
    ]


def _gates(report: RunReport) -> list[str]:
    return [
        *_family(
            "iotops_gate_passed",
            "1 when the gate passed, 0 when it failed or could not be evaluated (status label).",
            (
                ({"gate": g.id, "family": g.family, "status": g.status}, 1.0 if g.status == "passed" else 0.0)
                for g in report.gates
            ),
        ),
        *_family(
            "iotops_gate_measured",
            "What each evaluated gate measured, in its unit.",
            (({"gate": g.id, "unit": g.unit}, g.measured) for g in report.gates if g.measured is not None),
        ),
        *_family(
            "iotops_findings",
            "Findings by tool, severity and status.",
            (
                ({"tool": tool, "severity": severity, "status": status}, float(n))
                for (tool, severity, status), n in sorted(
                    Counter((f.tool, f.severity, f.status) for f in report.findings).items()
                )
            ),
        ),
    ]


def _deployments(report: RunReport) -> list[str]:
    outcomes = Counter((d.strategy, d.target, d.outcome) for d in report.deployments)
    fleet = Counter((r.broker, r.outcome) for r in report.fleet_rollouts)
    return [
        *_family(
            "iotops_deployments",
            "Deployments of the run by strategy, target and outcome (rolled_back: a rollback).",
            (({"strategy": s, "target": t, "outcome": o}, float(n)) for (s, t, o), n in sorted(outcomes.items())),
        ),
        *_family(
            "iotops_deployment_duration_seconds",
            "Time each deployment took.",
            (
                ({"test": d.test, "candidate": d.candidate, "outcome": d.outcome}, round(d.duration, 6))
                for d in report.deployments
            ),
            "seconds",
        ),
        *_family(
            "iotops_deployment_step_duration_seconds",
            "Time each canary step took, with its weight and verdict.",
            (
                (
                    {"test": d.test, "step": str(s.index), "weight": str(s.weight), "verdict": s.verdict},
                    round(s.ended - s.started, 6),
                )
                for d in report.deployments
                for s in d.steps
            ),
            "seconds",
        ),
        *_family(
            "iotops_fleet_rollouts",
            "Fleet rollouts of the run by broker and outcome.",
            (({"broker": b, "outcome": o}, float(n)) for (b, o), n in sorted(fleet.items())),
        ),
    ]


def render_openmetrics(report: RunReport) -> str:
    lines = [
        *_family(
            "iotops_run_duration_seconds", "Wall time of the run.", [({}, round(report.run.duration, 6))], "seconds"
        ),
        *_family(
            "iotops_verdict_passed",
            "1 when the run's verdict passed; the exit code is a label.",
            [({"exit_code": str(report.verdict.exit_code)}, 1.0 if report.verdict.status == "passed" else 0.0)],
        ),
        *_tests(report),
        *_coverage(report),
        *_gates(report),
        *_deployments(report),
        "# EOF",
    ]
    return "\n".join(lines) + "\n"

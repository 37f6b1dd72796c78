"""Blue-green: start the new version beside the active one, wait until it is healthy, optionally judge it under
its own load before it gets any user traffic (pre-promotion analysis, against the active version's live data),
switch all traffic at once, keep the old version for instant rollback, then stop it.

Whatever fails — the start, the analysis, an exception, KeyboardInterrupt — traffic ends on a version that is
running and nothing this function started is left behind.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from .judge import MetricSpec, Samples
from .load import Load
from .local import LocalTarget
from .result import DeployResult, Progress, interrupted, judged_step
from .target import Target

__all__ = ["BlueGreenResult", "LocalTarget", "blue_green"]

BlueGreenResult = DeployResult


def blue_green(
    target: Target,
    active: str,
    new: str,
    keep_old_for: float = 0.5,
    analysis: float = 0.0,
    specs: Sequence[MetricSpec] = (),
    load: Mapping[str, object] | None = None,
    progress: Progress | None = None,
) -> DeployResult:
    """``analysis`` > 0: seconds of pre-promotion analysis, with ``load`` (Load's keyword arguments) sent
    straight to the new version; a failing or inconclusive verdict keeps traffic on ``active``."""
    result = target.begin("blue-green", active, new)
    if new not in target.processes:
        return result
    try:
        if analysis > 0 and not _pre_promotion(target, result, analysis, specs, load or {}, progress):
            target.stop(new)
            result.event("aborted", f"{new} stopped before any user traffic; {active} stays active")
            return result
        target.set_weights({new: 100})
        result.exposure = 100
        result.active = new
        result.event("switched", f"100 % of traffic to {new}")
        if progress is not None:
            progress(f"blue-green {active} -> {new}: switched, keeping {active} for {keep_old_for:g}s", True)
        time.sleep(keep_old_for)
        drained = target.drain(active)  # requests routed before the switch finish on the old version
        target.stop(active)
        result.event(
            "retired",
            f"{active} stopped after {keep_old_for:g}s kept for rollback"
            + ("" if drained else "; some of its requests were still running after 30 s"),
        )
        result.finish("promoted", new, f"{new} serves all traffic")
    except BaseException as exc:

        def cleanup(reason: str) -> None:
            # instant rollback while the old version still runs; after its retirement the new one keeps it
            if active in target.processes:
                result.rollback_seconds, _ = target.roll_back(active, new)
                result.active = active
            result.event("aborted", f"{reason}; traffic on {result.active}")
            result.finish("rolled_back", result.active, reason)

        interrupted(result, exc, cleanup)
        raise
    return result


def _pre_promotion(
    target: Target,
    result: DeployResult,
    seconds: float,
    specs: Sequence[MetricSpec],
    load: Mapping[str, object],
    progress: Progress | None,
) -> bool:
    active, new = result.stable, result.candidate
    started = result.now()
    target.window()
    with Load(target.processes[new].url, **load) as preview:  # type: ignore[arg-type]
        time.sleep(seconds)
    candidate = preview.result.samples()
    baseline = target.window().get(active, Samples())
    step = judged_step(1, 0, started, result.now(), candidate, baseline, baseline, specs)
    step.decision = "continue" if step.verdict in ("pass", "marginal") else "abort"
    result.steps.append(step)
    result.event("analysis", f"pre-promotion analysis of {new}: {step.verdict} ({step.reason})")
    if progress is not None:
        progress(f"blue-green {active} -> {new}: pre-promotion analysis {step.verdict} -> {step.decision}", True)
    if step.decision == "abort":
        result.finish("rolled_back", active, f"pre-promotion analysis: {step.reason}")
        return False
    return True

"""Building blocks shared by every gate family: one place decides a status and words its message."""

from __future__ import annotations

from typing import Literal

from ..model import GateResult
from ..numbers import fmt_measured, fmt_threshold, meets

__all__ = ["error_gate", "skipped_gate", "threshold_gate"]

_WORDS = {">=": ("≥", "<"), "<=": ("≤", ">")}


def threshold_gate(
    gate_id: str,
    family: str,
    subject: str,
    measured: float,
    threshold: float,
    comparison: str = ">=",
    unit: str = "%",
    threshold_source: str = "",
    detail: str = "",
) -> GateResult:
    ok = meets(measured, threshold, comparison)
    good, bad = _WORDS[comparison]
    shown = fmt_measured(measured, threshold, comparison, unit)
    message = f"{subject} {shown} {unit} {good if ok else bad} {fmt_threshold(threshold)} {unit}"
    if detail:
        message += f" ({detail})"
    return GateResult(
        id=gate_id,
        family=family,
        status="passed" if ok else "failed",
        measured=measured,
        threshold=threshold,
        comparison=">=" if comparison == ">=" else "<=",
        unit=unit,
        message=message,
        threshold_source=threshold_source,
    )


def _unmeasured(
    status: Literal["error", "skipped"],
    gate_id: str,
    family: str,
    threshold: float,
    message: str,
    comparison: str,
    unit: str,
    threshold_source: str,
) -> GateResult:
    return GateResult(
        gate_id,
        family,
        status,
        None,
        threshold,
        ">=" if comparison == ">=" else "<=",
        unit,
        message,
        threshold_source,
    )


def error_gate(
    gate_id: str,
    family: str,
    threshold: float,
    message: str,
    comparison: str = ">=",
    unit: str = "%",
    threshold_source: str = "",
) -> GateResult:
    """Evidence is missing or unreadable: the gate fails closed."""
    return _unmeasured("error", gate_id, family, threshold, message, comparison, unit, threshold_source)


def skipped_gate(
    gate_id: str,
    family: str,
    threshold: float,
    message: str,
    comparison: str = ">=",
    unit: str = "%",
    threshold_source: str = "",
) -> GateResult:
    """Only for a gate the user turned off on purpose; the message says how."""
    return _unmeasured("skipped", gate_id, family, threshold, message, comparison, unit, threshold_source)

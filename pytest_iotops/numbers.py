"""How gate numbers are printed, chosen so the printed comparison always agrees with the decision.

pytest-cov once printed ``FAIL Required test coverage of 75% not reached. Total coverage: 74.79%`` and exited 0,
because it decided on one rounding and printed another. Here the measured value is cut towards the losing side
at the threshold's own precision: for ``>=`` it is floored, for ``<=`` ceiled, so reading the printed numbers gives
the same verdict as the exact comparison.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

__all__ = ["fmt_measured", "fmt_threshold", "meets", "precision_of"]


def precision_of(threshold: float | None, minimum: int = 2) -> int:
    if threshold is None:
        return minimum
    exponent = Decimal(repr(float(threshold))).normalize().as_tuple().exponent
    return max(minimum, -exponent if isinstance(exponent, int) else minimum)


def meets(measured: float, threshold: float, comparison: str) -> bool:
    return measured >= threshold if comparison == ">=" else measured <= threshold


def fmt_measured(measured: float, threshold: float | None, comparison: str = ">=", unit: str = "%") -> str:
    """Percentages keep two decimals at least; counts (any other unit) only what the threshold needs."""
    places = precision_of(threshold, 2 if unit == "%" else 0)
    quantum = Decimal(1).scaleb(-places)
    rounding = ROUND_FLOOR if comparison == ">=" else ROUND_CEILING
    return str(Decimal(repr(float(measured))).quantize(quantum, rounding=rounding))


def fmt_threshold(threshold: float) -> str:
    text = repr(float(threshold))
    return text[:-2] if text.endswith(".0") else text

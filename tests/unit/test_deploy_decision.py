"""The canary's truth table through the pure decision function (``deploy/decision.py``): every published row,
and a property over random verdict sequences and limits, in milliseconds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from truth_table import ROWS

from pytest_iotops.deploy.canary import CanaryLimits
from pytest_iotops.deploy.decision import Tally, decide


def _walk(script: list[str], limits: CanaryLimits, steps: int = 2) -> tuple[list[str], bool]:
    """The canary's loop without processes or clocks: each scripted verdict through ``decide``."""
    tally, decisions, index = Tally(), [], 0
    for verdict in script:
        tally = decide(verdict, tally, limits, last=index == steps - 1)
        decisions.append(tally.decision)
        if tally.decision in ("abort", "promote"):
            break
        index += verdict != "error"
    return decisions, decisions[-1] == "promote"


@pytest.mark.parametrize(("script", "limits", "decisions", "promoted"), ROWS)
def test_truth_table_pure(script: list[str], limits: dict[str, int], decisions: list[str], promoted: bool) -> None:
    """The same rows through the pure decision function, in microseconds."""
    assert _walk(script, CanaryLimits(**limits)) == (decisions, promoted)


@given(
    script=st.lists(st.sampled_from(["pass", "marginal", "fail", "inconclusive", "error"]), min_size=1, max_size=12),
    failure_limit=st.integers(0, 3),
    inconclusive_limit=st.integers(0, 3),
    error_limit=st.integers(0, 3),
    steps=st.integers(1, 5),
)
def test_decisions_never_promote_past_a_limit(
    script: list[str], failure_limit: int, inconclusive_limit: int, error_limit: int, steps: int
) -> None:
    limits = CanaryLimits(failure_limit, inconclusive_limit, error_limit)
    decisions, promoted = _walk(script, limits, steps)
    seen = script[: len(decisions)]
    assert seen.count("fail") <= failure_limit or decisions[-1] == "abort"
    assert seen.count("inconclusive") <= inconclusive_limit or decisions[-1] == "abort"
    run = 0
    for verdict, decision in zip(seen, decisions, strict=True):
        run = run + 1 if verdict == "error" else 0
        assert (decision == "retry") == (verdict == "error" and run <= error_limit)
    # promoted only after a measured decision on the last step, never on an error
    assert not promoted or (seen[-1] != "error" and sum(v != "error" for v in seen) == steps)

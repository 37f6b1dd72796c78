"""The verdict and the exit code come from one function, so what is printed is what the shell sees."""

from __future__ import annotations

from collections.abc import Sequence

from .model import GateResult, Verdict

__all__ = ["EXIT_GATE_ERROR", "EXIT_GATE_FAILED", "EXIT_OK", "EXIT_TESTS_FAILED", "EXIT_USAGE", "decide"]

EXIT_OK = 0
EXIT_TESTS_FAILED = 1  # pytest's own
EXIT_USAGE = 4  # pytest's own: configuration errors
EXIT_GATE_FAILED = 6  # every test passed, a gate's threshold was not met
EXIT_GATE_ERROR = 7  # every test passed, a gate could not be evaluated (evidence missing or unreadable)

_PYTEST_EXITS = {
    1: "tests failed",
    2: "the run was interrupted",
    3: "pytest hit an internal error",
    4: "pytest was used wrongly",
    5: "no tests were collected",
}


def decide(pytest_exit: int, gates: Sequence[GateResult], extra_errors: Sequence[str] = ()) -> Verdict:
    """pytest's own non-zero status wins; then a gate error (7); then a failed gate (6); else 0."""
    reasons = []
    if pytest_exit:
        reasons.append(_PYTEST_EXITS.get(pytest_exit, f"pytest exited {pytest_exit}"))
    errors = [g for g in gates if g.status == "error"]
    failed = [g for g in gates if g.status == "failed"]
    reasons += [f"gate {g.id} error: {g.message}" for g in errors]
    reasons += [f"gate {g.id} failed: {g.message}" for g in failed]
    reasons += list(extra_errors)
    if pytest_exit:
        code = pytest_exit
    elif errors or extra_errors:
        code = EXIT_GATE_ERROR
    elif failed:
        code = EXIT_GATE_FAILED
    else:
        code = EXIT_OK
    counted = [g for g in gates if g.status != "skipped"]
    if code == EXIT_OK:
        summary = f"PASSED: tests passed, {len(counted)} gate(s) passed" + (
            f", {len(gates) - len(counted)} skipped" if len(gates) != len(counted) else ""
        )
    else:
        summary = (
            f"FAILED (exit {code}): "
            + "; ".join(reasons[:3])
            + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
        )
    return Verdict("passed" if code == EXIT_OK else "failed", code, reasons, summary)

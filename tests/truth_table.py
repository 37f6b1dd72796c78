"""The canary's published truth table (docs/deployments.md) as data, shared by the pure test of the decision
function (tests/unit) and the test through real processes (tests/e2e)."""

from __future__ import annotations

# (script per weight change, limits, expected decisions per step, promoted)
ROWS = [
    (["pass", "pass"], {}, ["continue", "promote"], True),
    (["fail"], {}, ["abort"], False),
    (["fail", "pass"], {"failure_limit": 1}, ["continue", "promote"], True),
    (["fail", "fail"], {"failure_limit": 1}, ["continue", "abort"], False),
    (["inconclusive", "pass"], {"inconclusive_limit": 1}, ["continue", "promote"], True),
    (["inconclusive", "inconclusive"], {"inconclusive_limit": 1}, ["continue", "abort"], False),
    (["inconclusive"], {"inconclusive_limit": 0}, ["abort"], False),
    (
        ["error", "error", "pass", "pass"],
        {"consecutive_error_limit": 2},
        ["retry", "retry", "continue", "promote"],
        True,
    ),
    (["error", "error", "error"], {"consecutive_error_limit": 2}, ["retry", "retry", "abort"], False),
    (
        ["error", "pass", "error", "pass"],
        {"consecutive_error_limit": 1},
        ["retry", "continue", "retry", "promote"],
        True,
    ),
    (["error"], {"consecutive_error_limit": 0}, ["abort"], False),
]

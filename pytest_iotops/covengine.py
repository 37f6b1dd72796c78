"""Which collector measures coverage: coverage.py's tracer, its ``sys.monitoring`` core, or SlipCover's probes.

All three hand their data to coverage.py, which computes every figure, so they differ in cost, not in what a
statement or a branch is. ``auto`` takes the fastest one that can follow the project's coverage.py settings
and says why; a named engine that cannot is a configuration error naming the setting, never a silent fallback.
"""

from __future__ import annotations

import sys

import coverage
import coverage.exceptions

from .errors import ConfigError
from .options import COVERAGE_ENGINES
from .values import FrozenValue, record

__all__ = ["ENGINES", "Engine", "choose_engine"]

ENGINES = COVERAGE_ENGINES
_KEY = "[tool.iotops.coverage] engine"


@record(frozen=True)
class Engine(FrozenValue):
    name: str  # coveragepy | sysmon | slipcover
    reason: str = ""  # why auto chose it, or ""


def _version() -> str:
    return ".".join(str(n) for n in sys.version_info[:3])


def _sysmon_blocker(cov: coverage.Coverage) -> str:
    """Why coverage.py's sys.monitoring core cannot measure these settings, named; "" when it can. Where it
    cannot, coverage.py itself falls back to another core with a warning, or measures less (plugins): the run
    would be named after an engine that did not measure it."""
    if sys.version_info < (3, 12):
        return f"sys.monitoring needs Python 3.12+ (this is {_version()})"
    if not _has_option(cov, "run:core"):
        return f"this coverage.py ({coverage.__version__}) has no [run] core setting to choose sys.monitoring with"
    if cov.get_option("run:branch") and sys.version_info < (3, 14):
        return f"coverage.py measures branches with sys.monitoring from Python 3.14 (this is {_version()})"
    greenlets = [c for c in _strings(cov.get_option("run:concurrency")) if c in ("greenlet", "eventlet", "gevent")]
    named = _first_set(
        cov,
        ("run:dynamic_context", "coverage.py's sys.monitoring core has no dynamic contexts"),
        ("run:timid", "timid tracing is coverage.py's Python tracer"),
        ("run:plugins", "coverage.py's sys.monitoring core runs no file tracer plugins"),
    )
    if named or not greenlets:
        return named
    return f"coverage.py's [run] concurrency = {', '.join(greenlets)}: sys.monitoring does not follow them"


def _has_option(cov: coverage.Coverage, key: str) -> bool:
    """Whether this coverage.py knows ``key`` (``[run] patch`` and ``core`` are newer than our oldest, 7.5)."""
    try:
        cov.get_option(key)
    except coverage.exceptions.ConfigError:
        return False
    return True


def _first_set(cov: coverage.Coverage, *checks: tuple[str, str]) -> str:
    """The first of ``checks`` (option, why) set in ``cov``, named with why; "" when none is."""
    for key, why in checks:
        if cov.get_option(key):
            return f"coverage.py's [{key.replace(':', '] ')} is set: {why}"
    return ""


def _use_sysmon(cov: coverage.Coverage) -> None:
    """The sysmon core on ``cov``. Its events fire once per line, so the phase switch restarts them (see
    coverage.Meter.switch) and phase contexts are complete: coverage.py's warning that they may not be is moot."""
    cov.set_option("run:core", "sysmon")
    quiet = _strings(cov.get_option("run:disable_warnings"))
    cov.set_option("run:disable_warnings", [*quiet, "no-sysmon-context"])


#: the oldest coverage.py whose branch figures SlipCover's collector reproduces (7.5 to 7.6.1 count fewer
#: covered branches from the same arcs: tests/integration/test_slipcover_engine.py, run against each version)
SLIPCOVER_BRANCHES_FROM = (7, 6, 2)


def _slipcover_blocker(cov: coverage.Coverage) -> str:
    """Why SlipCover cannot measure here, named; "" when it can."""
    return _slipcover_missing(cov) or _slipcover_settings(cov)


def _slipcover_missing(cov: coverage.Coverage) -> str:
    """What this Python or this coverage.py lacks for SlipCover's figures; "" when nothing."""
    from .slipcover_engine import slipcover_available

    if sys.version_info >= (3, 12):  # SlipCover's bytecode module, which the collector builds on, is 3.8-3.11's
        return f"iotops's SlipCover collector instruments Python 3.10/3.11 bytecode (this is {_version()})"
    if not slipcover_available():
        return "SlipCover is not installed (pip install 'pytest-iotops[slipcover]')"
    if cov.get_option("run:branch") and coverage.version_info < SLIPCOVER_BRANCHES_FROM:
        return (
            f"this coverage.py ({coverage.__version__}) analyses branches differently from the "
            f"{'.'.join(map(str, SLIPCOVER_BRANCHES_FROM))}+ that SlipCover's branch figures are checked against"
        )
    return ""


def _slipcover_settings(cov: coverage.Coverage) -> str:
    """A coverage.py setting SlipCover cannot follow, named; "" when there is none."""
    named = _first_set(
        cov,
        ("run:plugins", "coverage.py plugins measure files SlipCover cannot"),
        ("run:dynamic_context", "per-test contexts need coverage.py's tracer"),
        ("run:timid", "timid tracing is coverage.py's"),
    )
    if named:
        return named
    if _has_option(cov, "run:patch") and "subprocess" in _strings(cov.get_option("run:patch")):
        return "coverage.py's [run] patch = subprocess: SlipCover measures this process only"
    concurrency = [c for c in _strings(cov.get_option("run:concurrency")) if c != "thread"]
    if concurrency:
        return f"coverage.py's [run] concurrency = {', '.join(concurrency)}: SlipCover follows threads only"
    return ""


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def choose_engine(name: str, cov: coverage.Coverage) -> Engine:
    """The engine for ``name`` under ``cov``'s settings; the sysmon core is set on ``cov`` when chosen."""
    if name == "coveragepy":
        return Engine("coveragepy")
    if name == "sysmon":
        blocker = _sysmon_blocker(cov)
        if blocker:
            raise ConfigError(f"{_KEY} = 'sysmon': {blocker}")
        _use_sysmon(cov)
        return Engine("sysmon")
    if name == "slipcover":
        blocker = _slipcover_blocker(cov)
        if blocker:
            raise ConfigError(f"{_KEY} = 'slipcover': {blocker}")
        return Engine("slipcover")
    # auto
    if not _sysmon_blocker(cov):
        _use_sysmon(cov)
        return Engine("sysmon", "auto: coverage.py's sys.monitoring core")
    blocker = _slipcover_blocker(cov)
    if not blocker and sys.version_info < (3, 11):  # auto promises coverage.py's figures; 3.10's differ
        blocker = f"SlipCover's figures were checked equal to coverage.py's on Python 3.11 (this is {_version()})"
    if not blocker:
        return Engine("slipcover", "auto: sys.monitoring unusable here, SlipCover follows these settings")
    return Engine("coveragepy", f"auto: {blocker}")

"""Pyramid phases: classify a test, order tests, decide blocking — pure functions every xdist worker computes alike."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError
from .values import FrozenValue, record

__all__ = [
    "PHASES_FILE",
    "Classification",
    "PhaseConflict",
    "PhaseRules",
    "blocking_phase",
    "classify",
    "collected_phases",
    "glob_to_regex",
    "order_indices",
    "read_collected_phases",
]

#: each collected test's node id and phase (its index among the configured phases), in the order the tests run:
#: written by every xdist worker (they collect alike) into the directory it shares with the controller, whose
#: scheduler and report folder read it (no report carries its test's phase)
PHASES_FILE = "phases.json"


def collected_phases(ids: list[str], phases: list[int]) -> str:
    """The :data:`PHASES_FILE` of a worker's tests ``ids`` (in order) and their ``phases``."""
    return json.dumps({"ids": ids, "phases": phases})


def read_collected_phases(path: Path, ids: Sequence[str], phases: int | None = None) -> list[int]:
    """The phase of each of the tests ``ids`` (as xdist collected them, in its order) from the workers'
    :data:`PHASES_FILE`, checked against those ids and (given) the number of configured ``phases``: a wrong file
    would put tests in wrong phases, so it is an error naming the file, never a guess."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"pytest-iotops: cannot read {path} (the xdist workers' phases): {exc}") from None
    listed = data.get("ids") if isinstance(data, dict) else None
    indices = data.get("phases") if isinstance(data, dict) else None
    if not isinstance(listed, list) or not isinstance(indices, list) or len(listed) != len(indices):
        raise RuntimeError(f"pytest-iotops: {path} does not list the tests' ids and phases alike")
    if listed != list(ids):
        differ = "other tests" if sorted(listed) != sorted(ids) else "the same tests in another order"
        raise RuntimeError(
            f"pytest-iotops: {path} lists {differ} than xdist collected ({len(listed)} against {len(ids)}): a "
            "plugin changed the tests after pytest-iotops ordered them"
        )
    bad = [p for p in indices if type(p) is not int or p < 0 or (phases is not None and p >= phases)]
    if bad:
        raise RuntimeError(f"pytest-iotops: {path} holds {bad[0]!r}, not the index of a configured phase")
    return indices


class PhaseConflict(ConfigError):
    """A test carries markers of two different phases."""


@lru_cache(maxsize=256)
def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile a path glob: ``**`` spans directories, ``*`` and ``?`` stay within one path segment."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == n:
            out.append("(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


@record(frozen=True)
class PhaseRules(FrozenValue):
    """What classifies a test into a phase: the phases in order, the default, path rules and marker aliases."""

    phases: tuple[str, ...]
    default_phase: str
    paths: Mapping[str, tuple[str, ...]]
    marker_aliases: Mapping[str, str]

    def marker_phase(self, marker: str) -> str | None:
        if marker in self.phases:
            return marker
        return self.marker_aliases.get(marker)

    def index(self, phase: str) -> int:
        return self.phases.index(phase)


@record(frozen=True)
class Classification(FrozenValue):
    """A test's phase and the rule that decided it (for the report and for conflicts)."""

    phase: str
    reason: str  # "marker e2e", "marker smoke (alias of e2e)", "path tests/unit/**", "default"


def classify(nodeid: str, relpath: str, markers: Iterable[str], rules: PhaseRules) -> Classification:
    """Explicit marker, then path rules (in phase order), then the default phase.

    ``relpath`` is the test file's path relative to the rootdir, with ``/`` separators.
    """
    found: dict[str, str] = {}
    for marker in markers:
        phase = rules.marker_phase(marker)
        if phase is not None:
            found.setdefault(phase, marker)
    if len(found) > 1:
        names = ", ".join(f"@pytest.mark.{m}" for m in found.values())
        raise PhaseConflict(
            f"{nodeid}: markers of different phases ({names}); a test belongs to exactly one phase — remove all but one"
        )
    if found:
        ((phase, marker),) = found.items()
        why = f"marker {marker}" if marker == phase else f"marker {marker} (alias of {phase})"
        return Classification(phase, why)
    for phase in rules.phases:
        for pattern in rules.paths.get(phase, ()):
            if glob_to_regex(pattern).match(relpath):
                return Classification(phase, f"path {pattern}")
    return Classification(rules.default_phase, "default")


def order_indices(item_phases: Sequence[str], phases: Sequence[str]) -> list[int]:
    """Indices of items in pyramid order, stable within a phase (so other ordering plugins still count)."""
    rank = {p: i for i, p in enumerate(phases)}
    ranks = list(map(rank.__getitem__, item_phases))  # no Python call per item: a long suite has many
    return sorted(range(len(ranks)), key=ranks.__getitem__)


def blocking_phase(phase: str, failed: Iterable[str], phases: Sequence[str]) -> str | None:
    """The earliest failed phase that comes before ``phase`` in the pyramid, if any."""
    position = phases.index(phase)
    earlier = [p for p in failed if phases.index(p) < position]
    return min(earlier, key=phases.index) if earlier else None

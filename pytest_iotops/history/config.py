"""``[tool.iotops.history]``: where the run history is kept and how long, and the flaky rule's settings. The
history is off unless this table or ``IOTOPS_HISTORY_URL`` names a store (the environment wins, so CI can
point every job at one shared server)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import validate as v
from ..errors import ConfigError
from ..evidence.config import check_table
from ..values import FrozenValue, record
from .quarantine import Quarantined, parse_quarantine

__all__ = ["DEFAULT_URL", "HistorySettings", "parse_history"]

DEFAULT_URL = "sqlite:///.iotops/history.db"


@record(frozen=True)
class HistorySettings(FrozenValue):
    """``[tool.iotops.history]``: where runs are recorded, how long they are kept, and the flaky and trend rules."""

    #: empty: no history is written
    url: str = ""
    url_source: str = "default"
    keep_runs: int | None = None
    keep_days: float | None = None
    #: the flaky rule: runs read per test, the lowest flip rate called flaky, passes in a row that reset it
    window: int = 30
    min_flip_rate: float = 0.05
    reset_after: int = 10
    #: the compare gate: coverage may fall at most this many points below the base branch's last run
    max_coverage_drop: float | None = None
    #: the base branch (default: the diff base's branch, else main)
    base: str = ""
    #: runs of the branch shown as trends
    trend_runs: int = 20
    #: tests whose failures are reported, not blocking, until a date
    quarantine: tuple[Quarantined, ...] = ()


_KEYS: dict[str, v.Validator] = {
    "url": v.text,
    "keep_runs": v.count,
    "keep_days": v.positive,
    "window": v.count,
    "min_flip_rate": v.non_negative,
    "reset_after": v.count,
    "max_coverage_drop": v.non_negative,
    "base": v.text,
    "trend_runs": v.count,
}


def parse_history(raw: Any, where: str, env: Mapping[str, str]) -> HistorySettings:
    """``raw``: the table (``{}`` when absent)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [tool.iotops.history] must be a table")
    raw = dict(raw)
    quarantine = parse_quarantine(raw.pop("quarantine", []), where)
    values = check_table(raw, _KEYS, where, "history.")
    source = f"{where} [tool.iotops.history]" if "url" in values else "default"
    if raw and "url" not in values:  # a table with a quarantine list alone stores nothing
        values["url"], source = DEFAULT_URL, f"{where} [tool.iotops.history] (default url)"
    if env.get("IOTOPS_HISTORY_URL"):
        values["url"], source = env["IOTOPS_HISTORY_URL"], "env IOTOPS_HISTORY_URL"
    if values.get("window", 30) < 2:
        raise ConfigError(f"{where}: history.window = {values['window']}: the flaky rule needs at least 2 runs")
    url = values.get("url", "")
    if url and not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(
            f"{where}: history.url = {url!r} ({source}): expected sqlite:///<path> or postgresql://user@host/db"
        )
    return HistorySettings(url_source=source, quarantine=quarantine, **values)

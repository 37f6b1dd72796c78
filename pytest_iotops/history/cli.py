"""``iotops history`` (list, import, prune), ``iotops flaky`` and ``iotops dora``: the run history on the command
line. The store is ``--url``, else ``IOTOPS_HISTORY_URL``, else ``[tool.iotops.history] url`` of the project's
pyproject.toml, else ``sqlite:///.iotops/history.db`` in the current directory."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..config import find_pyproject, read_table
from ..errors import ConfigError
from ..model import load_report
from .config import DEFAULT_URL, HistorySettings, parse_history
from .dora import BANDS_YEAR, dora
from .flaky import FlakyRule
from .maturity import WEIGHTS, maturity
from .pages import dora_page, history_page, maturity_page
from .queries import branch_reports, deploy_records, flaky_tests, runs
from .store import HistoryStore
from .stores import open_store

__all__ = ["HANDLERS", "add_commands"]


def _settings(url: str | None) -> tuple[HistorySettings, Path]:
    root = Path.cwd()
    pyproject = find_pyproject(root, None)
    table = read_table(pyproject).get("history", {}) if pyproject else {}
    settings = parse_history(table, str(pyproject or root), os.environ)
    if url:
        settings = HistorySettings(**{**asdict(settings), "url": url, "url_source": "--url"})
    if not settings.url:
        settings = HistorySettings(**{**asdict(settings), "url": DEFAULT_URL, "url_source": "default"})
    return settings, (pyproject.parent if pyproject else root)


def _store(args: argparse.Namespace) -> tuple[HistoryStore, HistorySettings]:
    settings, root = _settings(args.url)
    return open_store(settings.url, root), settings


def _history(args: argparse.Namespace) -> int:
    store, settings = _store(args)
    if args.action == "import":
        if not args.reports:
            raise ConfigError("iotops history import: name the run reports (JSON) to import")
        for path in args.reports:
            run_id = store.write(load_report(Path(path)))
            print(f"{path}: stored as run {run_id[:12]}")
        return 0
    if args.action == "prune":
        if args.keep_runs is None and args.keep_days is None:
            raise ConfigError("iotops history prune: give --keep-runs N and/or --keep-days D")
        print(f"{store.prune(args.keep_runs, args.keep_days)} runs removed from {settings.url}")
        return 0
    rows = runs(store, args.branch, args.limit)
    if args.html:
        return _write(args.html, history_page(rows, settings.url))
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=1))
        return 0
    print(f"{len(rows)} runs in {settings.url} ({settings.url_source}), newest first")
    for r in rows:
        cov = "-" if r.coverage is None else f"{r.coverage:.1f} %"
        print(
            f"{r.started_at[:19]}  {r.run_id[:12]}  {r.branch or '-'}@{(r.commit or '-')[:7]}  {r.status:<6}  "
            f"{r.tests} tests, {r.failed} failed  coverage {cov}  {r.duration:.1f}s"
        )
    return 0


def _flaky(args: argparse.Namespace) -> int:
    store, settings = _store(args)
    rule = FlakyRule(settings.window, settings.min_flip_rate, settings.reset_after)
    found = [h for h in flaky_tests(store, rule) if args.all or h.status in ("flaky", "failing")]
    if args.json:
        print(json.dumps([asdict(h) for h in found], indent=1))
        return 0
    print(
        f"rule: the last {rule.window} runs of each test; flaky on a retried pass, a pass and a failure on one "
        f"commit, or a flip rate whose 95 % lower bound exceeds {rule.min_flip_rate:g}; reset after "
        f"{rule.reset_after} passes in a row"
    )
    for h in found:
        print(f"{h.status:<8} {h.nodeid}  ({h.failures} of {h.runs} runs failed, {h.flips} flips)")
        for line in h.evidence:
            print(f"         - {line}")
    if not found:
        print("no flaky or failing test in the history")
    return 0


def _dora(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    records = deploy_records(store)
    environments = [args.environment] if args.environment else sorted({r.environment for r in records}) or ["*"]
    keys = [dora(records, env, args.days) for env in environments]
    if args.html:
        return _write(args.html, dora_page(keys, _store(args)[1].url))
    if args.json:
        print(json.dumps([asdict(k) for k in keys], indent=1))
        return 0
    for k in keys:
        print(f"{k.environment}: {k.deployments} deployments over {k.days:.1f} days (bands: DORA {BANDS_YEAR})")
        figures: list[tuple[str, Any, str]] = [
            ("deployment frequency", f"{k.deployments_per_day:.2f} per day", "deployments_per_day"),
            ("lead time for changes", _hours(k.lead_time_hours), "lead_time_hours"),
            ("change failure rate", _share(k.change_failure_rate), "change_failure_rate"),
            ("time to restore", _hours(k.time_to_restore_hours), "time_to_restore_hours"),
        ]
        for name, value, key in figures:
            print(f"  {name:<22} {value:<16} {k.bands[key]}")
        for source in k.sources:
            print(f"  ({source})")
    return 0


def _maturity(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    reports = branch_reports(store, args.branch, args.days)
    if not reports:
        raise ConfigError(f"iotops maturity: no run of {args.branch!r} in the history")
    m = maturity(reports)
    if args.html:
        return _write(args.html, maturity_page(m, args.branch, _store(args)[1].url))
    if args.json:
        print(json.dumps(asdict(m), indent=1))
        return 0
    print(f"maturity of {args.branch}: {m.score:.1f} / 100 over the last {args.days:g} days")
    print("  M = 100 x (" + " + ".join(f"{w:.2f} {k}" for k, w in WEIGHTS.items()) + ")")
    for key, value in m.inputs.items():
        print(f"  {key:<12} {value:.2f}  ({m.sources[key]})")
    print(f"value stream (mean seconds per run; the costliest: {m.costliest}):")
    for stage, seconds in m.value_stream.items():
        print(f"  {stage:<28} {seconds:.2f}")
    return 0


def _write(path: str, html: str) -> int:
    Path(path).write_text(html, encoding="utf-8")
    print(f"wrote {path}")
    return 0


def _hours(x: float | None) -> str:
    return "no data" if x is None else f"{x:.2f} h"


def _share(x: float | None) -> str:
    return "no data" if x is None else f"{x:.1%}"


def add_commands(commands: Any) -> None:
    """The three commands, on the main parser's subcommands."""
    history = commands.add_parser("history", help="list, import or prune the run history")
    history.add_argument("action", nargs="?", default="list", choices=("list", "import", "prune"))
    history.add_argument("reports", nargs="*", metavar="RUN.json", help="import: run reports to store")
    history.add_argument("--branch", help="list: only this branch")
    history.add_argument("--limit", type=int, default=50, help="list: how many runs (default 50)")
    history.add_argument("--keep-runs", type=int, help="prune: keep the newest N runs")
    history.add_argument("--keep-days", type=float, help="prune: keep runs younger than D days")
    flaky = commands.add_parser("flaky", help="the flaky and failing tests of the run history, with evidence")
    flaky.add_argument("--all", action="store_true", help="every test, stable and new ones too")
    dora_parser = commands.add_parser("dora", help="the four DORA keys from the deployments in the history")
    dora_parser.add_argument("--environment", help="one environment (a target, or fleet:<broker>)")
    dora_parser.add_argument("--days", type=float, help="the last D days (default: the whole history)")
    mature = commands.add_parser("maturity", help="the maturity score and the value stream of a branch's runs")
    mature.add_argument("--branch", default="main", help="the branch (default main)")
    mature.add_argument("--days", type=float, default=30.0, help="the last D days of its runs (default 30)")
    for sub in (history, flaky, dora_parser, mature):
        sub.add_argument("--url", help="the store (default: IOTOPS_HISTORY_URL, [tool.iotops.history] url, "
                         f"{DEFAULT_URL})")  # fmt: skip
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        if sub is not flaky:
            sub.add_argument("--html", metavar="FILE", help="write a self-contained HTML page instead")


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "history": _history,
    "flaky": _flaky,
    "dora": _dora,
    "maturity": _maturity,
}

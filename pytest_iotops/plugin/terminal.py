"""What the session plugin shows on the terminal: the header lines, a separator at each phase, the pipeline's
summary at the end."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..config import Settings
    from ..pipeline import Pipeline

__all__ = ["TerminalLines"]


class TerminalLines:
    """Mixed into :class:`.session.IotopsPlugin`, whose state it reads."""

    config: pytest.Config
    settings: Settings
    pipeline: Pipeline
    #: why the current phase's tests are blocked, or None
    block: str | None
    internal_error: str

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        s = self.settings
        if s.config_file is None:
            where = "defaults (no pyproject.toml)"
        elif s.has_table:
            where = f"{Path(s.config_file).name} [tool.iotops]"
        else:
            where = f"defaults ({Path(s.config_file).name} has no [tool.iotops] table)"
        lines = [f"iotops: phases {' > '.join(s.phases)}; settings from {where}"]
        overrides = [
            f"{k} ({v})" for k, v in sorted(s.sources.items()) if k != "enabled" and not v.endswith("[tool.iotops]")
        ]
        if overrides:
            lines.append("iotops: overridden: " + ", ".join(overrides))
        coverage_line = self._coverage_line()
        if coverage_line:
            lines.append(coverage_line)
        if self.pipeline.context.distributed and getattr(config.option, "dist", "no") != "load":
            lines.append(
                "iotops: --dist other than load: phases are ordered per worker, not across workers, and not blocked"
            )
        return lines

    def _end_progress_line(self, reporter: Any) -> None:
        """Start on a fresh line: -q writes progress letters without a path, so ``ensure_newline`` sees nothing."""
        if self.config.get_verbosity() < 0 and self.pipeline.recorder.tests:
            reporter.write_line("")
        else:
            reporter.ensure_newline()

    def _coverage_line(self) -> str:
        """What coverage measures and why: in the header, and alone under ``-q`` (which hides the header)."""
        p = self.pipeline
        if p.coverage_off_reason:
            return f"iotops: coverage off ({p.coverage_off_reason})"
        if p.meter is not None:
            selection = f": {p.meter.selection}" if p.meter.selection else ""
            e = p.meter.engine  # named unless it is the default, coverage.py, not chosen by auto
            shown = f" ({e.name}{', ' + e.reason if e.reason else ''})" if e.name != "coveragepy" or e.reason else ""
            return f"iotops: coverage by {p.meter.measured_by}{shown}{selection}"
        return ""

    def _phase_separator(self, phase: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or self.pipeline.context.distributed:
            return
        count = self.pipeline.collected[phase]
        blocked = self.block
        self._end_progress_line(reporter)
        reporter.write_sep(
            "-",
            f"{phase} phase: {count} test{'s' if count != 1 else ''}" + (f" ({blocked})" if blocked else ""),
            yellow=bool(blocked),
            bold=not blocked,
        )
        if hasattr(reporter, "currentfspath"):
            reporter.currentfspath = None  # so the next progress line names its file again

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if self.internal_error:
            terminalreporter.write_sep("=", "iotops pipeline", red=True, bold=True)
            terminalreporter.write_line(f"iotops: internal error, no verdict (exit 7): {self.internal_error}", red=True)
            return
        report = self.pipeline.report
        if report is None:
            return
        from ..render.terminal import summary_lines

        terminalreporter.write_sep("=", "iotops pipeline", bold=True)
        try:
            lines = summary_lines(report)
        except Exception as exc:
            lines = [
                (f"iotops: the summary could not be rendered ({type(exc).__name__}: {exc}); see the reports", "red")
            ]
        for text, style in lines:
            terminalreporter.write_line(text, **{s: True for s in style.split(",") if s})
        for fmt, path in self.pipeline.outputs.items():
            known = self.pipeline.formats or {}
            label = (known[fmt].label if fmt in known else "") or f"{fmt} report"
            terminalreporter.write_line(f"iotops {label}: {os.path.relpath(path, Path.cwd())}")
        note, stored = self.pipeline.history_note
        if note:
            terminalreporter.write_line(note, red=not stored)
        from ..history.quarantine import expired_lines

        for line in self.pipeline.notes + expired_lines(self.settings.history.quarantine):
            terminalreporter.write_line(line, yellow=True)

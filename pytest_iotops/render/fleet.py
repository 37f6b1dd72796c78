"""Fleet rollouts in words, numbers and one picture, shared by the terminal, Markdown, explain and HTML
renderers. The heatmap is one SVG whose rows are 100 devices in release order and whose rectangles are runs of
devices that ended alike, so a 10,000-device fleet draws as a few hundred rectangles, not 10,000 nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import FleetRollout, RunReport


__all__ = [
    "HEAT_COLOURS",
    "fleet_lines",
    "fleet_rows",
    "fleet_sentences",
    "heatmap_runs",
    "heatmap_svg",
    "outcome_words",
    "waves_svg",
]

#: state code -> (colour, legend)
HEAT_COLOURS = {
    "S": ("#2e7d32", "succeeded"),
    "F": ("#c62828", "failed"),
    "T": ("#ef6c00", "timed out"),
    "R": ("#8e24aa", "rejected"),
    "C": ("#78909c", "canceled"),
    "N": ("#1565c0", "still running"),
    ".": ("#e0e0e0", "never notified"),
}


def outcome_words(r: FleetRollout) -> str:
    if r.outcome == "aborted":
        back = next((d.detail for d in r.decisions if d.action == "rolled_back"), "")
        return f"aborted in wave {r.aborted_in_wave}" + (f", {back}" if back else "")
    return r.outcome


def _versions(r: FleetRollout) -> str:
    return ", ".join(f"{v}: {n}" for v, n in r.versions.items())


def fleet_lines(report: RunReport) -> list[tuple[str, str]]:
    """Terminal lines: one per rollout, plus its failed checks (red) when any did not hold."""
    if not report.fleet_rollouts:
        return []
    n = len(report.fleet_rollouts)
    promoted = sum(r.outcome == "promoted" for r in report.fleet_rollouts)
    lines = [(f"{n} fleet rollout{'s' if n != 1 else ''}: {promoted} promoted, {n - promoted} not", "bold")]
    for r in report.fleet_rollouts:
        colour = "green" if r.outcome == "promoted" else "yellow"
        lines.append(
            (
                f"  {r.old} -> {r.new} to {r.devices} devices on {r.broker}: {outcome_words(r)} "
                f"({r.virtual_seconds / 3600:.1f} h of rollout in {r.wall_seconds:.1f} s; now {_versions(r)}) "
                f"[{r.test}]",
                colour,
            )
        )
        lines.append((f"    decided by {r.rule}", ""))
        for problem in r.problems[:3]:
            lines.append((f"    check failed: {problem}", "red"))
    return [*lines, ("", "")]


def fleet_rows(r: FleetRollout) -> list[list[str]]:
    """Per wave: devices, succeeded, failed, timed out, rejected, canceled, failure rate."""
    rows = []
    for w in r.waves:
        rate = w.failure_rate
        rows.append(
            [
                str(w.wave),
                str(w.devices),
                str(w.succeeded),
                str(w.failed),
                str(w.timed_out),
                str(w.rejected),
                str(w.canceled),
                "-" if rate is None else f"{rate:.1%}",
            ]
        )
    return rows


def fleet_sentences(report: RunReport) -> list[str]:
    """For ``iotops explain``: what each rollout did and why."""
    if not report.fleet_rollouts:
        return []
    out = ["", "Fleet rollouts:"]
    for r in report.fleet_rollouts:
        checks = "every check held" if not r.problems else f"{len(r.problems)} checks failed ({r.problems[0]})"
        out.append(
            f"- {r.test}: {r.old} to {r.new} on {r.devices} devices ({r.broker} broker, policy from "
            f"{r.policy}) was {outcome_words(r)}: {r.rule}. The fleet now runs {_versions(r)}; "
            f"{r.bricked} bricked; {checks}."
        )
    return out


def heatmap_runs(states: str, width: int = 100) -> list[tuple[int, int, int, str]]:
    """(row, first column, length, state) for each run of equal states within a row of ``width`` devices."""
    runs = []
    for row_start in range(0, len(states), width):
        row = states[row_start : row_start + width]
        col = 0
        while col < len(row):
            end = col
            while end < len(row) and row[end] == row[col]:
                end += 1
            runs.append((row_start // width, col, end - col, row[col]))
            col = end
    return runs


def heatmap_svg(r: FleetRollout, width: int = 100, cell: int = 6) -> str:
    """Every device as a cell, in release order, coloured by how its job ended; runs of equal cells are one
    rectangle. Only numbers and fixed colours go into the markup, and the legend's words are ours."""
    rows = (len(r.states) + width - 1) // width
    height = max(rows, 1) * cell
    rects = [
        f'<rect x="{col * cell}" y="{row * cell}" width="{length * cell}" height="{cell}" '
        f'fill="{HEAT_COLOURS.get(state, ("#000", ""))[0]}"/>'
        for row, col, length, state in heatmap_runs(r.states, width)
    ]
    return (
        f'<svg class="heatmap" role="img" aria-label="devices by outcome" width="{width * cell}" '
        f'height="{height}" viewBox="0 0 {width * cell} {height}">{"".join(rects)}</svg>'
    )


def waves_svg(r: FleetRollout, bar: int = 22, scale: int = 400) -> str:
    """One stacked bar per wave: succeeded, failed, timed out, rejected, canceled, still running."""
    parts = []
    order = (
        ("succeeded", "S"),
        ("failed", "F"),
        ("timed_out", "T"),
        ("rejected", "R"),
        ("canceled", "C"),
        ("pending", "N"),
    )
    biggest = max((w.devices for w in r.waves), default=1) or 1
    for i, w in enumerate(r.waves):
        x = 70
        y = i * (bar + 6)
        parts.append(f'<text x="0" y="{y + bar - 6}">wave {w.wave}</text>')
        for field_name, code in order:
            count = int(getattr(w, field_name))
            if count:
                length = max(1, round(count / biggest * scale))
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{length}" height="{bar}" '
                    f'fill="{HEAT_COLOURS[code][0]}"><title>{count} {HEAT_COLOURS[code][1]}</title></rect>'
                )
                x += length
        parts.append(f'<text x="{x + 6}" y="{y + bar - 6}">{w.devices}</text>')
    height = max(1, len(r.waves)) * (bar + 6)
    return (
        f'<svg class="waves" role="img" aria-label="devices per wave by outcome" width="{scale + 140}" '
        f'height="{height}" viewBox="0 0 {scale + 140} {height}">{"".join(parts)}</svg>'
    )

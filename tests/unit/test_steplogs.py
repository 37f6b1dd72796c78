"""Each version's output per step: read from where the last step stopped, counted by level, the last lines
kept; lines still being written, a replaced file, a runaway logger and a missing file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_iotops.deploy.steplogs import KEEP, READ_MAX, WIDTH, StepLogs, level_of


@pytest.mark.parametrize(
    ("line", "level"),
    [
        (json.dumps({"level": "ERROR", "msg": "x"}), "error"),
        (json.dumps({"severity": "Warning"}), "warning"),
        (json.dumps({"levelname": "warn"}), "warning"),
        (json.dumps({"lvl": "fatal"}), "critical"),
        (json.dumps({"msg": "no level"}), "other"),
        ("{not json but ERROR inside", "error"),
        ("2026-12-03 10:00:00 INFO started", "info"),
        ("[WARN] disk at 91 %", "warning"),
        ("errors are lowercase words here", "other"),
        ("", "other"),
    ],
)
def test_a_line_has_the_level_its_format_says(line: str, level: str) -> None:
    assert level_of(line) == level


def test_each_step_gets_what_was_written_since_the_last(tmp_path: Path) -> None:
    log = tmp_path / "canary.log"
    log.write_text("INFO boot\n")
    outputs = StepLogs()
    (first,) = outputs.take({"canary": log})
    assert (first.version, first.lines, first.levels, first.last) == ("canary", 1, {"info": 1}, ["INFO boot"])
    with log.open("a") as f:
        f.write("ERROR one\nINFO two\nWARN thr")  # the last line is still being written
    (second,) = outputs.take({"canary": log})
    assert (second.lines, second.levels, second.last) == (2, {"error": 1, "info": 1}, ["ERROR one", "INFO two"])
    with log.open("a") as f:
        f.write("ee\n")
    (third,) = outputs.take({"canary": log})
    assert third.last == ["WARN three"]
    assert third.levels == {"warning": 1}
    (quiet,) = outputs.take({"canary": log})
    assert (quiet.lines, quiet.last) == (0, [])


def test_only_the_last_lines_are_kept_and_long_lines_are_cut(tmp_path: Path) -> None:
    log = tmp_path / "v.log"
    log.write_text("".join(f"INFO {i} {'x' * 400}\n" for i in range(20)))
    (step,) = StepLogs().take({"v": log})
    assert step.lines == 20
    assert len(step.last) == KEEP
    assert step.last[-1].startswith("INFO 19 ")
    assert all(len(line) == WIDTH for line in step.last)


def test_a_replaced_file_is_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "v.log"
    log.write_text("INFO a\nINFO b\nINFO c\n")
    outputs = StepLogs()
    outputs.take({"v": log})
    log.write_text("ERROR restarted\n")
    (step,) = outputs.take({"v": log})
    assert (step.lines, step.last) == (1, ["ERROR restarted"])


def test_a_runaway_logger_is_counted_not_parsed_beyond_the_bound(tmp_path: Path) -> None:
    log = tmp_path / "v.log"
    line = b"DEBUG " + b"y" * 1000 + b"\n"
    n = READ_MAX // len(line) * 2
    log.write_bytes(line * n)
    (step,) = StepLogs().take({"v": log})
    assert step.lines == n  # every line counted
    assert step.levels["debug"] + step.levels.get("other", 0) == n
    assert step.levels["other"] > 0  # the oldest part counted as lines only


def test_a_missing_file_is_an_empty_record_not_an_error(tmp_path: Path) -> None:
    (step,) = StepLogs().take({"gone": tmp_path / "nope.log"})
    assert (step.version, step.lines, step.levels, step.last) == ("gone", 0, {}, [])

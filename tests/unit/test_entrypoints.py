"""entrypoints.may_declare answers "no" only when importlib.metadata would find no entry point of the group:
checked against importlib.metadata itself on the same directories, and "maybe" where it cannot look."""

from __future__ import annotations

import importlib.metadata
import zipfile
from pathlib import Path

import pytest

from pytest_iotops.entrypoints import may_declare


def _dist(site: Path, name: str, entry_points: str | None, suffix: str = ".dist-info") -> None:
    info = site / f"{name}-1.0{suffix}"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def _importlib_says(group: str, path: list[str]) -> bool:
    found = importlib.metadata.distributions(path=path)
    return any(ep.group == group for dist in found for ep in dist.entry_points)


@pytest.mark.parametrize(
    ("entry_points", "suffix"),
    [
        ("[iotops]\nmine = mine\n", ".dist-info"),
        ("[console_scripts]\nx = y:z\n\n[iotops]\nmine = mine\n", ".dist-info"),
        ("[iotops]\nmine = mine\n", ".egg-info"),
        ("[console_scripts]\nx = y:z\n", ".dist-info"),
        ("", ".dist-info"),
        (None, ".dist-info"),
        ("[iotops_extra]\nmine = mine\n", ".dist-info"),
    ],
)
def test_the_answer_agrees_with_importlib_metadata(tmp_path: Path, entry_points: str | None, suffix: str) -> None:
    _dist(tmp_path / "site", "other", "[pytest11]\nplug = plug\n")
    _dist(tmp_path / "site", "mine", entry_points, suffix)
    path = [str(tmp_path / "missing"), str(tmp_path / "site")]
    assert may_declare("iotops", path=path, finders=[]) == _importlib_says("iotops", path)


def test_an_old_egg_directory_on_the_path(tmp_path: Path) -> None:
    egg = tmp_path / "mine-1.0-py3.11.egg"
    (egg / "EGG-INFO").mkdir(parents=True)
    (egg / "EGG-INFO" / "entry_points.txt").write_text("[iotops]\nmine = mine\n")
    assert may_declare("iotops", path=[str(egg)], finders=[])


def test_an_egg_info_file_has_no_entry_points(tmp_path: Path) -> None:
    (tmp_path / "old-1.0.egg-info").write_text("Metadata-Version: 1.0\nName: old\n")
    assert not may_declare("iotops", path=[str(tmp_path)], finders=[])


def test_where_it_cannot_look_it_says_maybe(tmp_path: Path) -> None:
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("mine-1.0.dist-info/entry_points.txt", "[console_scripts]\nx = y:z\n")
    assert may_declare("iotops", path=[str(archive)], finders=[])  # a zip file: importlib.metadata reads it

    class OwnFinder:
        def find_distributions(self, context: object = None) -> list[object]:
            return []

    assert may_declare("iotops", path=[], finders=[OwnFinder()])
    assert not may_declare("iotops", path=[str(tmp_path / "nothing")], finders=[])


def test_the_installed_packages_of_this_environment() -> None:
    """Entry points nobody on the team wrote: every group any installed package declares (pytest11,
    console_scripts, bandit's, babel's ...) is found, under pytest's own import hooks; a group none declares
    is not (so the check answers "no" here, not "maybe" everywhere)."""
    declared = {ep.group for dist in importlib.metadata.distributions() for ep in dist.entry_points}
    assert len(declared) > 5
    assert [group for group in sorted(declared) if not may_declare(group)] == []
    assert not may_declare("iotops-no-package-declares-this")
    assert may_declare("iotops") == bool(importlib.metadata.entry_points(group="iotops"))

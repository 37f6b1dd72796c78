"""The run's commit, branch and dirty flag from a real git repository, and the CI variables when git cannot say."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pytest_iotops.gitinfo import git_info


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_commit_branch_and_dirty_flag_from_git(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "feature/x")
    (tmp_path / "a.py").write_text("x = 1\n")
    _git(tmp_path, "add", "a.py")
    _git(tmp_path, "commit", "-qm", "one")
    head = _git(tmp_path, "rev-parse", "HEAD")
    clean = git_info(tmp_path, {})
    assert (clean.commit, clean.branch, clean.dirty) == (head, "feature/x", False)
    assert clean.committed_at == _git(tmp_path, "show", "-s", "--format=%cI", "HEAD")
    (tmp_path / "new.py").write_text("untracked\n")
    assert git_info(tmp_path, {}).dirty is False  # untracked files do not make a checkout dirty
    (tmp_path / "a.py").write_text("x = 2\n")
    assert git_info(tmp_path, {}).dirty is True


def test_a_detached_checkout_takes_the_branch_from_ci(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.py").write_text("x = 1\n")
    _git(tmp_path, "add", "a.py")
    _git(tmp_path, "commit", "-qm", "one")
    _git(tmp_path, "checkout", "-q", "--detach")
    assert git_info(tmp_path, {}).branch is None
    assert git_info(tmp_path, {"GITHUB_REF_NAME": "release-2"}).branch == "release-2"


def test_outside_a_repository_everything_comes_from_ci(tmp_path: Path) -> None:
    info = git_info(tmp_path, {"CI_COMMIT_SHA": "abc123", "CI_COMMIT_REF_NAME": "main"})
    assert (info.commit, info.branch, info.dirty, info.committed_at) == ("abc123", "main", None, None)

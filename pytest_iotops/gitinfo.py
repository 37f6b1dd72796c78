"""Commit and branch of the run: from git when it answers, else from CI environment variables."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .model import GitInfo

__all__ = ["git_info"]

_CI_COMMIT = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILD_SOURCEVERSION")
_CI_BRANCH = ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "GIT_BRANCH", "BUILD_SOURCEBRANCHNAME")


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_info(cwd: Path, environ: Mapping[str, str] | None = None) -> GitInfo:
    """Two git processes (each costs a few milliseconds of every run): the commit and its time, then the branch
    and whether tracked files changed, both from one machine-readable status."""
    env = os.environ if environ is None else environ
    head = (_git(cwd, "show", "-s", "--format=%H %cI", "HEAD") or "").split()
    commit, committed_at = (head[0], head[1]) if len(head) == 2 else (None, None)
    branch, dirty = None, None
    status = _git(cwd, "status", "--porcelain=v2", "--branch", "--untracked-files=no") if commit else None
    if status is not None:
        lines = status.splitlines()
        named = [line.removeprefix("# branch.head ") for line in lines if line.startswith("# branch.head ")]
        branch = named[0] if named and named[0] != "(detached)" else None  # detached: most CI checkouts
        dirty = any(not line.startswith("#") for line in lines)
    commit = commit or next((env[k] for k in _CI_COMMIT if env.get(k)), None)
    branch = branch or next((env[k] for k in _CI_BRANCH if env.get(k)), None)
    return GitInfo(commit, branch, dirty, committed_at)

"""Deployments as tests (issue 4). So far: the statistical judge; targets, strategies and fixtures follow."""

from __future__ import annotations

__all__: list[str] = []

"""Deployments as tests: version processes (:mod:`.process`) behind a traffic splitter (:mod:`.target` — the
embedded :mod:`.router`, :mod:`.nginx`, :mod:`.haproxy`, or a plugin's), driven by the strategies
(:mod:`.blue_green`, :mod:`.canary`) under :mod:`.load`, judged by :mod:`.judge`; the result
(:mod:`.result`) is what a test asserts on and what the run report records. Imports without pytest."""

from __future__ import annotations

__all__: list[str] = []

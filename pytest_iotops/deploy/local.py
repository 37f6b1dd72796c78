"""The embedded default target: the aiohttp router of :mod:`.router`, in the test process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import DeployError
from .judge import Samples
from .process import VersionProcess
from .router import Router
from .target import Target

__all__ = ["LocalTarget"]


class LocalTarget(Target):
    """The embedded default: the aiohttp router of :mod:`.router` in this process."""

    name = "local"
    options_known = frozenset({"seed"})

    def __init__(self, commands: Mapping[str, Sequence[str]], **kwargs: Any) -> None:
        super().__init__(commands, **kwargs)
        self.router = Router(seed=int(self.options.get("seed", 0)), timeout=self.request_timeout)

    @property
    def url(self) -> str:
        return self.router.url

    def open(self) -> LocalTarget:
        if self.router.port:
            raise DeployError("this local target is already open")
        self.router.start()
        return self

    def close_router(self) -> None:
        self.router.stop()

    def add_backend(self, version: str, process: VersionProcess) -> None:
        self.router.set_backend(version, process.url)

    def remove_backend(self, version: str) -> None:
        self.router.remove_backend(version)

    def route(self, weights: Mapping[str, int]) -> None:
        self.router.set_weights({**dict.fromkeys(self._weights, 0), **weights})

    def drain(self, version: str, timeout: float = 30.0) -> bool:
        return self.router.drain(version, timeout)

    def settle(self, before: float, timeout: float) -> None:
        self.router.settle(before, timeout)

    def window(self) -> dict[str, Samples]:
        return self.router.window()

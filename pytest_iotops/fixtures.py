"""Deployment fixtures: thin — build the local target from ``[tool.iotops.deploy]``, run the engine's strategy
under load, and stop everything afterwards, whatever happened in the test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .config import Settings
    from .deploy.blue_green import BlueGreenResult, LocalTarget
    from .deploy.canary import CanaryResult

__all__ = ["Deployer", "iotops_blue_green", "iotops_canary", "iotops_deploy_target"]


def _settings(config: pytest.Config) -> Settings:
    plugin = config.pluginmanager.get_plugin("iotops-session")
    if plugin is not None:
        return plugin.settings  # type: ignore[no-any-return]
    from .config import find_pyproject, load_settings

    return load_settings(find_pyproject(config.rootpath, config.inipath))


class Deployer:
    """What a deployment test holds: the target, and the two strategies run under the configured load."""

    def __init__(self, target: LocalTarget, settings: Settings) -> None:
        self.target = target
        self.settings = settings.deploy

    def _load(self) -> object:
        from .deploy.load import Load

        d = self.settings
        return Load(self.target.router.url, rate=d.load_rate, concurrency=d.load_concurrency, paths=d.load_paths)

    def rollout(self, version: str, steps: Sequence[int] | None = None, bake: float | None = None) -> CanaryResult:
        from .deploy.canary import canary

        d = self.settings
        with self._load():  # type: ignore[attr-defined]
            return canary(
                self.target,
                self.active,
                version,
                steps=steps or d.steps,
                bake=d.bake if bake is None else bake,
                specs=d.metrics,
            )

    def deploy(self, version: str) -> BlueGreenResult:
        from .deploy.blue_green import blue_green

        with self._load() as load:  # type: ignore[attr-defined]
            result = blue_green(self.target, self.active, version, keep_old_for=self.settings.keep_old_for)
        result.availability = load.result.availability
        return result

    @property
    def active(self) -> str:
        weights = self.target.router.weights
        return max(weights, key=lambda v: weights[v])


@pytest.fixture
def iotops_deploy_target(request: pytest.FixtureRequest) -> Iterator[LocalTarget]:
    """The local target with the stable version running and serving all traffic."""
    from .deploy.blue_green import LocalTarget
    from .errors import DeployError

    settings = _settings(request.config)
    d = settings.deploy
    if not d.versions or not d.stable:
        raise DeployError("configure [tool.iotops.deploy] with versions and a stable version")
    target = LocalTarget(
        {k: list(c) for k, c in d.versions.items()},
        cwd=request.config.rootpath,
        health_path=d.health_path,
        start_timeout=d.start_timeout,
    )
    try:
        target.router.start()
        target.start(d.stable)
        target.router.set_weights({d.stable: 100})
        yield target
    finally:
        target.close()  # runs after failures, exceptions and KeyboardInterrupt alike


@pytest.fixture
def iotops_canary(iotops_deploy_target: LocalTarget, request: pytest.FixtureRequest) -> Deployer:
    return Deployer(iotops_deploy_target, _settings(request.config))


@pytest.fixture
def iotops_blue_green(iotops_deploy_target: LocalTarget, request: pytest.FixtureRequest) -> Deployer:
    return Deployer(iotops_deploy_target, _settings(request.config))

"""Deployment fixtures: thin — build the configured target from ``[tool.iotops.deploy]``, run the engine's
strategies under load with a live progress line, record each deployment for the run report, and stop
everything afterwards, whatever happened in the test.

``@pytest.mark.iotops_deploy(target="nginx", stable="v1")`` overrides the configuration for one test.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .config import Settings
    from .deploy.config import DeploySettings
    from .deploy.result import DeployResult, Progress
    from .deploy.target import Target
    from .model import Deployment

__all__ = ["DEPLOYMENTS", "Deployer", "iotops_blue_green", "iotops_canary", "iotops_deploy_target"]

#: deployments a test ran, picked up by the plugin for the run report
DEPLOYMENTS: pytest.StashKey[list[Deployment]] = pytest.StashKey()
_SETTINGS: pytest.StashKey[DeploySettings] = pytest.StashKey()


def _settings(config: pytest.Config) -> Settings:
    plugin = config.pluginmanager.get_plugin("iotops-session")
    if plugin is not None:
        return plugin.settings  # type: ignore[no-any-return]
    from .config import find_pyproject, load_settings

    return load_settings(find_pyproject(config.rootpath, config.inipath))


def _deploy_settings(request: pytest.FixtureRequest) -> DeploySettings:
    """The test's deployment settings (configuration plus its marker), worked out once per test."""
    stash: pytest.Stash = request.node.stash
    cached = stash.get(_SETTINGS, None)
    if cached is None:
        cached = stash[_SETTINGS] = _resolve_settings(request)
    return cached


def _resolve_settings(request: pytest.FixtureRequest) -> DeploySettings:
    from .deploy.config import override
    from .errors import DeployError

    d = _settings(request.config).deploy
    marker = request.node.get_closest_marker("iotops_deploy")
    if marker is not None:
        if marker.args:
            raise DeployError(
                f"{request.node.nodeid}: iotops_deploy takes keyword settings of [tool.iotops.deploy], "
                f"not {list(marker.args)}"
            )
        d = override(d, marker.kwargs, f"{request.node.nodeid}: @pytest.mark.iotops_deploy")
    if not d.versions or not d.stable:
        raise DeployError("configure [tool.iotops.deploy] with versions and a stable version")
    return d


def _progress(config: pytest.Config) -> Progress | None:
    """Lines in pytest's own reporter, with capture suspended as pytest's live logging does; on a terminal the
    current step's line is rewritten in place. xdist workers have no terminal: their deployments show in the
    reports only."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(config, "workerinput"):
        return None
    capman = config.pluginmanager.get_plugin("capturemanager")
    live = bool(getattr(reporter, "isatty", False))
    state = {"open": False}

    def show(line: str, final: bool) -> None:
        suspended = capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext()
        with suspended:
            if not state["open"]:
                reporter.ensure_newline()
                state["open"] = True
            if live:
                width = max(reporter._tw.fullwidth - 1, 20)
                reporter.write("\r" + line[:width].ljust(width))
                if final:
                    reporter.write("\n")
            elif final:
                reporter.write_line(line)

    return show


def _load_options(d: DeploySettings) -> dict[str, Any]:
    return {"rate": d.load_rate, "concurrency": d.load_concurrency, "paths": d.load_paths, "headers": d.load_headers}


class Deployer:
    """What a deployment test holds: the target, and the two strategies run under the configured load."""

    def __init__(self, target: Target, settings: DeploySettings, request: pytest.FixtureRequest) -> None:
        self.target = target
        self.settings = settings
        self._request = request
        self._progress = _progress(request.config)

    def _load(self, d: DeploySettings) -> Any:
        from .deploy.load import Load

        return Load(self.target.url, **_load_options(d))

    @contextlib.contextmanager
    def _recording(self, load: Any) -> Iterator[None]:
        """A deployment ended by an exception still goes into the run report, as ``error``."""
        try:
            yield
        except Exception as exc:
            partial = getattr(exc, "iotops_result", None)
            if partial is not None:
                self._record(partial, load)
            raise

    def _record(self, result: DeployResult, load: Any) -> DeployResult:
        result.availability = load.result.availability
        result.test = self._request.node.nodeid
        self._request.node.stash.setdefault(DEPLOYMENTS, []).append(result.deployment())
        return result

    def rollout(
        self,
        version: str,
        steps: Sequence[int] | None = None,
        bake: float | None = None,
        **overrides: Any,
    ) -> DeployResult:
        """Canary to ``version``; ``overrides`` are [tool.iotops.deploy] keys for this call, tables merged into
        the configured ones (e.g. ``analysis={"failure_limit": 1}``, ``load={"rate": 200}``)."""
        from .deploy.canary import CanaryLimits, canary

        d = self._settings_with(overrides)
        limits = CanaryLimits(d.failure_limit, d.inconclusive_limit, d.consecutive_error_limit, d.health_failures)
        load = self._load(d)
        with load, self._recording(load):
            result = canary(
                self.target,
                self.active,
                version,
                steps=d.steps if steps is None else steps,
                bake=d.bake if bake is None else bake,
                specs=d.metrics,
                limits=limits,
                health_interval=d.health_interval,
                progress=self._progress,
            )
        return self._record(result, load)

    def deploy(self, version: str, **overrides: Any) -> DeployResult:
        """Blue-green to ``version``; ``overrides`` as for :meth:`rollout` (e.g. ``keep_old_for=2``)."""
        from .deploy.blue_green import blue_green

        d = self._settings_with(overrides)
        load = self._load(d)
        with load, self._recording(load):
            result = blue_green(
                self.target,
                self.active,
                version,
                keep_old_for=d.keep_old_for,
                analysis=d.pre_promotion,
                specs=d.metrics,
                load=_load_options(d),
                progress=self._progress,
            )
        return self._record(result, load)

    def _settings_with(self, overrides: dict[str, Any]) -> DeploySettings:
        from .deploy.config import override

        if not overrides:
            return self.settings
        return override(self.settings, overrides, f"{self._request.node.nodeid}: deployment arguments")

    @property
    def active(self) -> str:
        weights = self.target.weights
        return max(weights, key=lambda v: weights[v])


@pytest.fixture
def iotops_deploy_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The configured target with the stable version running and serving all traffic."""
    from .deploy.targets import make_target
    from .hookspecs import plugin_manager

    d = _deploy_settings(request)
    pm = plugin_manager()
    request.config.hook.pytest_iotops_register(plugin_manager=pm)
    target = make_target(
        d.target,
        pm,
        {k: list(c) for k, c in d.versions.items()},
        cwd=request.config.rootpath,
        env={**os.environ, **d.env} if d.env else None,
        health_path=d.health_path,
        start_timeout=d.start_timeout,
        options=d.target_options,
    )
    try:
        target.open()
        assert d.stable is not None
        target.start(d.stable)
        target.set_weights({d.stable: 100})
        yield target
    finally:
        target.close()  # runs after failures, exceptions and KeyboardInterrupt alike


@pytest.fixture
def iotops_canary(iotops_deploy_target: Target, request: pytest.FixtureRequest) -> Deployer:
    return Deployer(iotops_deploy_target, _deploy_settings(request), request)


@pytest.fixture
def iotops_blue_green(iotops_deploy_target: Target, request: pytest.FixtureRequest) -> Deployer:
    return Deployer(iotops_deploy_target, _deploy_settings(request), request)

"""Deployment fixtures: thin — build the configured target from ``[tool.iotops.deploy]``, run the engine's
strategies under load with a live progress line, record each deployment for the run report, and stop
everything afterwards, whatever happened in the test.

``@pytest.mark.iotops_deploy(target="nginx", stable="v1")`` overrides the configuration for one test; markers on
the module, the class and the function are merged, the closest winning key by key (tables merged key by key).
Every test's settings are checked when tests are collected, so a bad value is a usage error (exit 4) before
anything starts, with or without ``--iotops``. SIGTERM and SIGHUP during a deployment are handled as Ctrl-C:
traffic goes back to the stable version, everything stops and the run report records the deployment as
``interrupted``.
"""

from __future__ import annotations

import contextlib
import operator
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from itertools import compress, repeat
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .config import Settings
    from .deploy.config import DeploySettings
    from .deploy.result import DeployResult, Progress
    from .deploy.target import Target
    from .model import Deployment
    from .monitoring.monitor import Monitor

__all__ = [
    "DEPLOYMENTS",
    "RECORD_KEPT",
    "Deployer",
    "iotops_blue_green",
    "iotops_canary",
    "iotops_deploy_target",
    "keep_record",
]

#: deployments a test ran, picked up by the plugin for the run report
DEPLOYMENTS: pytest.StashKey[list[Deployment]] = pytest.StashKey()
#: told of each item whose test left a record in its stash: a serial run's session plugin drains those items before
#: the next test, an xdist worker starts carrying records on its reports (neither looks at every test's stash)
RECORD_KEPT: pytest.StashKey[Callable[[pytest.Item], None]] = pytest.StashKey()
_SETTINGS: pytest.StashKey[DeploySettings] = pytest.StashKey()
_PROJECT: pytest.StashKey[Settings] = pytest.StashKey()


def keep_record(node: Any, key: pytest.StashKey[list[Any]], record: Any) -> None:
    """A deployment or fleet rollout the test ran, left on its item for the session plugin (serial runs) or its
    reports (xdist workers)."""
    node.stash.setdefault(key, []).append(record)
    kept = node.config.stash.get(RECORD_KEPT, None)
    if kept is not None:
        kept(node)


def _settings(config: pytest.Config) -> Settings:
    plugin = config.pluginmanager.get_plugin("iotops-session")
    if plugin is not None:
        return plugin.settings  # type: ignore[no-any-return]
    loaded = config.stash.get(_PROJECT, None)
    if loaded is None:
        from .config import find_pyproject, load_settings

        loaded = config.stash[_PROJECT] = load_settings(find_pyproject(config.rootpath, config.inipath))
    return loaded


def _deploy_settings(request: pytest.FixtureRequest) -> DeploySettings:
    """The test's deployment settings (configuration plus its marker), worked out once per test."""
    stash: pytest.Stash = request.node.stash
    cached = stash.get(_SETTINGS, None)
    if cached is None:
        cached = stash[_SETTINGS] = _merged_settings(request.node, request.config)
    return cached


def _merged_settings(node: pytest.Item, config: pytest.Config) -> DeploySettings:
    from .deploy.config import override
    from .errors import DeployError

    d = _settings(config).deploy
    # iter_markers gives the closest first: apply the farthest first, so the closest wins key by key
    for marker in reversed(list(node.iter_markers("iotops_deploy"))):
        if marker.args:
            raise DeployError(
                f"{node.nodeid}: iotops_deploy takes keyword settings of [tool.iotops.deploy], not {list(marker.args)}"
            )
        d = override(d, marker.kwargs, f"{node.nodeid}: @pytest.mark.iotops_deploy")
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
    return {
        "rate": d.load_rate,
        "concurrency": d.load_concurrency,
        "paths": d.load_paths,
        "headers": d.load_headers,
        "checks": d.checks,
    }


class Deployer:
    """What a deployment test holds: the target, and the two strategies run under the configured load."""

    def __init__(self, target: Target, settings: DeploySettings, request: pytest.FixtureRequest) -> None:
        self.target = target
        self.settings = settings
        self._request = request
        self._progress = _progress(request.config)

    def _load(self, d: DeploySettings) -> Any:
        from .deploy.load import Load

        # the client waits longer than the target's request timeout: the target, not the client, ends a hang;
        # it tells the target what it saw (response checks, availability)
        self.target.checks = d.checks
        return Load(self.target.url, timeout=d.request_timeout + 2.0, observe=self.target.observe, **_load_options(d))

    @contextlib.contextmanager
    def _recording(self, load: Any) -> Iterator[None]:
        """A deployment ended by an exception still goes into the run report, as ``error``, or ``interrupted``
        (Ctrl-C, SIGTERM, SIGHUP)."""
        try:
            yield
        except BaseException as exc:
            partial = getattr(exc, "iotops_result", None)
            if partial is not None:
                self._record(partial, load)
            raise

    def _record(self, result: DeployResult, load: Any) -> DeployResult:
        result.availability = load.result.availability
        result.check_failures = dict(load.result.by_check)
        result.test = self._request.node.nodeid
        keep_record(self._request.node, DEPLOYMENTS, result.deployment())
        return result

    def rollout(
        self,
        version: str,
        steps: Sequence[int] | None = None,
        bake: float | None = None,
        **overrides: Any,
    ) -> DeployResult:
        """Canary to ``version``; ``overrides`` are [tool.iotops.deploy] keys for this call, tables merged into
        the configured ones (e.g. ``analysis={"failure_limit": 1}``, ``load={"rate": 200}``); all of them, ``steps``
        and ``bake`` included, are checked before anything starts."""
        from .deploy.canary import CanaryLimits, canary

        if steps is not None:
            overrides["steps"] = list(steps)
        if bake is not None:
            overrides["bake"] = bake
        d = self._settings_with(overrides)
        limits = CanaryLimits(d.failure_limit, d.inconclusive_limit, d.consecutive_error_limit, d.health_failures)
        monitor = self._monitor(d)
        load = self._load(d)
        with contextlib.ExitStack() as stack:
            if monitor is not None:
                stack.callback(monitor.close)
                monitor.open(self.target.reserve_ports())
            with load, self._recording(load):
                result = canary(
                    self.target,
                    self.active,
                    version,
                    steps=d.steps,
                    bake=d.bake,
                    specs=d.metrics,
                    limits=limits,
                    health_interval=d.health_interval,
                    progress=self._progress,
                    bake_max=d.bake_max,
                    monitor=monitor,
                )
        return self._record(result, load)

    def _monitor(self, d: DeploySettings) -> Monitor | None:
        """The rollout's monitoring signals ([tool.iotops.deploy.monitoring]), their providers not yet started."""
        from .registry import session_manager

        if d.monitoring is None:
            return None
        config = self._request.config
        url = _settings(config).history.url
        history = None
        if url:
            from .history.lookup import signal_lookup

            history = signal_lookup(url, config.rootpath)
        return d.monitoring.monitor(session_manager(config), config.rootpath, history)

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
    from .registry import session_manager

    d = _deploy_settings(request)
    pm = session_manager(request.config)
    target = make_target(
        d.target,
        pm,
        {k: list(c) for k, c in d.versions.items()},
        cwd=request.config.rootpath,
        env={**os.environ, **d.env} if d.env else None,
        health_path=d.health_path,
        start_timeout=d.start_timeout,
        options=d.target_options,
        request_timeout=d.request_timeout,
        checks=d.checks,
    )
    with _signals_as_interrupt():
        try:
            target.open()
            assert d.stable is not None
            target.start(d.stable)
            target.set_weights({d.stable: 100})
            yield target
        finally:
            target.close()  # runs after failures, exceptions and KeyboardInterrupt alike


@contextlib.contextmanager
def _signals_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (how CI runners and terminals stop a job) raise KeyboardInterrupt while versions run,
    as Ctrl-C does: the deployment rolls back, pytest tears everything down and still writes its reports. A
    handler the test run installed itself is left alone."""
    installed: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt(signal.Signals(signum).name)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                installed[sig] = signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, previous in installed.items():
            signal.signal(sig, previous)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every deployment test's settings checked before any test runs: a bad value is a usage error (exit 4)
    naming the test and the key, with or without --iotops, not a traceback per test after versions started."""
    from .errors import ConfigError, DeployError

    names = map(getattr, items, repeat("fixturenames"), repeat(()))  # (in C: no Python step per item)
    for item in compress(items, map(operator.not_, map(_USES_DEPLOY.isdisjoint, names))):
        try:
            item.stash[_SETTINGS] = _merged_settings(item, config)
        except (ConfigError, DeployError) as exc:
            raise pytest.UsageError(str(exc)) from None


_USES_DEPLOY = frozenset({"iotops_canary", "iotops_blue_green", "iotops_deploy_target"})


@pytest.fixture
def iotops_canary(iotops_deploy_target: Target, request: pytest.FixtureRequest) -> Deployer:
    return Deployer(iotops_deploy_target, _deploy_settings(request), request)


@pytest.fixture
def iotops_blue_green(iotops_deploy_target: Target, request: pytest.FixtureRequest) -> Deployer:
    return Deployer(iotops_deploy_target, _deploy_settings(request), request)


def __dir__() -> list[str]:
    """The fixtures and hooks only: pytest registers this module as a plugin and looks at every name ``dir()``
    gives, several lookups each (its imports and helpers included, about 40,000 instructions a name).
    ``tests/unit/test_plugin_dir.py`` holds this list to what the module defines."""
    return ["iotops_blue_green", "iotops_canary", "iotops_deploy_target", "pytest_collection_modifyitems"]

"""The ``iotops_fleet`` fixture: thin — the fleet from ``[tool.iotops.fleet]`` (a ``@pytest.mark.iotops_fleet``
marker and each call's keywords override it, checked the same way), one broker for the test started lazily and
stopped afterwards, each rollout recorded for the run report, SIGTERM and SIGHUP handled as Ctrl-C so the
device hosts and the broker stop on every exit path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .fleet.brokers import Broker
    from .fleet.firmware import Firmware
    from .fleet.result import FleetResult
    from .fleet.settings import FleetSettings
    from .model import FleetRollout

__all__ = ["FLEET_ROLLOUTS", "FleetRunner", "iotops_fleet"]

#: fleet rollouts a test ran, picked up by the plugin for the run report
FLEET_ROLLOUTS: pytest.StashKey[list[FleetRollout]] = pytest.StashKey()


def _fleet_settings(request: pytest.FixtureRequest) -> FleetSettings:
    from .fixtures import _settings
    from .fleet.settings import FleetSettings, override

    base = _settings(request.config).plugin_tables.get("fleet") or FleetSettings()
    for marker in reversed(list(request.node.iter_markers("iotops_fleet"))):
        if marker.args:
            raise pytest.UsageError(f"{request.node.nodeid}: iotops_fleet takes keyword settings, not {marker.args}")
        base = override(base, marker.kwargs, f"{request.node.nodeid}: @pytest.mark.iotops_fleet")
    return base


class FleetRunner:
    """What a fleet test holds: ``firmware()`` builds an artifact, ``rollout()`` rolls one out to the fleet."""

    def __init__(self, settings: FleetSettings, request: pytest.FixtureRequest) -> None:
        self.settings = settings
        self._request = request
        self._broker: Broker | None = None
        self.results: list[FleetResult] = []

    def firmware(self, version: str, **faults: Any) -> Firmware:
        """A build of the configured size; ``faults`` as :func:`~pytest_iotops.fleet.build_firmware` takes them
        (``corrupt``, ``boot_loop_on``, ``install_failure_rate``, ``health_failure_rate``, ``silent_rate``)."""
        from .fleet.firmware import build_firmware

        return build_firmware(version, self.settings.firmware_size, seed=self.settings.seed, **faults)

    def broker(self, name: str | None = None) -> Broker:
        from .fleet.brokers import make_broker
        from .registry import session_manager

        if self._broker is None or (name and name != self._broker.name):
            self.close()
            s = self.settings
            self._broker = make_broker(
                name or s.broker, session_manager(self._request.config), **dict(s.broker_options)
            )
            self._broker.start()
        return self._broker

    def rollout(self, new: Firmware | str, old: Firmware | None = None, **overrides: Any) -> FleetResult:
        """Roll ``new`` out to the fleet (which runs ``old``, by default a build of ``installed``).
        ``overrides``: any ``[tool.iotops.fleet]`` key for this call, ``restart_broker_at`` (virtual times) and
        ``key`` (the release key devices check the build's signature with)."""
        from .fleet.policy_files import load_policy
        from .fleet.profile import FleetSpec
        from .fleet.run import rollout
        from .fleet.settings import override

        restarts = overrides.pop("restart_broker_at", ())
        key = overrides.pop("key", None)  # devices verify the build's HMAC signature with it
        s = override(self.settings, overrides, f"{self._request.node.nodeid}: iotops_fleet.rollout()")
        policy = s.policy
        if s.policy_file:
            path = Path(s.policy_file)
            policy = load_policy(path if path.is_absolute() else self._request.config.rootpath / path, policy)
        from .fixtures import _progress

        show = _progress(self._request.config)
        built = self.firmware(new) if isinstance(new, str) else new
        previous = old or self.firmware(s.installed)
        result = rollout(
            FleetSpec(s.devices, s.seed, s.hardware, s.faults),
            built,
            previous,
            policy,
            self.broker(s.broker),
            hosts=s.hosts or None,
            key=key,
            clock=s.clock,
            speed=s.speed,
            restart_broker_at=restarts,
            deadline=s.deadline,
            name=f"{previous.version} -> {built.version}",
            progress=(lambda line: show(line, True)) if show is not None else None,
        )
        self.results.append(result)
        from .fixtures import keep_record

        keep_record(self._request.node, FLEET_ROLLOUTS, result.record(self._request.node.nodeid))
        return result

    def close(self) -> None:
        if self._broker is not None:
            self._broker.close()
            self._broker = None


@pytest.fixture
def iotops_fleet(request: pytest.FixtureRequest) -> Iterator[FleetRunner]:
    """A fleet to roll firmware out to, as configured; everything it started is stopped afterwards."""
    from .errors import ConfigError
    from .fixtures import _signals_as_interrupt

    try:
        settings = _fleet_settings(request)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    runner = FleetRunner(settings, request)
    with _signals_as_interrupt():
        try:
            yield runner
        finally:
            runner.close()


def __dir__() -> list[str]:
    """The fixtures and hooks only: pytest registers this module as a plugin and looks at every name ``dir()``
    gives, several lookups each (its imports and helpers included, about 40,000 instructions a name).
    ``tests/unit/test_plugin_dir.py`` holds this list to what the module defines."""
    return ["iotops_fleet"]

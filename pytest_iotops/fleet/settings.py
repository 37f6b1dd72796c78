"""``[tool.iotops.fleet]``: the fleet a test rolls firmware out to, the broker, the clock, the policy
(``[tool.iotops.fleet.policy]`` or an anchor's ``policy_file``) and the faults (``[tool.iotops.fleet.faults]``).
Read through the configuration-table registry (a built-in :class:`~pytest_iotops.tables.ConfigTable`), so the
same checks apply to the table, a ``@pytest.mark.iotops_fleet(...)`` marker and the fixture's per-call keywords:
an unknown key or a wrong value is an error naming where it came from and the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field, fields, replace
from typing import Any

from ..errors import ConfigError
from ..values import FrozenValue, record
from .policy import Policy, policy_from_table
from .profile import FleetFaults

__all__ = ["FleetSettings", "override", "parse_fleet_table"]


@record(frozen=True)
class FleetSettings(FrozenValue):
    devices: int = 100
    seed: int = 0
    broker: str = "embedded"
    broker_options: Mapping[str, Any] = field(default_factory=dict)
    hardware: Mapping[str, float] = field(default_factory=lambda: {"A": 0.7, "B": 0.2, "C": 0.1})
    installed: str = "1.0.0"
    firmware_size: int = 64 * 1024
    clock: str = "virtual"
    speed: float = 1.0
    hosts: int = 0  # 0: one device host process per 2,500 devices, at most one per core
    deadline: float = 600.0  # seconds of real time a rollout may take
    policy_file: str = ""
    policy: Policy = field(default_factory=lambda: Policy(source="defaults"))
    faults: FleetFaults = field(default_factory=FleetFaults)


_NUMBERS: dict[str, tuple[type, float, float]] = {
    "devices": (int, 1, 1_000_000),
    "seed": (int, 0, 2**63),
    "firmware_size": (int, 1, 1 << 30),
    "speed": (float, 1e-3, 1e6),
    "hosts": (int, 0, 256),
    "deadline": (float, 1, 1e6),
}
_STRINGS = ("broker", "installed", "clock", "policy_file")
_FAULT_KEYS = {f.name for f in fields(FleetFaults)}


def _check_number(key: str, value: Any, where: str) -> int | float:
    kind, lo, hi = _NUMBERS[key]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (kind is float or isinstance(value, int))
    if not ok or not lo <= value <= hi:
        raise ConfigError(
            f"{where}: {key} = {value!r}: expected {'an integer' if kind is int else 'a number'} in [{lo:g}, {hi:g}]"
        )
    return kind(value)  # type: ignore[no-any-return]


def override(base: FleetSettings, values: Mapping[str, Any], where: str) -> FleetSettings:
    """``base`` with ``values`` (a table, a marker's or a call's keywords) applied and checked."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(values).__name__}")
    known = {f.name for f in fields(FleetSettings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    kw = {key: _value(key, value, where) for key, value in values.items()}
    if kw.get("clock", base.clock) not in ("virtual", "real"):
        raise ConfigError(f"{where}: clock = {kw['clock']!r}: 'virtual' or 'real'")
    hardware = kw.get("hardware", base.hardware)
    if (
        not hardware
        or any(not isinstance(w, (int, float)) or isinstance(w, bool) or w < 0 for w in hardware.values())
        or sum(hardware.values()) <= 0
    ):
        raise ConfigError(f"{where}: hardware: a table of class = weight, weights >= 0, at least one positive")
    return replace(base, **kw)


def _value(key: str, value: Any, where: str) -> Any:
    """One key's value, checked."""
    if key in _NUMBERS:
        return _check_number(key, value, where)
    if key in _STRINGS:
        if not isinstance(value, str) or (key != "policy_file" and not value):
            raise ConfigError(f"{where}: {key} = {value!r}: expected a string")
        return value
    if key in ("hardware", "broker_options"):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: {key}: expected a table, got {type(value).__name__}")
        return dict(value)
    if key == "policy":
        return value if isinstance(value, Policy) else policy_from_table(value, f"{where}: policy")
    return value if isinstance(value, FleetFaults) else _faults(value, f"{where}: faults")


def _faults(value: Any, where: str) -> FleetFaults:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(value).__name__}")
    unknown = sorted(set(value) - _FAULT_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_FAULT_KEYS))})")
    try:
        return FleetFaults(**value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_fleet_table(raw: Any, where: str) -> FleetSettings:
    settings = override(FleetSettings(), raw, where)
    if "policy" in raw:
        settings = replace(settings, policy=replace(settings.policy, source=f"{where}.policy"))
    return settings

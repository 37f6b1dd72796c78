"""Firmware rollouts to a simulated device fleet over a real MQTT broker, on a virtual clock: the devices' A/B
update machine, the rollout controller with its policy and statistical rule, fleet rollback, and faults at
every state. ``rollout()`` runs one; the ``iotops_fleet`` fixture runs them from pytest.

Names are imported on first use: the plugin manager reads the fleet's configuration table in every
``pytest --iotops`` run, and that must not import the MQTT client or the simulator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .brokers import BUILTIN_BROKERS, Broker, EmbeddedBroker, MosquittoBroker, make_broker
    from .firmware import Firmware, build_firmware
    from .policy import AbortCriterion, Policy, Rate, policy_from_table
    from .policy_files import load_policy, policy_from_aws, policy_from_hawkbit
    from .profile import STATES, DeviceFaults, FleetFaults, FleetSpec
    from .result import DeviceRecord, FleetResult
    from .run import rollout

_WHERE = {
    "brokers": ("BUILTIN_BROKERS", "Broker", "EmbeddedBroker", "MosquittoBroker", "make_broker"),
    "firmware": ("Firmware", "build_firmware"),
    "policy": ("AbortCriterion", "Policy", "Rate", "policy_from_table"),
    "policy_files": ("load_policy", "policy_from_aws", "policy_from_hawkbit"),
    "profile": ("STATES", "DeviceFaults", "FleetFaults", "FleetSpec"),
    "result": ("DeviceRecord", "FleetResult"),
    "run": ("rollout",),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "BUILTIN_BROKERS",
    "STATES",
    "AbortCriterion",
    "Broker",
    "DeviceFaults",
    "DeviceRecord",
    "EmbeddedBroker",
    "Firmware",
    "FleetFaults",
    "FleetResult",
    "FleetSpec",
    "MosquittoBroker",
    "Policy",
    "Rate",
    "build_firmware",
    "load_policy",
    "make_broker",
    "policy_from_aws",
    "policy_from_hawkbit",
    "policy_from_table",
    "rollout",
]


def __getattr__(name: str) -> object:
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)

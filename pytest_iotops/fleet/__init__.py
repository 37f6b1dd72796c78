"""Firmware rollouts to a simulated device fleet over a real MQTT broker, on a virtual clock: the devices' A/B
update machine, the rollout controller with its policy and statistical rule, fleet rollback, and faults at
every state. ``rollout()`` runs one; the ``iotops_fleet`` fixture runs them from pytest."""

from __future__ import annotations

from .brokers import BUILTIN_BROKERS, Broker, EmbeddedBroker, MosquittoBroker, make_broker
from .firmware import Firmware, build_firmware
from .policy import AbortCriterion, Policy, Rate, policy_from_table
from .policy_files import load_policy, policy_from_aws, policy_from_hawkbit
from .profile import STATES, DeviceFaults, FleetFaults, FleetSpec
from .result import DeviceRecord, FleetResult, WaveRecord
from .run import rollout

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
    "WaveRecord",
    "build_firmware",
    "load_policy",
    "make_broker",
    "policy_from_aws",
    "policy_from_hawkbit",
    "policy_from_table",
    "rollout",
]

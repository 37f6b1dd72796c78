"""The fleet's built-in registrations — the ``[tool.iotops.fleet]`` table and the ``embedded`` and ``mosquitto``
brokers — kept light: registering them is part of every run's start, while the fleet settings, the policy and
fault models and the brokers' process machinery are imported only when a project uses them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..tables import ConfigTable

if TYPE_CHECKING:
    from .brokers import Broker

__all__ = ["FLEET_TABLE", "iotops_config_tables", "iotops_fleet_broker"]


def _parse(raw: Any, where: str) -> Any:
    from .settings import parse_fleet_table

    return parse_fleet_table(raw, where)


FLEET_TABLE = ConfigTable("fleet", _parse)


@hookimpl(trylast=True)
def iotops_config_tables() -> list[ConfigTable]:
    return [FLEET_TABLE]


@hookimpl(trylast=True)
def iotops_fleet_broker(name: str) -> Callable[..., Broker] | None:
    from .brokers import BROKER_CLASSES

    return BROKER_CLASSES.get(name)

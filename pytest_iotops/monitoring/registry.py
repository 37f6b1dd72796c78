"""The built-in metric providers behind the ``iotops_metric_provider`` hook, and the lookup the fixtures use."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

from ..errors import ConfigError
from ..hookspecs import hookimpl

if TYPE_CHECKING:  # the providers (and urllib's HTTP stack) are imported when a project monitors, not at start
    from .providers import MetricProvider

__all__ = ["BUILTIN_PROVIDERS", "iotops_metric_provider", "provider_class"]

BUILTIN_PROVIDERS = ("prometheus", "web", "command", "logs")


@hookimpl(trylast=True)
def iotops_metric_provider(name: str) -> type[MetricProvider] | None:
    if name == "prometheus":
        from .prometheus import PrometheusProvider

        return PrometheusProvider
    if name == "logs":
        from .logs import LogsProvider

        return LogsProvider
    from .providers import CommandProvider, WebProvider

    return {"web": WebProvider, "command": CommandProvider}.get(name)


def provider_class(name: str, pm: pluggy.PluginManager | None) -> type[MetricProvider]:
    from .providers import MetricProvider

    found: Callable[..., MetricProvider] | None = (
        pm.hook.iotops_metric_provider(name=name) if pm is not None else iotops_metric_provider(name)
    )
    if not isinstance(found, type) or not issubclass(found, MetricProvider):
        raise ConfigError(
            f"unknown metric provider {name!r}: built in are {', '.join(BUILTIN_PROVIDERS)}; others come from "
            "plugins (the iotops_metric_provider hook)"
        )
    return found

"""The built-in deployment targets behind the ``iotops_deploy_target`` hook, and the lookup a fixture uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

from ..errors import DeployError
from ..hookspecs import hookimpl

if TYPE_CHECKING:  # the targets' machinery is imported when a target is made, not when the hook is registered
    from .target import Target

__all__ = ["BUILTIN_TARGETS", "iotops_deploy_target", "make_target"]

BUILTIN_TARGETS = ("local", "nginx", "haproxy")


@hookimpl(trylast=True)
def iotops_deploy_target(name: str) -> Callable[..., Target] | None:
    if name == "local":
        from .local import LocalTarget

        return LocalTarget
    if name == "nginx":
        from .nginx import NginxTarget

        return NginxTarget
    if name == "haproxy":
        from .haproxy import HAProxyTarget

        return HAProxyTarget
    return None


def make_target(name: str, pm: pluggy.PluginManager, commands: Mapping[str, Sequence[str]], **kwargs: Any) -> Target:
    factory = pm.hook.iotops_deploy_target(name=name)
    if factory is None:
        raise DeployError(
            f"unknown deploy target {name!r}: built in are {', '.join(BUILTIN_TARGETS)}; others come from plugins "
            "implementing the iotops_deploy_target hook"
        )
    from .target import Target

    target = factory(commands, **kwargs)
    if not isinstance(target, Target):
        raise DeployError(f"deploy target {name!r} made a {type(target).__name__}, not a pytest_iotops Target")
    return target

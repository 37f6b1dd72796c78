"""The anchors' own rollout policy files read into a :class:`~.policy.Policy`: an AWS IoT Jobs job (camelCase as
``create-job`` takes it, PascalCase as CloudFormation and Greengrass write it) and a hawkBit rollout body.
Their key names are kept; an unknown or wrong key is an error naming the file and the key path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .policy import Policy, Rate, _criterion, _expect, _keys, _number

__all__ = ["load_policy", "policy_from_aws", "policy_from_hawkbit"]


# -- AWS IoT Jobs -----------------------------------------------------------------------------------------------
_AWS_JOB = {
    "jobId",
    "targets",
    "document",
    "documentSource",
    "description",
    "presignedUrlConfig",
    "targetSelection",
    "tags",
    "namespaceId",
    "jobTemplateArn",
    "documentParameters",
    "schedulingConfig",
    "destinationPackageVersions",
    "jobExecutionsRolloutConfig",
    "abortConfig",
    "timeoutConfig",
    "jobExecutionsRetryConfig",
}
_GREENGRASS = {
    "DeploymentName",
    "TargetArn",
    "ParentTargetArn",
    "Components",
    "DeploymentPolicies",
    "Tags",
    "IotJobConfiguration",
}


def _camel(doc: Any) -> Any:
    """CloudFormation's PascalCase keys as the API's camelCase ones (``MaximumPerMinute`` -> ``maximumPerMinute``)."""
    if isinstance(doc, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _camel(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_camel(v) for v in doc]
    return doc


def policy_from_aws(doc: Any, where: str, base: Policy | None = None) -> Policy:
    _expect(doc, dict, where)
    if "IotJobConfiguration" in doc or "iotJobConfiguration" in doc:
        _keys(doc, _GREENGRASS | {k[:1].lower() + k[1:] for k in _GREENGRASS}, where)
        doc = doc.get("IotJobConfiguration", doc.get("iotJobConfiguration"))
        where = f"{where}: IotJobConfiguration"
        _expect(doc, dict, where)
    doc = _camel(doc)
    _keys(doc, _AWS_JOB, where)
    kw: dict[str, Any] = {"source": where}
    rollout = doc.get("jobExecutionsRolloutConfig")
    if rollout is not None:
        kw["rate"], kw["waves"] = _aws_rate(_expect(rollout, dict, f"{where}.jobExecutionsRolloutConfig"), where), ()
    if "abortConfig" in doc:
        ab = _expect(doc["abortConfig"], dict, f"{where}.abortConfig")
        _keys(ab, {"criteriaList"}, f"{where}.abortConfig")
        items = _expect(ab.get("criteriaList", []), list, f"{where}.abortConfig.criteriaList")
        names = ("failureType", "minNumberOfExecutedThings", "thresholdPercentage")
        kw["abort"] = tuple(
            _criterion(c, f"{where}.abortConfig.criteriaList[{i}]", names, "action") for i, c in enumerate(items)
        )
    if "timeoutConfig" in doc:
        tc = _expect(doc["timeoutConfig"], dict, f"{where}.timeoutConfig")
        _keys(tc, {"inProgressTimeoutInMinutes"}, f"{where}.timeoutConfig")
        kw["in_progress_timeout"] = 60 * _number(tc, "inProgressTimeoutInMinutes", f"{where}.timeoutConfig", 1, 10080)
    if "jobExecutionsRetryConfig" in doc:
        kw["retries"] = _aws_retries(doc["jobExecutionsRetryConfig"], f"{where}.jobExecutionsRetryConfig")
    return replace(base or Policy(), **kw)


def _aws_rate(rollout: Mapping[str, Any], where: str) -> Rate:
    where = f"{where}.jobExecutionsRolloutConfig"
    _keys(rollout, {"maximumPerMinute", "exponentialRate"}, where)
    maximum = int(_number(rollout, "maximumPerMinute", where, 1, 1000, True)) if "maximumPerMinute" in rollout else 1000
    exp = rollout.get("exponentialRate")
    if exp is None:
        return Rate(maximum, 1.1, 10**9, "notified", maximum)  # a constant rate
    ewhere = f"{where}.exponentialRate"
    _expect(exp, dict, ewhere)
    _keys(exp, {"baseRatePerMinute", "incrementFactor", "rateIncreaseCriteria"}, ewhere)
    crit = _expect(exp.get("rateIncreaseCriteria"), dict, f"{ewhere}.rateIncreaseCriteria")
    _keys(crit, {"numberOfNotifiedThings", "numberOfSucceededThings"}, f"{ewhere}.rateIncreaseCriteria")
    if len(crit) != 1:
        raise ConfigError(
            f"{ewhere}.rateIncreaseCriteria: exactly one of numberOfNotifiedThings, numberOfSucceededThings"
        )
    ((key, _),) = crit.items()
    return Rate(
        int(_number(exp, "baseRatePerMinute", ewhere, 1, 1000, True)),
        _number(exp, "incrementFactor", ewhere, 1.1, 5),
        int(_number(crit, key, f"{ewhere}.rateIncreaseCriteria", 1, 1e9, True)),
        "notified" if key == "numberOfNotifiedThings" else "succeeded",
        maximum,
    )


def _aws_retries(doc: Any, where: str) -> dict[str, int]:
    _expect(doc, dict, where)
    _keys(doc, {"criteriaList"}, where)
    out = {}
    for i, c in enumerate(_expect(doc.get("criteriaList", []), list, f"{where}.criteriaList")):
        cw = f"{where}.criteriaList[{i}]"
        _expect(c, dict, cw)
        _keys(c, {"failureType", "numberOfRetries"}, cw)
        kind = c.get("failureType")
        if kind not in ("FAILED", "TIMED_OUT", "ALL"):
            raise ConfigError(f"{cw}.failureType: FAILED, TIMED_OUT or ALL, not {kind!r}")
        out[kind] = int(_number(c, "numberOfRetries", cw, 0, 10, True))
    return out


# -- hawkBit ----------------------------------------------------------------------------------------------------
_HAWKBIT = {
    "name",
    "description",
    "targetFilterQuery",
    "distributionSetId",
    "amountGroups",
    "successCondition",
    "successAction",
    "errorCondition",
    "errorAction",
    "groups",
    "type",
    "forcetime",
    "startAt",
    "weight",
    "confirmationRequired",
    "dynamic",
    "dynamicGroupTemplate",
}
_GROUP = {
    "name",
    "description",
    "targetFilterQuery",
    "targetPercentage",
    "successCondition",
    "successAction",
    "errorCondition",
    "errorAction",
    "confirmationRequired",
}


def _threshold(doc: Any, where: str) -> float:
    _expect(doc, dict, where)
    _keys(doc, {"condition", "expression"}, where)
    if doc.get("condition", "THRESHOLD") != "THRESHOLD":
        raise ConfigError(f"{where}.condition: only THRESHOLD exists, not {doc['condition']!r}")
    try:
        value = float(doc.get("expression"))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.expression: a percentage, not {doc.get('expression')!r}") from None
    if not 0 <= value <= 100:
        raise ConfigError(f"{where}.expression: {value} is outside [0, 100]")
    return value


def policy_from_hawkbit(doc: Any, where: str, base: Policy | None = None) -> Policy:
    _expect(doc, dict, where)
    _keys(doc, _HAWKBIT, where)
    kw: dict[str, Any] = {"source": where}
    if "successCondition" in doc:
        kw["wave_success_percentage"] = _threshold(doc["successCondition"], f"{where}.successCondition")
    if "errorCondition" in doc:
        kw["wave_error_percentage"] = _threshold(doc["errorCondition"], f"{where}.errorCondition")
    for key, allowed in (("successAction", {"NEXTGROUP"}), ("errorAction", {"PAUSE"})):
        if key in doc:
            action = _expect(doc[key], dict, f"{where}.{key}")
            _keys(action, {"action", "expression"}, f"{where}.{key}")
            if action.get("action") not in allowed:
                raise ConfigError(f"{where}.{key}.action: {', '.join(allowed)}, not {action.get('action')!r}")
    if "groups" in doc:
        groups = _expect(doc["groups"], list, f"{where}.groups")
        if not groups:
            raise ConfigError(f"{where}.groups: empty")
        remaining, cumulative, waves = 100.0, 0.0, []
        for i, g in enumerate(groups):
            gw = f"{where}.groups[{i}]"
            _expect(g, dict, gw)
            _keys(g, _GROUP, gw)
            share = _number(g, "targetPercentage", gw, 0.001, 100) if "targetPercentage" in g else 100.0
            # hawkBit: a group takes that percentage of the targets not in an earlier group
            cumulative += remaining * share / 100
            remaining = 100.0 - cumulative
            waves.append(round(cumulative, 6))
        waves[-1] = 100.0  # hawkBit puts every remaining target into the last group
        kw["waves"] = tuple(dict.fromkeys(waves))
    elif "amountGroups" in doc:
        n = int(_number(doc, "amountGroups", where, 1, 500, True))
        kw["waves"] = tuple(round(100 * (i + 1) / n, 6) for i in range(n))
    return replace(base or Policy(), **kw)


def load_policy(path: Path, base: Policy | None = None) -> Policy:
    """A policy file: an AWS IoT Jobs job (or a Greengrass deployment) or a hawkBit rollout body, told apart by
    their keys."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{path}: not a readable JSON policy ({exc})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a policy is a JSON object")
    if {"amountGroups", "groups", "distributionSetId", "successCondition"} & set(doc):
        return policy_from_hawkbit(doc, str(path), base)
    return policy_from_aws(doc, str(path), base)

"""The fleet's MQTT topics and messages (JSON). Every message is checked on arrival: a malformed one is counted
and named in the result, never a crash of the controller or a device host.

Topics under ``iotops/<run>/``: ``d/<device>/cmd`` (controller → device: a job, a cancel, a status request),
``d/<device>/rep`` (device → controller: its report, with a sequence number and its state), ``clock``
(controller → hosts: the virtual time) and ``h/<host>/ack`` (host → controller: done up to that time).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["COMMANDS", "STATUSES", "Topics", "decode", "parse_ack", "parse_command", "parse_report", "parse_tick"]

STATUSES = ("in_progress", "succeeded", "failed", "rejected", "canceled", "status")
COMMANDS = ("update", "rollback", "cancel", "status")


class Topics:
    def __init__(self, run: str) -> None:
        self.prefix = f"iotops/{run}"
        self.clock = f"{self.prefix}/clock"
        self.reports = f"{self.prefix}/d/+/rep"
        self.acks = f"{self.prefix}/h/+/ack"

    def command(self, device: str) -> str:
        return f"{self.prefix}/d/{device}/cmd"

    def report(self, device: str) -> str:
        return f"{self.prefix}/d/{device}/rep"

    def ack(self, host: int) -> str:
        return f"{self.prefix}/h/{host}/ack"


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), sort_keys=True).encode("utf-8")


def decode(payload: bytes) -> dict[str, Any] | str:
    """The message, or why it is not one."""
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return f"not JSON ({type(exc).__name__})"
    return doc if isinstance(doc, dict) else f"a JSON {type(doc).__name__}, not an object"


def _fields(doc: dict[str, Any], spec: dict[str, type | tuple[type, ...]]) -> str:
    for key, kind in spec.items():
        value = doc.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float, (int, float))):
            return f"{key!r} is {type(value).__name__}, expected {getattr(kind, '__name__', kind)}"
    return ""


def parse_report(payload: bytes) -> dict[str, Any] | str:
    doc = decode(payload)
    if isinstance(doc, str):
        return doc
    problem = _fields(doc, {"device": str, "seq": int, "status": str, "job": str, "running": str, "boot_id": int})
    if problem:
        return problem
    if doc["status"] not in STATUSES:
        return f"unknown status {doc['status']!r}"
    return doc


def parse_command(payload: bytes) -> dict[str, Any] | str:
    doc = decode(payload)
    if isinstance(doc, str):
        return doc
    if doc.get("kind") not in COMMANDS:
        return f"unknown command {doc.get('kind')!r}"
    if doc["kind"] in ("update", "rollback"):
        problem = _fields(doc, {"job": str, "version": str, "attempt": int})
        if problem:
            return problem
    return doc


def parse_tick(payload: bytes) -> dict[str, Any] | str:
    """The clock: ``tick`` (a number), ``t`` (seconds of the rollout's clock), ``sent`` (commands per host)."""
    doc = decode(payload)
    if isinstance(doc, str):
        return doc
    problem = _fields(doc, {"tick": int, "t": (int, float), "sent": dict})
    if problem:
        return problem
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in doc["sent"].values()):
        return "'sent' holds a count that is not an integer"
    return doc


def parse_ack(payload: bytes) -> dict[str, Any] | str:
    doc = decode(payload)
    if isinstance(doc, str):
        return doc
    problem = _fields(doc, {"host": int, "tick": int, "reports": int, "received": int})
    if problem:
        return problem
    nxt = doc.get("next")
    if nxt is not None and (isinstance(nxt, bool) or not isinstance(nxt, (int, float))):
        return "'next' is not a number"
    return doc

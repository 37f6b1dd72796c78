"""A thermostat firmware "build": an image with a manifest (version, board support, control loop constants),
turned into the artifact the fleet downloads — real bytes, their sha256 and an HMAC signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

from pytest_iotops.fleet import Firmware

__all__ = ["BOARDS", "Build", "artifact"]

BOARDS = ("A", "B", "C")
#: the release key of this example (a real project keeps it in its CI secrets)
KEY = b"thermofw example release key"


@dataclass(frozen=True)
class Build:
    version: str
    boards: tuple[str, ...] = BOARDS  # the boards the image has drivers for
    setpoint_c: float = 21.0
    hysteresis_c: float = 0.5
    padding: int = 16 * 1024  # the code, as far as the example cares
    options: dict[str, float] = field(default_factory=dict)

    def manifest(self) -> dict[str, object]:
        return {"version": self.version, "boards": list(self.boards), "setpoint_c": self.setpoint_c,
                "hysteresis_c": self.hysteresis_c}

    def image(self) -> bytes:
        header = json.dumps(self.manifest(), sort_keys=True).encode()
        body = hashlib.shake_256(header).digest(self.padding)
        return len(header).to_bytes(4, "big") + header + body


def artifact(build: Build, *, corrupt: bool = False, **faults: float) -> Firmware:
    """The artifact devices download: a board the image lacks drivers for boot-loops on it; ``corrupt`` flips one
    byte of what is served (a broken mirror); ``faults`` are rates the simulator draws per device."""
    data = bytearray(build.image())
    digest = hashlib.sha256(data).hexdigest()
    if corrupt:
        data[len(data) // 2] ^= 0xFF
    return Firmware(
        version=build.version,
        data=bytes(data),
        digest=digest,
        signature=hmac.new(KEY, digest.encode(), hashlib.sha256).hexdigest(),
        boot_loop_on=frozenset(set(BOARDS) - set(build.boards)),
        install_failure_rate=faults.get("install_failure_rate", 0.0),
        health_failure_rate=faults.get("health_failure_rate", 0.0),
        silent_rate=faults.get("silent_rate", 0.0),
    )

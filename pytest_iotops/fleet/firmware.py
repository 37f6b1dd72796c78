"""A firmware build as devices see it: real bytes, their sha256 digest and an optional HMAC-SHA256 signature.

The bytes are generated from the version and a seed, so a test needs no build system; a *corrupt* build serves
bytes that do not match the digest it announces (what a bad mirror or a broken upload does), and a device must
notice before it writes a single byte to its slot.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import field

from ..values import FrozenValue, record

__all__ = ["Firmware", "build_firmware"]


@record(frozen=True)
class Firmware(FrozenValue):
    """``boot_loop_on``: hardware classes on which this build never boots (a driver missing for that board);
    ``install_failure_rate``: share of devices whose slot write fails (flash too small, a bad block);
    ``silent_rate``: share of devices whose network stack dies once they run the job (they never report)."""

    version: str
    data: bytes = field(repr=False)
    digest: str
    signature: str = ""
    boot_loop_on: frozenset[str] = frozenset()
    install_failure_rate: float = 0.0
    health_failure_rate: float = 0.0
    silent_rate: float = 0.0

    @property
    def size(self) -> int:
        return len(self.data)

    def verify(self, data: bytes, key: bytes | None = None) -> str:
        """Why ``data`` is not this build ("" when it is): a truncated download, a digest mismatch, a bad
        signature. What a device runs before it installs."""
        if len(data) != self.size:
            return f"truncated: {len(data)} of {self.size} bytes"
        if hashlib.sha256(data).hexdigest() != self.digest:
            return "sha256 mismatch"
        if key is not None and not hmac.compare_digest(sign(self.digest, key), self.signature):
            return "bad signature"
        return ""


def sign(digest: str, key: bytes) -> str:
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def build_firmware(
    version: str,
    size: int = 64 * 1024,
    *,
    seed: int = 0,
    key: bytes | None = None,
    corrupt: bool = False,
    boot_loop_on: frozenset[str] | set[str] = frozenset(),
    install_failure_rate: float = 0.0,
    health_failure_rate: float = 0.0,
    silent_rate: float = 0.0,
) -> Firmware:
    """A build of ``size`` bytes. ``corrupt``: the digest (and signature) are those of the intended bytes, but
    one byte in the middle is flipped in what is served."""
    if size <= 0:
        raise ValueError("firmware size must be positive")
    for name, rate in (
        ("install_failure_rate", install_failure_rate),
        ("health_failure_rate", health_failure_rate),
        ("silent_rate", silent_rate),
    ):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {rate}")
    data = bytearray(random.Random(f"firmware:{version}:{seed}").randbytes(size))
    digest = hashlib.sha256(data).hexdigest()
    if corrupt:
        data[size // 2] ^= 0xFF
    return Firmware(
        version=version,
        data=bytes(data),
        digest=digest,
        signature=sign(digest, key) if key is not None else "",
        boot_loop_on=frozenset(boot_loop_on),
        install_failure_rate=install_failure_rate,
        health_failure_rate=health_failure_rate,
        silent_rate=silent_rate,
    )

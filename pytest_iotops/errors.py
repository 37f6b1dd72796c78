"""Error types: every message names the file, key, test or value at fault and says what was expected."""

from __future__ import annotations

__all__ = ["ConfigError", "DeployError", "EvidenceError", "IotopsError"]


class IotopsError(Exception):
    """Base class: an error the user can fix, shown without a traceback."""


class ConfigError(IotopsError):
    """Configuration or usage is wrong (becomes a pytest usage error, exit code 4)."""


class EvidenceError(IotopsError):
    """Evidence (coverage data, a tool report) is missing or unreadable: its gate ends ``error``."""


class DeployError(IotopsError):
    """A deployment could not be carried out or cleaned up."""

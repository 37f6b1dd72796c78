"""Error types: every message names the file, key, test or value at fault and says what was expected."""

from __future__ import annotations

__all__ = ["ConfigError", "DeployError", "EvidenceError", "FleetError", "IotopsError", "ReportFormatError"]


class IotopsError(Exception):
    """Base class: an error the user can fix, shown without a traceback."""


class ConfigError(IotopsError):
    """Configuration or usage is wrong (becomes a pytest usage error, exit code 4)."""


class EvidenceError(IotopsError):
    """Evidence (coverage data, a tool report) is missing or unreadable: its gate ends ``error``.

    ``reason`` classifies why, for the run report (``evidence[].reason``): ``saw-nothing`` (the data says the
    tool examined nothing), ``contradiction`` (the data disagrees with itself), ``truncated`` (cut short),
    ``unsafe`` (refused by the hardened reader), ``command`` (the evidence command failed or timed out) and
    ``unreadable`` (missing, malformed, the wrong format).
    """

    def __init__(self, message: str, reason: str = "unreadable") -> None:
        super().__init__(message)
        self.reason = reason


class DeployError(IotopsError):
    """A deployment could not be carried out or cleaned up."""


class FleetError(IotopsError):
    """A fleet rollout could not be carried out: the broker, a device host or the controller failed."""


class ReportFormatError(IotopsError):
    """A run report file does not match the schema this version reads."""

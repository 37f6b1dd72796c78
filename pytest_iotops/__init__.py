"""pytest-iotops: ``pytest --iotops`` turns a test run into a gated delivery pipeline."""

from __future__ import annotations

__version__ = "0.1.0"

from .hookspecs import hookimpl

__all__ = ["__version__", "hookimpl"]

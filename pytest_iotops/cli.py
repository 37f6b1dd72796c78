"""The ``iotops`` command. For now it only reports its version; gate/report/merge/explain come later."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="iotops",
        description="pytest-iotops command line. Run the pipeline with `pytest --iotops`.",
    )
    parser.add_argument("--version", action="version", version=f"iotops {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

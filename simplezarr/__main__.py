"""Command line: ``python -m simplezarr info SOURCE`` (also installed as ``simplezarr``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_USAGE = """usage: simplezarr COMMAND ...

commands:
  info SOURCE   print every multiscale image in SOURCE (directory, .zip, OME-TIFF, http(s)://
                or s3:// URL): paths, levels, shapes, chunk shapes, scales, offsets, units
                and channels
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "info":
        from simplezarr._info import main_info

        return main_info(rest)
    print(f"simplezarr: unknown command {command!r}\n\n{_USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

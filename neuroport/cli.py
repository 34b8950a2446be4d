"""The ``neuroport`` command line.

Subcommands live in :mod:`neuroport.commands`, one module each with
``register(subparsers)``; a module whose optional dependencies are missing is
left out of the help with no error.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from neuroport import __version__
from neuroport.errors import NeuroportError

COMMANDS = ("info", "run", "demo", "quantize", "map", "check", "train", "evaluate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuroport",
        description=(
            "Define a spiking network once (NIR) and run it on numpy, Lava (Loihi 2, float and "
            "bit-accurate fixed point) and Brian2. Time is in seconds: --dt 1e-3 is one millisecond."
        ),
        epilog="Run 'neuroport COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"neuroport {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"neuroport.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"neuroport.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except NeuroportError as exc:
        print(f"neuroport {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``neuroport`` command line.

Subcommands live in :mod:`neuroport.commands`, one module each with
``register(subparsers)``; a module whose optional dependencies are missing is
left out of the help with no error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from neuroport import __version__
from neuroport.errors import NeuroportError, UnknownBackendError, UsageError

COMMANDS = ("info", "run", "demo", "quantize", "map", "check", "compare", "train", "evaluate", "sweep", "animate", "plot",
            "evolve")


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
    """Run one command; every failure is one line on stderr.

    Exit status: 0 success, 1 a failure (a refused file, a failed check, an
    unwritable output), 2 a usage error (an invalid argument; argparse's
    own errors too), 130 interrupted. ``NEUROPORT_DEBUG=1`` re-raises
    unexpected exceptions with their traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    prefix = f"neuroport {args.command}: error:"
    try:
        return int(args.func(args) or 0)
    except (UsageError, UnknownBackendError) as exc:  # --backend is a plugin name, checked after parsing
        print(f"{prefix} {exc}", file=sys.stderr)
        return 2
    except NeuroportError as exc:
        print(f"{prefix} {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `neuroport info x.nir | head`: the reader left; stay silent
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return 1
    except OSError as exc:
        where = f" {exc.filename}:" if getattr(exc, "filename", None) else ""
        print(f"{prefix}{where} {exc.strerror or exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{prefix} out of memory; use smaller --steps or a smaller network "
              "(neuroport.io.set_limits bounds what a file may declare)", file=sys.stderr)
        return 1
    except Exception as exc:  # a defect of neuroport: still one line, the traceback on request
        if os.environ.get("NEUROPORT_DEBUG"):
            raise
        print(f"{prefix} internal error {type(exc).__name__}: {exc} (set NEUROPORT_DEBUG=1 for the traceback; "
              "please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

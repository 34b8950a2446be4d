"""``neuroport map FILE.nir``: place a network on Loihi 2 cores and check every design rule."""

from __future__ import annotations

import sys

import neuroport
from neuroport.commands.quantize import read_graph
from neuroport.hardware import LOIHI2
from neuroport.mapping import map_program
from neuroport.commands.common import int_range, positive_float


def register(sub) -> None:
    p = sub.add_parser(
        "map", help="check that a .nir network fits Loihi 2 (cores, synapses, fan-in, delays)",
        description="Compile a NIR graph and place it on Loihi 2 neuro cores (neuroport.mapping). Prints "
                    "the populations per core; exits with 1 and the needed vs available numbers when the "
                    "network does not fit.",
        epilog="example: neuroport map net.nir --dt 1e-3 --chips 8",
    )
    p.add_argument("file", help="a .nir file")
    p.add_argument("--dt", type=positive_float, default=None, help="time step in seconds (e.g. 1e-3)")
    p.add_argument("--profile", default=None, help="conventions of the exporting tool (snntorch, norse, ...)")
    p.add_argument("--chips", type=int_range(1, 10 ** 4), default=1, help="number of Loihi 2 chips available (default 1)")
    p.set_defaults(func=run)


def run(args) -> int:
    graph = read_graph(args.file)
    program = neuroport.compile(graph, dt=args.dt, timing="hardware", profile=args.profile)
    report = map_program(program, LOIHI2.with_chips(args.chips), raise_on_error=False)
    print(report.to_table())
    if not report.fits:
        print(f"neuroport map: error: the network does not fit {args.chips} chip(s):\n  "
              + "\n  ".join(report.errors), file=sys.stderr)
        return 1
    return 0

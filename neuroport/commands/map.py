"""``neuroport map FILE.nir``: place a network on Loihi 2 cores and check every design rule; with ``--chips N``
or ``--system NAME``, also assign its cores to chips (:func:`neuroport.multichip.map_chips`) and print the
per-chip table and the inter-chip spike traffic."""

from __future__ import annotations

import sys

import neuroport
from neuroport.commands.quantize import read_graph
from neuroport.errors import InputError, ResourceError, UsageError
from neuroport.hardware import LOIHI2, SYSTEMS
from neuroport.mapping import map_program
from neuroport.multichip import DEFAULT_RATE_HZ, OBJECTIVES, map_chips
from neuroport.commands.common import int_range, nonneg_float, positive_float


def register(sub) -> None:
    p = sub.add_parser(
        "map", help="check that a .nir network fits Loihi 2 (cores, synapses, fan-in, delays)",
        description="Compile a NIR graph and place it on Loihi 2 neuro cores (neuroport.mapping). Prints "
                    "the populations per core; exits with 1 and the needed vs available numbers when the "
                    "network does not fit.",
        epilog="examples: neuroport map net.nir --dt 1e-3 --chips 8\n"
               "          neuroport map net.nir --dt 1e-3 --system kapoho-point --rates result.npz --balance",
    )
    p.add_argument("file", help="a .nir file")
    p.add_argument("--dt", type=positive_float, default=None, help="time step in seconds (e.g. 1e-3)")
    p.add_argument("--profile", default=None, help="conventions of the exporting tool (snntorch, norse, ...)")
    p.add_argument("--chips", type=int_range(1, 10 ** 4), default=None,
                   help="number of Loihi 2 chips available (default 1, or the --system's); given, the cores are "
                        "assigned to chips and the per-chip table and inter-chip traffic are printed")
    p.add_argument("--system", choices=sorted(SYSTEMS), default=None,
                   help="a named target: kapoho-point (8 chips), hala-point (1,152 chips), loihi2 (1 chip)")
    p.add_argument("--rate", type=nonneg_float, default=None,
                   help=f"firing rate in Hz assumed for every neuron in the traffic estimate (default {DEFAULT_RATE_HZ:g})")
    p.add_argument("--rates", default=None, metavar="RESULT.npz",
                   help="measured rates: a result written by `neuroport run --out`")
    p.add_argument("--balance", action="store_true",
                   help="spread the cores evenly over all chips (default: as few chips as fit)")
    p.add_argument("--objective", choices=OBJECTIVES, default="synapses",
                   help="what the chip assignment minimises: synapses cut between chips (default) or spike messages")
    p.set_defaults(func=run)


def _rates(args):
    if args.rates is not None and args.rate is not None:
        raise UsageError("--rate and --rates: give one (an assumed rate in Hz, or a measured result)")
    if args.rates is not None:
        import zipfile

        from neuroport.result import Result

        try:
            return Result.load_npz(args.rates)
        except FileNotFoundError:
            raise InputError(f"--rates {args.rates}: no such file (a result written by `neuroport run --out`)") from None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise InputError(f"--rates {args.rates}: not a result .npz written by `neuroport run --out` "
                             f"({type(exc).__name__}: {exc})") from None
    return args.rate


def run(args) -> int:
    spec = SYSTEMS[args.system] if args.system else LOIHI2
    if args.chips is not None:
        spec = spec.with_chips(args.chips)
    rates = _rates(args)
    graph = read_graph(args.file)
    program = neuroport.compile(graph, dt=args.dt, timing="hardware", profile=args.profile)
    report = map_program(program, spec, raise_on_error=False)
    print(report.to_table())
    status = 0
    if not report.fits:
        print(f"neuroport map: error: the network does not fit {spec.chips} chip(s):\n  "
              + "\n  ".join(report.errors), file=sys.stderr)
        status = 1
    if args.chips is None and args.system is None:
        return status
    try:
        chip_map = map_chips(program, spec, rates=rates, objective=args.objective, balance=args.balance)
    except ResourceError as exc:
        print(f"neuroport map: error: {exc}", file=sys.stderr)
        return 1
    print()
    print(chip_map.to_table())
    return status

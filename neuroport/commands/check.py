"""``neuroport check FILE.nir``: run a network on several backends and judge them against a reference."""

from __future__ import annotations

import argparse
import os
import sys

from neuroport.check import check
from neuroport.io import read
from neuroport.commands.common import (SEED, add_progress, add_run_length, backend_list, check_output_path,
                                       dt_notice, effective_dt, nonneg_float, positive_float,
                                       run_steps)
from neuroport.fileutil import write_json


def register(sub) -> None:
    p = sub.add_parser(
        "check", help="run a .nir network on several backends and check their equivalence",
        description="Run the network with one seeded Poisson input on each backend, compare every backend "
                    "with the reference (numpy by default) and print the equivalence criteria of neuroport.compare "
                    "(bounds: THRESHOLDS in neuroport/compare.py) with PASS/FAIL per row. Exit status 1 when a criterion fails.",
        epilog="example: neuroport check net.nir --dt 1e-3 --steps 2000 --backends numpy,brian2 --plot overlay.png",
    )
    p.add_argument("file", help="a .nir file")
    p.add_argument("--dt", type=positive_float, default=None, help="time step in seconds (e.g. 1e-3)")
    add_run_length(p, default_steps=1000)
    p.add_argument("--backends", default=None,
                   help="comma-separated modes, e.g. numpy,brian2,lava (default: every available one)")
    p.add_argument("--reference", default=None, help="mode to compare against (default numpy)")
    p.add_argument("--rate", type=nonneg_float, default=20.0, help="Poisson input rate in Hz (default 20)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the input (default 0)")
    p.add_argument("--timing", choices=("hardware", "ideal"), default="hardware",
                   help="hardware: every projection takes >= 1 step (default); ideal: feed-forward is instantaneous")
    p.add_argument("--scheme", choices=("euler", "exact"), default=None, help="discretisation (default euler)")
    p.add_argument("--reset", choices=("zero", "subtract"), default=None, help="reset kind (default zero)")
    p.add_argument("--profile", default=None, help="conventions of the exporting tool (snntorch, norse, ...)")
    p.add_argument("--plot", default=None, metavar="PNG", help="write a spike raster overlay (reference vs other)")
    p.add_argument("--json", default=None, metavar="OUT", help="write the report as JSON")
    add_progress(p, default=True)
    p.add_argument("--quiet", dest="progress", action="store_false", help=argparse.SUPPRESS)  # = --no-progress
    p.set_defaults(func=run)


def read_graph(path):
    """The graph in the ``.nir`` file ``path`` (:func:`neuroport.io.read`)."""
    return read(path)


def run(args) -> int:
    names = backend_list(args.backends)
    check_output_path(args.json, "--json")
    check_output_path(args.plot, "--plot")
    graph = read_graph(args.file)
    dt_notice(graph, args, args.file)
    steps = run_steps(args, effective_dt(graph, args)) if args.duration is not None else (args.steps or args.default_steps)
    report = check(graph, dt=args.dt, steps=steps, backends=names, input_rate_hz=args.rate, seed=args.seed,
                   timing=args.timing, scheme=args.scheme, reset=args.reset, profile=args.profile,
                   reference=args.reference, progress=args.progress)
    print(report)
    if args.plot:
        _plot(report, args.plot)
    if args.json:
        write_json(args.json, report.to_dict())
        print(f"wrote {args.json}")
    if not report.passed:
        print(f"neuroport check: FAILED: {', '.join(report.failing_pairs)}", file=sys.stderr)
        return 1
    return 0


def _plot(report, path) -> None:
    try:  # matplotlib is heavy: imported only when a plot is asked for
        from neuroport.plot import raster
    except ImportError:
        print("plot skipped: neuroport.plot is not available", file=sys.stderr)
        return
    ref = report.results.get(report.reference)
    others = [n for n in report.results if n != report.reference]
    if ref is None or not others:
        print("plot skipped: needs the reference and at least one other backend that ran", file=sys.stderr)
        return
    stem, ext = os.path.splitext(path)
    for name in others:
        out = path if len(others) == 1 else f"{stem}-{name}{ext or '.png'}"
        raster(ref, overlay=report.results[name], path=out, title=f"{report.reference} vs {name}")
        print(f"wrote {out}")

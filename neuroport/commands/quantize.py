"""``neuroport quantize FILE.nir``: quantize for Loihi 2 and print the report and the float-vs-fixed fidelity."""

from __future__ import annotations

import warnings

import neuroport
from neuroport import encoders
from neuroport.io import read
from neuroport.quantize import fidelity, quantize
from neuroport.commands.common import (SEED, add_run_length, check_output_path, dt_notice, nonneg_float,
                                       positive_float, run_steps)
from neuroport.fileutil import write_json


def register(sub) -> None:
    p = sub.add_parser(
        "quantize", help="quantize a .nir network to Loihi 2 integers and report the error",
        description="Compile a NIR graph (timing=hardware), map every parameter to Loihi 2's fixed-point "
                    "integers (neuroport.quantize), print the quantization report, then run float and "
                    "fixed point side by side on Poisson input and print the spike-match table.",
        epilog="example: neuroport quantize net.nir --dt 1e-3 --report --json report.json",
    )
    p.add_argument("file", help="a .nir file")
    p.add_argument("--dt", type=positive_float, default=None, help="time step in seconds (e.g. 1e-3)")
    p.add_argument("--timing", choices=("hardware",), default="hardware",
                   help="fixed point runs hardware timing only (every layer adds one step)")
    p.add_argument("--profile", default=None, help="conventions of the exporting tool (snntorch, norse, ...)")
    p.add_argument("--report", action="store_true", help="print the full per-parameter table (default: summary)")
    p.add_argument("--strict", action="store_true", help="fail on any clipped or unrepresentable value")
    p.add_argument("--json", default=None, metavar="OUT", help="write the report (and fidelity) as JSON")
    add_run_length(p, default_steps=1000, what="the fidelity run", allow_zero=True)
    p.add_argument("--rate", type=nonneg_float, default=20.0, help="Poisson input rate in Hz for the fidelity run")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the fidelity input")
    p.set_defaults(func=run)


def read_graph(path):
    """The graph in the ``.nir`` file ``path`` (:func:`neuroport.io.read`)."""
    return read(path)


def run(args) -> int:
    check_output_path(args.json, "--json")
    graph = read_graph(args.file)
    dt_notice(graph, args, args.file)
    program = neuroport.compile(graph, dt=args.dt, timing=args.timing, profile=args.profile)
    steps = run_steps(args, program.dt)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        fixed, report = quantize(program, strict=args.strict)
    if args.report:
        print(report.to_table())
    else:
        print(f"quantized for {report.hardware}: {len(report.entries)} parameters, {report.clipped} clipped, "
              f"max relative error {report.max_rel_error():.3g} (--report for the table)")
        for msg in report.losses:
            print(f"  loss: {msg}")
    out = {"quantization": report.to_dict()}
    if steps > 0:
        inputs = {n: encoders.poisson([args.rate] * program.populations[n].size, steps=steps,
                                      dt=program.dt, seed=args.seed + i)
                  for i, n in enumerate(program.inputs)}
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            fid = fidelity(program, steps, inputs, fixed_program=fixed)
        print()
        print(fid.to_table())
        out["fidelity"] = fid.to_dict()
    if args.json:
        write_json(args.json, out)
        print(f"wrote {args.json}")
    return 0

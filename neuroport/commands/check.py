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
from neuroport.commands.compare import REFERENCE_FORMAT
from neuroport.errors import UsageError
from neuroport.fileutil import write_json
from neuroport.semantics import RESETS


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
    p.add_argument("--reference", default=None, metavar="MODE_OR_FILE",
                   help="mode to compare against (default numpy), or FILE.npz: your own recorded spikes "
                        "(e.g. a saved snnTorch run), which every backend (default numpy) must reproduce "
                        "from --input FILE; see 'reference file' below")
    ref = p.add_argument_group(
        "reference file (--reference FILE.npz)",
        "The run uses --input FILE (the input the reference was recorded with) for as many steps as the "
        "reference holds (--steps and --rate do not apply); --timing defaults to the profile's (snntorch: "
        "ideal). Rows judge each layer (the reference as a float run); exit status 1 names the failing "
        "layers. " + REFERENCE_FORMAT)
    ref.add_argument("--input", default=None, metavar="FILE",
                     help="FILE.npz: one (steps, n) array per input node, or a single array for one input")
    ref.add_argument("--layer-map", default=None, metavar="NAME=LAYER[,...]",
                     help="reference array names -> layer names, e.g. spk1=lif1,spk2=lif2")
    ref.add_argument("--reference-latency", default=None, metavar="LAYER=STEPS[,...]",
                     help="steps by which the reference's layers lag an ideal-timing run (e.g. Spyx: 1 per layer)")
    p.add_argument("--rate", type=nonneg_float, default=20.0, help="Poisson input rate in Hz (default 20)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the input (default 0)")
    p.add_argument("--timing", choices=("hardware", "ideal"), default=None,
                   help="hardware: every projection takes >= 1 step (default, unless the file records a timing "
                        "or --profile states one); ideal: feed-forward is instantaneous")
    p.add_argument("--scheme", choices=("euler", "exact"), default=None, help="discretisation (default euler)")
    p.add_argument("--reset", choices=RESETS, default=None,
                   help="reset kind (default zero); the deferred variants of neuroport.semantics (snnTorch's "
                        "reset_delay=False: subtract_no_delay); with --profile, the exporter's mechanism")
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
    if is_reference_file(args.reference):
        return run_reference(args, graph, names)
    if args.input is not None:
        raise UsageError("--input applies with --reference FILE.npz (your own recorded spikes); "
                         "without one, check feeds a seeded Poisson input (--rate, --seed)")
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


def is_reference_file(value) -> bool:
    """True when ``--reference`` names a file (``.npz`` or an existing path), not a backend mode."""
    return bool(value) and (value.endswith(".npz") or os.path.sep in value or os.path.isfile(value))


def run_reference(args, graph, names) -> int:
    """``check --reference FILE.npz``: every backend's run judged against the user's recorded spikes."""
    from neuroport.commands.common import parse_input_spec
    from neuroport.compile import compile as compile_graph
    from neuroport.reference import check_reference, failing_layers, parse_mapping, plot_overlay

    if args.input is None:
        raise UsageError("--reference FILE needs --input FILE.npz: the input the reference was recorded with")
    if not args.input.endswith(".npz"):
        raise UsageError(f"--input {args.input!r}: with --reference FILE, give the recorded input as FILE.npz")
    rename = parse_mapping(args.layer_map, "--layer-map")
    latency = parse_mapping(args.reference_latency, "--reference-latency", integer=True)
    options = dict(dt=args.dt, scheme=args.scheme, reset=args.reset, timing=args.timing, profile=args.profile)
    base = compile_graph(graph, **options)
    inputs = parse_input_spec(args.input, base, 0, args.seed)
    report = check_reference(graph, args.reference, inputs=inputs, backends=names or ["numpy"], rename=rename,
                             latency=latency, progress=args.progress, seed=args.seed, **options)
    print(report)
    ref = report.results.get("reference")
    if args.plot and ref is not None:
        others = [n for n in report.results if n != "reference"]
        stem, ext = os.path.splitext(args.plot)
        for name in others:
            out = args.plot if len(others) == 1 else f"{stem}-{name}{ext or '.png'}"
            plot_overlay(ref, report.results[name], out, title=f"{args.reference} vs {name}")
            print(f"wrote {out}")
    if args.json:
        write_json(args.json, report.to_dict())
        print(f"wrote {args.json}")
    failed = failing_layers(report.rows)
    if failed:
        print(f"neuroport check: FAILED: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0

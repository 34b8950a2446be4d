"""``neuroport plot RESULT.npz --kind raster|rate|psth|isi|ratemap|trace``: the usual pictures of a saved run."""

from __future__ import annotations

import argparse
import os

from neuroport.commands.common import check_output_path, float_above, int_range, load_result
from neuroport.errors import UsageError
from neuroport.naming import did_you_mean, parse_probe

#: the kinds of picture (neuroport.plot.KINDS describes each; kept here so --help imports no matplotlib)
KINDS = ("raster", "rate", "psth", "isi", "ratemap", "trace")


def _shape(text: str):
    """``--shape 28x28`` or ``8x14x14`` (or commas) -> a tuple of ints."""
    parts = text.replace(",", "x").lower().split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if len(dims) not in (2, 3) or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH or CHANNELSxHEIGHTxWIDTH, e.g. 28x28; got {text!r}")
    return dims


def _int_list(text: str):
    try:
        values = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated neuron indices >= 0, e.g. 0,1,5; got {text!r}")
    return values


def register(sub) -> None:
    p = sub.add_parser(
        "plot", help="draw a saved run: raster, population rate, PSTH, ISI histogram, rate map or traces",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Draw RESULT.npz (written by 'neuroport run NETWORK.nir ... --out RESULT.npz') as a PNG (or\n"
            ".svg, .pdf). --kind chooses the picture:\n"
            "  raster   spike raster, populations stacked in bands\n"
            "  rate     population rate (Hz) against time, one line per population (--bin-ms, --smooth-ms)\n"
            "  psth     rate (Hz) per time bin as bars, one panel per population (--bin-ms)\n"
            "  isi      inter-spike-interval histogram per population, each population's CV in the legend\n"
            "           (--bins, --log-x)\n"
            "  ratemap  rate (Hz) of each neuron of one --population: bars, or an image with --shape\n"
            "  trace    probed state of a few --neurons of one --probe (the run needs --probe POP.VAR),\n"
            "           a marker at each spike, a dashed line at --threshold (or NETWORK.nir's v_threshold\n"
            "           with --network)\n"
            "Time axes are in ms for runs under 2 s, in s under 10 minutes, in min beyond."),
        epilog=("examples:\n"
                "  neuroport run net.nir --dt 1e-3 --duration 1s --input poisson:rate=20 --probe exc.v --out run.npz\n"
                "  neuroport plot run.npz --kind rate --bin-ms 10 --smooth-ms 20 --out rate.png\n"
                "  neuroport plot run.npz --kind isi --population exc --log-x\n"
                "  neuroport plot run.npz --kind ratemap --population exc --shape 8x10\n"
                "  neuroport plot run.npz --kind trace --probe exc.v --neurons 0,3 --threshold 1.0"),
    )
    p.add_argument("result", metavar="RESULT.npz", help="the .npz file 'neuroport run --out' wrote")
    p.add_argument("--kind", default="raster", metavar="KIND",
                   help=f"what to draw: {', '.join(KINDS)} (default raster; see above)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="image to write (.png, .svg, .pdf); default RESULT_KIND.png next to RESULT.npz")
    p.add_argument("--population", default=None, metavar="NAME[,NAME...]",
                   help="populations to draw (default all; ratemap: exactly one)")
    p.add_argument("--bin-ms", type=float_above(0.0, inclusive=False), default=5.0,
                   help="rate / psth: bin width in ms (rounded to whole steps; default 5)")
    p.add_argument("--smooth-ms", type=float_above(0.0, inclusive=True), default=0.0,
                   help="rate: standard deviation in ms of a Gaussian smoothing kernel (default 0: none)")
    p.add_argument("--bins", type=int_range(1, 10_000), default=40, help="isi: number of bins (default 40)")
    p.add_argument("--log-x", action="store_true", help="isi: logarithmic ISI axis and bins")
    p.add_argument("--shape", type=_shape, default=None, metavar="HxW",
                   help="ratemap: draw the rates as an image of this shape (28x28, or 8x14x14 for 8 conv maps)")
    p.add_argument("--probe", default=None, metavar="POP.VAR",
                   help="trace: the probed state to draw (default the first one the run recorded)")
    p.add_argument("--neurons", type=_int_list, default=None, metavar="I[,I...]",
                   help="trace: neuron indices (default the first 5)")
    p.add_argument("--threshold", type=float, default=None,
                   help="trace: draw the firing threshold at this value (the trace's units) and the spike markers on it")
    p.add_argument("--network", default=None, metavar="NETWORK.nir",
                   help="trace: the .nir file that was run; its v_threshold gives the threshold line (float runs)")
    p.add_argument("--unit", default=None, help="trace: unit of the probed state for the y label (e.g. mV)")
    p.add_argument("--title", default=None, help="figure title (default: what is drawn)")
    p.set_defaults(func=run)


def _kind(text: str) -> str:
    kind = text.strip().lower()
    if kind not in KINDS:
        raise UsageError(f"--kind {text!r}: unknown kind{did_you_mean(kind, KINDS)}; expected one of "
                         f"{', '.join(KINDS)}")
    return kind


def run(args) -> int:
    kind = _kind(args.kind)
    out = args.out or f"{os.path.splitext(args.result)[0]}_{kind}.png"
    check_output_path(out, "--out")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    ext = os.path.splitext(out)[1].lower().lstrip(".") or "png"
    formats = FigureCanvasAgg.get_supported_filetypes()
    if ext not in formats:
        raise UsageError(f"--out {out!r}: expected an image file name ending in one of "
                         f"{', '.join('.' + f for f in sorted(formats))} (e.g. .png)")
    populations = None if args.population is None else [p.strip() for p in args.population.split(",") if p.strip()]
    for option, value, kinds in (("--shape", args.shape, ("ratemap",)), ("--probe", args.probe, ("trace",)),
                                 ("--neurons", args.neurons, ("trace",)), ("--threshold", args.threshold, ("trace",)),
                                 ("--log-x", args.log_x or None, ("isi",)), ("--unit", args.unit, ("trace",)),
                                 ("--network", args.network, ("trace",))):
        if value is not None and kind not in kinds:
            raise UsageError(f"{option} applies to --kind {' or '.join(kinds)}, not {kind}")
    result = load_result(args.result)
    from neuroport import plot  # matplotlib is heavy: imported only here

    title = args.title
    if kind == "raster":
        plot.raster(result, populations=populations, path=out, title=title or f"{args.result} ({result.backend})")
    elif kind == "rate":
        plot.population_rate(result, populations=populations, bin_width=args.bin_ms * 1e-3,
                             smooth=args.smooth_ms * 1e-3 or None, path=out, title=title)
    elif kind == "psth":
        plot.psth(result, populations=populations, bin_width=args.bin_ms * 1e-3, path=out, title=title)
    elif kind == "isi":
        plot.isi_histogram(result, populations=populations, bins=args.bins, log_x=args.log_x, path=out, title=title)
    elif kind == "ratemap":
        if populations is not None and len(populations) != 1:
            raise UsageError(f"--population: ratemap draws one population, got {len(populations)}")
        if populations is None:
            names = list(result.spikes)
            if len(names) != 1:
                raise UsageError(f"--population: ratemap draws one population; give one of "
                                 f"{', '.join(names) or '(none: the run has no spikes)'}")
            populations = names
        plot.rate_map(result, populations[0], shape=args.shape, path=out, title=title)
    else:  # trace
        probed = list(result.probes)
        if not probed:
            raise UsageError(f"{args.result}: no state was probed; run with --probe POP.VAR (e.g. --probe exc.v)")
        name = args.probe or probed[0]
        if name not in probed:
            raise UsageError(f"--probe {name!r}: not in {args.result}{did_you_mean(name, probed)}; "
                             f"probed: {', '.join(probed)}")
        pop, var = parse_probe(name)
        network = None
        if args.network is not None:
            import neuroport

            network = neuroport.read(args.network)
        plot.traces(result, population=pop, variable=var, neurons=args.neurons, threshold=args.threshold,
                    unit=args.unit, network=network, path=out, title=title)
    print(f"wrote {out}")
    return 0

"""``neuroport compare RESULT_OR_NPZ REFERENCE.npz``: a saved run against your own recorded spikes."""

from __future__ import annotations

import sys

import numpy as np

from neuroport.commands.common import check_output_path, int_range, positive_float
from neuroport.check import _json_tree
from neuroport.compare import format_rows
from neuroport.errors import InputError
from neuroport.fileutil import write_json
from neuroport.reference import compare_reference, failing_layers, parse_mapping, plot_overlay, read_reference
from neuroport.result import Result

REFERENCE_FORMAT = (
    "Reference file (.npz, numpy.savez): one array per layer, named after the layer's NIR node "
    "(neuroport info FILE lists them; a subgraph's node is block.node) or spikes__<layer>, shape "
    "(steps, n) or (steps, *shape) flattened in C order, 0/1 or spike counts per step, one sample "
    "(no batch axis); optional 'dt' (seconds, NaN = not recorded), 'v__<layer>' / 'i__<layer>' "
    "recorded states (read, not compared) and 'info' (ignored). Other array names map to layers "
    "with --layer-map FILE_NAME=LAYER; any other name is an error. See docs/compare.md."
)


def register(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare a saved run (or spikes .npz) with your own reference spikes",
        description="Compare the spikes of RESULT_OR_NPZ (a Result saved by 'neuroport run --out', or a spikes "
                    "file in the reference format) with REFERENCE.npz, layer by layer, with the criteria of "
                    "neuroport.compare (THRESHOLDS in neuroport/compare.py): the reference is judged as a float run, so a float "
                    "run must match it spike for spike, a fixed-point run within the quantization bounds, "
                    "Brian2 within +-1 step. A run of an ideal-timing graph on a pipelined backend is shifted "
                    "back by its recorded latency first (docs/timing.md). Prints a PASS/FAIL table; exit "
                    "status 1 when a layer fails. " + REFERENCE_FORMAT,
        epilog="example: neuroport run net.nir --profile snntorch --steps 80 --input x.npz --out run.npz && "
               "neuroport compare run.npz my_snntorch_spikes.npz --plot overlay.png",
    )
    p.add_argument("result", metavar="RESULT_OR_NPZ", help="a Result .npz (neuroport run --out) or a spikes .npz")
    p.add_argument("reference", metavar="REFERENCE.npz", help="your recorded spikes, one (steps, n) array per layer")
    p.add_argument("--dt", type=positive_float, default=None,
                   help="time step in seconds, when neither file records it")
    p.add_argument("--layer-map", default=None, metavar="NAME=LAYER[,...]",
                   help="reference array names -> layer names, e.g. spk1=lif1,spk2=lif2")
    p.add_argument("--reference-latency", default=None, metavar="LAYER=STEPS[,...]",
                   help="steps by which the reference's layers lag an ideal-timing run (e.g. Spyx: 1 per layer)")
    p.add_argument("--k", type=int_range(0), default=1, help="spike-matching tolerance in steps (default 1)")
    p.add_argument("--tau", type=positive_float, default=None,
                   help="van Rossum time constant in seconds (default max(10 dt, 0.01))")
    p.add_argument("--plot", default=None, metavar="PNG", help="write a raster: reference and run overlaid per layer")
    p.add_argument("--json", default=None, metavar="OUT", help="write the rows and metrics as JSON")
    p.set_defaults(func=run)


def load_run(path, *, dt=None) -> Result:
    """A Result from ``path``: a file of :meth:`Result.save_npz`, or a spikes file in the reference format."""
    try:
        with np.load(path, allow_pickle=False) as data:
            is_result = "meta/backend" in data.files
            arrays = None if is_result else {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable .npz file ({exc})") from None
    if is_result:
        result = Result.load_npz(path)
        if dt is not None and abs(dt - result.dt) > 1e-9 * result.dt:
            raise InputError(f"{path}: the run's dt is {result.dt:g} s, --dt says {dt:g} s")
        return result
    from neuroport.reference import reference_from_arrays

    names = [k[len("spikes__"):] if k.startswith("spikes__") else k for k in arrays
             if k not in ("dt", "info") and not k.startswith(("v__", "i__"))]
    sizes = {n: int(np.asarray(arrays.get(n, arrays.get(f"spikes__{n}"))).reshape(
        np.asarray(arrays.get(n, arrays.get(f"spikes__{n}"))).shape[0], -1).shape[1]) for n in names}
    run = reference_from_arrays(arrays, populations=sizes, dt=dt, source=str(path))
    run.backend = "spikes"
    return run


def run(args) -> int:
    check_output_path(args.plot, "--plot")
    check_output_path(args.json, "--json")
    rename = parse_mapping(args.layer_map, "--layer-map")
    latency = parse_mapping(args.reference_latency, "--reference-latency", integer=True)
    result = load_run(args.result, dt=args.dt)
    sizes = {n: t.size for n, t in result.spikes.items()}
    inputs = result.meta.get("inputs") or []
    ref = read_reference(args.reference, populations=sizes, inputs=inputs, dt=args.dt or result.dt,
                         rename=rename, latency=latency)
    report, rows = compare_reference(ref, result, k=args.k, tau=args.tau)
    print(report)
    print(format_rows(rows))
    if ref.meta.get("reference_states"):
        print(f"note: recorded states not compared: {', '.join(ref.meta['reference_states'])}")
    if args.plot:
        plot_overlay(ref, result, args.plot, title=f"{args.reference} vs {args.result} ({result.backend})")
        print(f"wrote {args.plot}")
    if args.json:
        write_json(args.json, _json_tree({"rows": rows, "report": report.to_dict()}))
        print(f"wrote {args.json}")
    failed = failing_layers(rows)
    if failed:
        print(f"FAIL: {'; '.join(failed)}")
        print(f"neuroport compare: FAILED: {'; '.join(failed)}", file=sys.stderr)
        return 1
    print("PASS")
    sys.stdout.flush()
    return 0

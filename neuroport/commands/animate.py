"""``neuroport animate NETWORK.nir RESULT.npz --out run.gif``: the network lit by its spikes, over a run."""

from __future__ import annotations

import argparse
import math
import os

import neuroport
from neuroport.commands.common import SEED, check_output_path, float_above, int_range, load_result
from neuroport.errors import UsageError

ANIMATIONS = (".gif", ".mp4")
STILLS = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


def _times_ms(text: str):
    """``--times 50,150,290`` -> a list of times in ms."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated times in ms, e.g. 50,150,290; got {text!r}") \
            from None
    if not values or not all(math.isfinite(v) and v >= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated times in ms >= 0, e.g. 50,150,290; got {text!r}")
    return values


def register(sub) -> None:
    p = sub.add_parser(
        "animate", help="draw a network lit by the spikes of a saved run (GIF, MP4 or a still PNG)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Draw the network of NETWORK.nir as neurons and a sample of its synapses, each neuron coloured\n"
            "and sized by its spikes in the --window-ms before each time, from RESULT.npz (written by\n"
            "'neuroport run NETWORK.nir ... --out RESULT.npz'). Layout: feed-forward layers as columns,\n"
            "a ring network as a ring, populations with a 2-D shape (conv maps) as sheets.\n"
            "--out X.gif or X.mp4 writes an animation (MP4 needs ffmpeg on PATH); --out X.png (or .svg,\n"
            ".pdf) writes the network at each of --times side by side."),
        epilog=("examples:\n"
                "  neuroport run net.nir --dt 1e-3 --steps 500 --input poisson:rate=20 --out run.npz\n"
                "  neuroport animate net.nir run.npz --out run.gif --fps 15 --window-ms 20\n"
                "  neuroport animate net.nir run.npz --out run.png --times 100,250,490"),
    )
    p.add_argument("network", metavar="NETWORK.nir", help="the .nir file that was run")
    p.add_argument("result", metavar="RESULT.npz", help="the .npz file 'neuroport run --out' wrote for it")
    p.add_argument("--out", required=True,
                   help="output file: .gif or .mp4 (animation), .png/.svg/.pdf (still, one panel per time)")
    p.add_argument("--fps", type=float_above(0.0, inclusive=False), default=10.0,
                   help="animation frames per second (default 10)")
    p.add_argument("--window-ms", type=float_above(0.0, inclusive=False), default=10.0,
                   help="spikes are counted in this many ms up to each time (default 10)")
    p.add_argument("--times", type=_times_ms, default=None, metavar="MS[,MS...]",
                   help="times in ms: the panels of a still (default 4 evenly spaced), or the frames of an "
                        "animation (default --frames evenly spaced)")
    p.add_argument("--frames", type=int_range(1, 10_000), default=None,
                   help="animation frames, evenly spaced over the run (default one per window, at most 200)")
    p.add_argument("--max-edges", type=int_range(0), default=2000,
                   help="draw at most this many synapses, a seeded uniform sample (default 2000; 0: none)")
    p.add_argument("--layout", choices=("auto", "columns", "ring"), default="auto",
                   help="auto (default): a ring when the last layer feeds the first, else columns")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the synapse sample")
    p.add_argument("--no-progress", action="store_true", help="no progress bar over frames")
    p.set_defaults(func=run)


def run(args) -> int:
    ext = os.path.splitext(args.out)[1].lower()
    if ext not in ANIMATIONS + STILLS:
        raise UsageError(f"--out {args.out!r}: expected a .gif or .mp4 (animation) or .png, .svg, .pdf (still)")
    check_output_path(args.out, "--out")
    if ext in STILLS and args.frames is not None:
        raise UsageError("--frames applies to animations (.gif, .mp4); a still takes --times")
    if args.times is not None and args.frames is not None:
        raise UsageError("--times and --frames: give one of them")
    graph = neuroport.read(args.network)
    result = load_result(args.result)
    end_ms = (result.num_steps - 1) * result.dt * 1e3
    if args.times is not None:
        late = [t for t in args.times if t > end_ms + 0.5 * result.dt * 1e3]
        if late:
            raise UsageError(f"--times {late[0]:g}: outside the run of {args.result} (0 to {end_ms:g} ms)")
    times = None if args.times is None else [t * 1e-3 for t in args.times]
    window = args.window_ms * 1e-3
    from neuroport import activity  # matplotlib is heavy: imported only here

    common = dict(window=window, max_edges=args.max_edges, layout_kind=args.layout, seed=args.seed)
    if ext in STILLS:
        activity.network_activity(result, graph, times=times, path=args.out,
                                  title=f"{os.path.basename(args.network)} on {result.backend}", **common)
    else:
        activity.animate(result, graph, args.out, fps=args.fps, frames=args.frames, times=times,
                         progress=False if args.no_progress else None,
                         title=f"{os.path.basename(args.network)} on {result.backend}", **common)
    print(f"wrote {args.out}")
    return 0

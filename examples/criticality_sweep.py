"""Criticality sweep of the E/I networks over their weight scale, run with ``neuroport.sweep``.

    .venv/bin/python examples/criticality_sweep.py [--out examples_output] [--steps 600] [--seeds 3]
        [--scales 19] [--workers N] [--cache DIR] [--frames 60]

Three measures, each against the weight scale (``--scales`` of the 19
scales 0.5, 0.75, ..., 5 x ``--seeds`` networks x three conditions: one sweep
of ``neuroport.sweep``, on a local Dask cluster of ``--workers`` processes, or
serially with ``--workers 0``):

* the layer branching ratio ``sigma``: with a steady Poisson drive into
  layer 0 of the *layered* network, the geometric mean over layers of
  ``rate(e_{k+1}) / rate(e_k)``. ``sigma < 1``: activity dies out along the
  layers (sub-critical); ``sigma ~ 1``: it propagates unchanged (critical);
  ``sigma > 1``: it grows to runaway excitation (super-critical);
* persistence in the *ring* network: the mean rate after a 60 ms burst
  (zero when sub-critical, self-sustained runaway when super-critical);
* avalanches in the layered network under a sparse drive (5 Hz per input):
  sizes of runs of consecutive non-empty 1 ms bins, whose distribution
  broadens towards a power law near the critical point.

The table of every run (``weight_scale``, ``seed``, ``condition``, the
measures, the time-step branching ratio of ``neuroport.sweep``'s
``branching`` metric, status) is written to ``criticality_sweep.csv``;
``--cache DIR`` keeps finished runs, so an interrupted sweep resumes.

Writes ``criticality_sweep.png`` (branching ratio and mean rate against weight
scale, and avalanche-size distributions), and for three runs of the layered
network under steady drive -- sub-critical (the smallest scale), near critical
(the scale whose branching ratio is closest to 1) and super-critical (the
largest scale) -- ``criticality_rasters.png`` (one raster each, side by side),
``criticality_activity.png`` (``neuroport.activity.side_by_side``: the network
lit by its spikes in the 25 ms before 4 times, one column per regime, one
colour scale) and ``criticality_activity_critical.gif`` (the near-critical run,
``--frames`` frames).

Run time, measured on this project's busy 2-core machine: ``--steps 300
--seeds 1 --scales 7 --workers 0`` (21 runs) took 62 s and 71 s (two runs), the sweep
22 s of it and the pictures and GIF most of the rest; a run costs about 1 s per
300 steps, so the full default sweep (171 runs of 600 steps) is some 6
minutes serially (an estimate, not measured), less on ``--workers 2``.
"""

import argparse
import functools
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import neuroport
from neuroport import activity, encoders, plot
from neuroport.fileutil import atomic_target
from neuroport.models.networks.ei import ei_network

DT, DRIVE_STEPS, N_INPUT, N_NEURONS = 1e-3, 60, 50, 800
WINDOW = 25e-3  # s: spikes counted before each time of the network-activity pictures (spans a volley)
SCALES = np.round(np.arange(0.5, 5.01, 0.25), 2)
#: condition -> (topology, input rate per channel in Hz, input seed, steps of drive or None for the whole run)
CONDITIONS = {"steady": ("layered", 20.0, 1, None), "burst": ("ring", 80.0, 2, DRIVE_STEPS),
              "sparse": ("layered", 5.0, 3, None)}


def drive(condition, steps):
    """Poisson input of one condition, shape (steps, N_INPUT)."""
    _topology, rate, seed, until = CONDITIONS[condition]
    x = encoders.poisson(np.full(N_INPUT, rate), steps=steps, dt=DT, seed=seed)
    if until is not None:
        x[until:] = 0
    return x


def build(weight_scale, seed, condition, steps):
    """The network and input of one run (what neuroport.sweep calls with each grid point)."""
    net = ei_network(topology=CONDITIONS[condition][0], weight_scale=float(weight_scale), seed=seed)
    return net, drive(condition, steps)


def total_activity(result):
    """Total spikes per step over all neuron populations, shape (steps,)."""
    total = np.zeros(result.num_steps)
    for name, train in result.spikes.items():
        if name != "input":
            total += np.bincount(train.steps, minlength=result.num_steps)
    return total


def layer_branching(result, n_layers=4):
    rates = np.array([result.spikes[f"e{k}"].count for k in range(n_layers)], dtype=float)
    ratios = rates[1:] / np.maximum(rates[:-1], 1.0)
    return float(np.exp(np.mean(np.log(np.maximum(ratios, 1e-3)))))


def avalanches(a):
    sizes, current = [], 0
    for x in a:
        if x > 0:
            current += x
        elif current:
            sizes.append(current)
            current = 0
    return sizes


def measures(result):
    """The three measures of one run (each is read only for its condition): a metric of neuroport.sweep."""
    a = total_activity(result)
    return {"layer_sigma": layer_branching(result),
            "rate_after_burst": float(a[DRIVE_STEPS:].sum() / (N_NEURONS * (result.num_steps - DRIVE_STEPS) * DT)),
            "avalanche_sizes": [int(v) for v in avalanches(a)]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="examples_output")
    parser.add_argument("--steps", type=int, default=600, help="1 ms steps per run")
    parser.add_argument("--seeds", type=int, default=3, help="networks per weight scale")
    parser.add_argument("--workers", type=int, default=None,
                        help="Dask worker processes (default: CPU count; 0: serially in this process)")
    parser.add_argument("--cache", default=None, help="folder keeping finished runs (resume an interrupted sweep)")
    parser.add_argument("--frames", type=int, default=60, help="frames of the network-activity GIF")
    parser.add_argument("--scales", type=int, default=len(SCALES),
                        help=f"weight scales swept, evenly picked from the {len(SCALES)} of 0.5 to 5 (a quick look: 7)")
    args = parser.parse_args()
    if args.steps <= DRIVE_STEPS:
        parser.error(f"--steps: expected more than the {DRIVE_STEPS} steps of the burst, got {args.steps}")
    os.makedirs(args.out, exist_ok=True)

    if not 2 <= args.scales <= len(SCALES):
        parser.error(f"--scales: expected 2 to {len(SCALES)}, got {args.scales}")
    scales = SCALES[np.unique(np.round(np.linspace(0, len(SCALES) - 1, args.scales)).astype(int))]
    grid = {"weight_scale": [float(s) for s in scales], "seed": list(range(args.seeds)),
            "condition": list(CONDITIONS)}
    table = neuroport.sweep(functools.partial(build, steps=args.steps), grid, steps=args.steps, dt=DT, metrics=["rate", "branching", measures],
                            workers=args.workers, cache=args.cache)
    failed = table[table["status"] != "ok"]
    for _, row in failed.iterrows():
        print(f"weight scale {row.weight_scale}, seed {row.seed}, {row.condition}: {row.error}")
    path = os.path.join(args.out, "criticality_sweep.csv")
    with atomic_target(path, suffix=".csv.tmp") as tmp:
        table.drop(columns=["avalanche_sizes"]).to_csv(tmp, index=False)
    print(f"wrote {path}")

    ok = table[table["status"] == "ok"]
    sigma, rate, sizes = [], [], {}
    for scale in scales:
        at = ok[ok["weight_scale"] == scale]
        sigma.append(at.loc[at["condition"] == "steady", "layer_sigma"].mean())
        rate.append(at.loc[at["condition"] == "burst", "rate_after_burst"].mean())
        sizes[scale] = [v for row in at.loc[at["condition"] == "sparse", "avalanche_sizes"] for v in row]
        print(f"weight scale {scale:4.2f}: layer branching ratio {sigma[-1]:.3f}, ring rate after burst "
              f"{rate[-1]:.2f} Hz, {len(sizes[scale])} avalanches")
    plots(args, scales, np.array(sigma), np.array(rate), sizes)


def plots(args, scales, sigma, rate, sizes):
    sigma = np.array(sigma)
    critical = scales[np.nanargmin(np.abs(sigma - 1.0))]
    fig = Figure(figsize=(11, 4))
    ax = fig.add_subplot(131)
    ax.plot(scales, sigma, "o-")
    ax.axhline(1.0, color="k", ls="--", lw=1)
    ax.axvline(critical, color="tab:red", ls=":", lw=1, label=f"sigma closest to 1 at {critical}")
    ax.set_xlabel("weight scale")
    ax.set_ylabel("layer branching ratio sigma")
    ax.set_title("layered E/I network, steady drive")
    ax.legend(fontsize=8)
    bx = fig.add_subplot(132)
    bx.semilogy(scales, np.maximum(rate, 1e-3), "o-")
    bx.set_xlabel("weight scale")
    bx.set_ylabel("mean rate after the burst (Hz)")
    bx.set_title("ring E/I network after a 60 ms burst")
    cx = fig.add_subplot(133)
    for scale in (scales[0], critical, scales[-1]):
        sz = np.array(sizes[scale])
        if sz.size:
            edges = np.unique(np.logspace(0, np.log10(sz.max() + 1), 15).astype(int))
            hist, edges = np.histogram(sz, bins=edges, density=True)
            centers = np.sqrt(edges[:-1] * edges[1:])
            keep = hist > 0
            cx.loglog(centers[keep], hist[keep], "o-", ms=3, label=f"scale {scale} ({sz.size} avalanches)")
    cx.set_xlabel("avalanche size (spikes)")
    cx.set_ylabel("P(size)")
    cx.set_title("layered, sparse drive: avalanche sizes")
    cx.legend(fontsize=8)
    FigureCanvasAgg(fig)
    fig.tight_layout()
    path = os.path.join(args.out, "criticality_sweep.png")
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")

    regimes = {"sub-critical": scales[0], "near critical": critical, "super-critical": scales[-1]}
    runs = {}
    for label, scale in regimes.items():
        net, spikes_in = build(scale, 0, "steady", args.steps)
        runs[f"{label} (weight scale {scale:g})"] = (net, neuroport.run(net, dt=DT, steps=args.steps,
                                                                       inputs=spikes_in, progress=False))
    fig = Figure(figsize=(15, 6))
    FigureCanvasAgg(fig)
    for k, (label, (net, res)) in enumerate(runs.items()):
        plot.raster(res, ax=fig.add_subplot(1, 3, k + 1), title=f"layered, {label}")
    fig.tight_layout()
    print(f"wrote {plot.save(fig, os.path.join(args.out, 'criticality_rasters.png'))}")

    # the same three runs as the network lit by its spikes: columns e0, i0, e1, ... left to right
    times = np.linspace(0.05, (args.steps - 1) * DT, 4).round(3)
    vmax = 3.0 / WINDOW  # 3 spikes in the window: one colour scale for every panel and the GIF
    path = os.path.join(args.out, "criticality_activity.png")
    activity.side_by_side(runs, times=times, window=WINDOW, vmax=vmax, max_edges=1500, path=path,
                          title="layered E/I network under steady 20 Hz drive into layer 0 "
                                "(inputs left, then e0, i0, e1, i1, ...)")
    print(f"wrote {path}")
    label, (net, res) = list(runs.items())[1]
    path = os.path.join(args.out, "criticality_activity_critical.gif")
    activity.animate(res, net, path, fps=12, window=WINDOW, frames=args.frames, max_edges=1500, vmax=vmax,
                     title=f"layered E/I, {label}")
    print(f"wrote {path}")


if __name__ == "__main__":  # Dask's worker processes import this file: the sweep runs only here
    main()

"""Criticality sweep of the E/I networks over their weight scale, run with ``neuroport.sweep``.

    .venv/bin/python examples/criticality_sweep.py [--out examples_output] [--steps 600] [--seeds 3]
        [--workers N] [--cache DIR]

Three measures, each against the weight scale (19 scales x ``--seeds``
networks x three conditions: one sweep of ``neuroport.sweep``, on a local
Dask cluster of ``--workers`` processes, or serially with ``--workers 0``):

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
scale, and avalanche-size distributions) and ``criticality_rasters.png``
(the layered network under steady drive, one raster per regime).
"""

import argparse
import functools
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import neuroport
from neuroport import encoders
from neuroport.fileutil import atomic_target
from neuroport.models.networks.ei import ei_network

DT, DRIVE_STEPS, N_INPUT, N_NEURONS = 1e-3, 60, 50, 800
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


def activity(result):
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
    a = activity(result)
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
    args = parser.parse_args()
    if args.steps <= DRIVE_STEPS:
        parser.error(f"--steps: expected more than the {DRIVE_STEPS} steps of the burst, got {args.steps}")
    os.makedirs(args.out, exist_ok=True)

    grid = {"weight_scale": [float(s) for s in SCALES], "seed": list(range(args.seeds)),
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
    for scale in SCALES:
        at = ok[ok["weight_scale"] == scale]
        sigma.append(at.loc[at["condition"] == "steady", "layer_sigma"].mean())
        rate.append(at.loc[at["condition"] == "burst", "rate_after_burst"].mean())
        sizes[scale] = [v for row in at.loc[at["condition"] == "sparse", "avalanche_sizes"] for v in row]
        print(f"weight scale {scale:4.2f}: layer branching ratio {sigma[-1]:.3f}, ring rate after burst "
              f"{rate[-1]:.2f} Hz, {len(sizes[scale])} avalanches")
    plots(args, np.array(sigma), np.array(rate), sizes)


def plots(args, sigma, rate, sizes):
    scales = SCALES
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
    fig = Figure(figsize=(12, 5))
    for k, (label, scale) in enumerate(regimes.items()):
        ax = fig.add_subplot(1, 3, k + 1)
        net, spikes_in = build(scale, 0, "steady", args.steps)
        res = neuroport.run(net, dt=DT, steps=args.steps, inputs=spikes_in, progress=False)
        offset = 0
        for name, train in res.spikes.items():
            color = "gray" if name == "input" else ("tab:blue" if name.startswith("e") else "tab:red")
            ax.plot(train.steps * DT * 1e3, train.neurons + offset, "|", ms=2, color=color)
            offset += train.size
        ax.set_title(f"layered, {label} (weight scale {scale})")
        ax.set_xlabel("time (ms)")
        ax.set_ylabel("neuron (input gray, then e0 blue, i0 red, e1, ...)")
    FigureCanvasAgg(fig)
    fig.tight_layout()
    path = os.path.join(args.out, "criticality_rasters.png")
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":  # Dask's worker processes import this file: the sweep runs only here
    main()

"""Criticality sweep of the layered E/I network over its weight scale.

    .venv/bin/python examples/criticality_sweep.py [--out examples_output] [--topology layered|ring]

Two measures, each against the weight scale:

* the layer branching ratio ``sigma``: with a steady Poisson drive into
  layer 0 of the *layered* network, the geometric mean over layers of
  ``rate(e_{k+1}) / rate(e_k)``. ``sigma < 1``: activity dies out along the
  layers (sub-critical); ``sigma ~ 1``: it propagates unchanged (critical);
  ``sigma > 1``: it grows to runaway excitation (super-critical);
* persistence in the *ring* network: the mean rate after a 60 ms burst
  (zero when sub-critical, self-sustained runaway when super-critical);
* avalanches in the layered network under a sparse drive (2 Hz per input):
  sizes of runs of consecutive non-empty 1 ms bins, whose distribution
  broadens towards a power law near the critical point.

Writes ``criticality_sweep.png`` (branching ratio and mean rate against weight
scale, and avalanche-size distributions) and ``criticality_rasters.png``
(the layered network under steady drive, one raster per regime).
"""

import argparse
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import neuroport
from neuroport import encoders
from neuroport.models.networks.ei import ei_network

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="examples_output")
parser.add_argument("--steps", type=int, default=600, help="1 ms steps per run")
parser.add_argument("--seeds", type=int, default=3, help="networks per weight scale")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

DT, DRIVE_STEPS = 1e-3, 60
scales = np.round(np.arange(0.5, 5.01, 0.25), 2)


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


steady = encoders.poisson(np.full(50, 20.0), steps=args.steps, dt=DT, seed=1)
burst = encoders.poisson(np.full(50, 80.0), steps=args.steps, dt=DT, seed=2)
burst[DRIVE_STEPS:] = 0
sparse = encoders.poisson(np.full(50, 5.0), steps=args.steps, dt=DT, seed=3)
sigma, rate, sizes, examples = [], [], {}, {}
for scale in scales:
    s_vals, r_vals, all_sizes = [], [], []
    for seed in range(args.seeds):
        layered = ei_network(topology="layered", weight_scale=float(scale), seed=seed)
        steady_run = neuroport.run(layered, dt=DT, steps=args.steps, inputs=steady, progress=False)
        s_vals.append(layer_branching(steady_run))
        ring = ei_network(topology="ring", weight_scale=float(scale), seed=seed)
        res = neuroport.run(ring, dt=DT, steps=args.steps, inputs=burst, progress=False)
        a = activity(res)
        all_sizes += avalanches(activity(neuroport.run(layered, dt=DT, steps=args.steps, inputs=sparse,
                                                       progress=False)))
        r_vals.append(a[DRIVE_STEPS:].sum() / (800 * (args.steps - DRIVE_STEPS) * DT))
        if seed == 0:
            examples[scale] = steady_run
    sigma.append(np.nanmean(s_vals))
    rate.append(np.mean(r_vals))
    sizes[scale] = all_sizes
    print(f"weight scale {scale:4.2f}: layer branching ratio {sigma[-1]:.3f}, ring rate after burst "
          f"{rate[-1]:.2f} Hz, {len(all_sizes)} avalanches")

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
    res = examples[scale]
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
